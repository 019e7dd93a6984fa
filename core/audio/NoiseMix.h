#pragma once
// Additive noise at a chosen signal-to-noise ratio.
//
//   const AudioClip noise = makeNoise(NoiseColor::White, speech.frames(), speech.sample_rate, seed);
//   const NoiseMix m = mixAtSnr(speech, noise, /*snr_db=*/10);   // m.mixed = speech + m.noise_gain * noise
//
// SNR definition (the one the tests check and the README states): over the speech's active part
// A = [begin, end), the samples findSpeechBounds (core/audio/SilenceTrim.h, default options: 20 ms
// frames more than 15 dB above the clip's own noise floor, plus 100 ms of pad) returns for the clean
// speech (the whole clip when it finds no speech),
//
//     SNR_dB = 10 log10( sum_{i in A} s_i^2 / sum_{i in A} (g n_i)^2 )
//
// where s is the clean speech and g n the scaled noise actually added. g is solved for exactly
// (g = sqrt(P_s / (P_n 10^(SNR/10)))). The noise covers the whole clip, silences included, so
// leading and trailing silence do not dilute the speech's power. When the mix would exceed full
// scale (|x| >= 1) the whole mix is scaled down to a peak of 0.99 (`mix_gain` < 1): speech and noise
// by the same factor, so the SNR is unchanged.
//
// Throws xopd::Error when rates differ, the noise is shorter than the speech, the SNR is not finite,
// or the active part of the speech (or the noise over it) is digitally silent. Torch-free; pure.

#include "core/audio/AudioClip.h"

#include <cstdint>

namespace xopd::audio {

/// The result of mixAtSnr.
struct NoiseMix {
    /// mix_gain * (speech + noise_gain * noise), as long as the speech.
    AudioClip mixed;
    /// The factor applied to the noise so that the SNR over the active part is the one asked for.
    double noise_gain = 0;
    /// 1, or the factor that kept the mix below full scale.
    double mix_gain = 1;
    /// The active part [begin, end) in samples over which the powers were measured.
    std::int64_t active_begin = 0, active_end = 0;
};

/// speech + g * noise[0, speech.frames()) at `snr_db` (see the header comment).
NoiseMix mixAtSnr(const AudioClip& speech, const AudioClip& noise, double snr_db);

}  // namespace xopd::audio
