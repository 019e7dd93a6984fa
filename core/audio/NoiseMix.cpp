#include "core/audio/NoiseMix.h"

#include "core/audio/SilenceTrim.h"
#include "core/common/Error.h"

#include <algorithm>
#include <cmath>

namespace xopd::audio {

NoiseMix mixAtSnr(const AudioClip& speech, const AudioClip& noise, double snr_db) {
    XOPD_CHECK(std::isfinite(snr_db), "noise at SNR: the SNR must be a finite number of dB");
    XOPD_CHECK(!speech.empty() && speech.sample_rate > 0, "noise at SNR: the speech clip is empty");
    XOPD_CHECK(noise.sample_rate == speech.sample_rate,
               "noise at SNR: noise at " << noise.sample_rate << " Hz, speech at " << speech.sample_rate << " Hz");
    XOPD_CHECK(noise.frames() >= speech.frames(),
               "noise at SNR: " << noise.frames() << " frames of noise for " << speech.frames() << " of speech");
    const SpeechBounds bounds = findSpeechBounds(speech);
    NoiseMix m;
    m.active_begin = bounds.found ? bounds.begin : 0;
    m.active_end = bounds.found ? bounds.end : std::int64_t(speech.frames());
    double ps = 0, pn = 0;
    for (std::int64_t i = m.active_begin; i < m.active_end; ++i) {
        ps += double(speech.samples[size_t(i)]) * speech.samples[size_t(i)];
        pn += double(noise.samples[size_t(i)]) * noise.samples[size_t(i)];
    }
    XOPD_CHECK(ps > 0, "noise at SNR: the speech is digitally silent, so no SNR can be set against it");
    XOPD_CHECK(pn > 0, "noise at SNR: the noise is digitally silent over the speech");
    m.noise_gain = std::sqrt(ps / (pn * std::pow(10.0, snr_db / 10.0)));
    m.mixed.sample_rate = speech.sample_rate;
    m.mixed.samples.resize(speech.frames());
    double peak = 0;
    for (size_t i = 0; i < speech.frames(); ++i) {
        const double x = double(speech.samples[i]) + m.noise_gain * double(noise.samples[i]);
        m.mixed.samples[i] = float(x);
        peak = std::max(peak, std::fabs(x));
    }
    if (peak >= 1.0) {
        m.mix_gain = 0.99 / peak;
        for (float& x : m.mixed.samples) x = float(double(x) * m.mix_gain);
    }
    return m;
}

}  // namespace xopd::audio
