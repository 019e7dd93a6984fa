#include "core/audio/Loudness.h"

#include "core/common/Error.h"

#include <ebur128.h>

#include <cmath>
#include <limits>
#include <memory>

namespace xopd::audio {
namespace {

struct StateDeleter {
    void operator()(ebur128_state* s) const { ebur128_destroy(&s); }
};

double toDb(double linear) {
    return linear > 0 ? 20.0 * std::log10(linear) : -std::numeric_limits<double>::infinity();
}

}  // namespace

double LoudnessReport::samplePeakDbfs() const { return toDb(sample_peak); }
double LoudnessReport::truePeakDbtp() const { return toDb(true_peak); }

LoudnessReport measureLoudness(const AudioClip& clip) {
    XOPD_CHECK(clip.sample_rate > 0, "loudness: the clip has no sample rate");
    std::unique_ptr<ebur128_state, StateDeleter> st(
        ebur128_init(1, static_cast<unsigned long>(clip.sample_rate),
                     EBUR128_MODE_I | EBUR128_MODE_SAMPLE_PEAK | EBUR128_MODE_TRUE_PEAK));
    XOPD_CHECK(st, "loudness: libebur128 cannot measure at " << clip.sample_rate << " Hz");
    LoudnessReport r;
    if (!clip.samples.empty()) {
        XOPD_CHECK(ebur128_add_frames_float(st.get(), clip.samples.data(), clip.samples.size()) == EBUR128_SUCCESS,
                   "loudness: libebur128 rejected the samples");
    }
    double lufs = 0;
    XOPD_CHECK(ebur128_loudness_global(st.get(), &lufs) == EBUR128_SUCCESS, "loudness: no integrated loudness");
    r.integrated_lufs = std::isfinite(lufs) ? lufs : -std::numeric_limits<double>::infinity();
    XOPD_CHECK(ebur128_sample_peak(st.get(), 0, &r.sample_peak) == EBUR128_SUCCESS, "loudness: no sample peak");
    XOPD_CHECK(ebur128_true_peak(st.get(), 0, &r.true_peak) == EBUR128_SUCCESS, "loudness: no true peak");
    return r;
}

void applyGainDb(AudioClip& clip, double gain_db) {
    XOPD_CHECK(std::isfinite(gain_db), "gain must be a finite number of dB (got " << gain_db << ")");
    const auto g = static_cast<float>(std::pow(10.0, gain_db / 20.0));
    for (float& v : clip.samples) v *= g;
}

double normalizeLoudness(AudioClip& clip, double target_lufs) {
    XOPD_CHECK(std::isfinite(target_lufs) && target_lufs < 0 && target_lufs > -70,
               "loudness target must be between -70 and 0 LUFS (got " << target_lufs << ")");
    const LoudnessReport r = measureLoudness(clip);
    XOPD_CHECK(std::isfinite(r.integrated_lufs),
               "cannot normalise loudness: the clip is silent or shorter than 400 ms");
    const double gain = target_lufs - r.integrated_lufs;
    applyGainDb(clip, gain);
    return gain;
}

}  // namespace xopd::audio
