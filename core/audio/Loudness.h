#pragma once
// Loudness per EBU R128 / ITU-R BS.1770-4 through libebur128: integrated loudness (LUFS, gated),
// sample peak and true peak (4x oversampled); gain in dB and loudness normalisation.
// Torch-free. Thread-safe: each call has its own libebur128 state.

#include "core/audio/AudioClip.h"

namespace xopd::audio {

/// Loudness facts of a clip.
struct LoudnessReport {
    /// Gated integrated loudness in LUFS; -infinity for silence or clips under 400 ms.
    double integrated_lufs = 0.0;
    /// Largest |sample|, as a linear value (1.0 = full scale).
    double sample_peak = 0.0;
    /// True (inter-sample) peak estimate, linear.
    double true_peak = 0.0;

    /// 20 log10(sample_peak); -infinity for silence.
    double samplePeakDbfs() const;
    /// 20 log10(true_peak) (dBTP); -infinity for silence.
    double truePeakDbtp() const;
};

/// Measures the clip. Throws xopd::Error on an invalid clip (rate <= 0) or a libebur128 failure.
LoudnessReport measureLoudness(const AudioClip& clip);

/// Multiplies every sample by 10^(gain_db/20). Samples may leave [-1, 1]; writers clip.
void applyGainDb(AudioClip& clip, double gain_db);

/// Applies the gain that brings the integrated loudness to target_lufs and returns that gain in
/// dB. Throws xopd::Error when the clip has no measurable loudness (silence, shorter than 400 ms).
double normalizeLoudness(AudioClip& clip, double target_lufs);

}  // namespace xopd::audio
