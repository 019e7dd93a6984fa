#pragma once
// Sample-rate conversion with libsoxr (SOXR_HQ: 20-bit precision, ~96 dB stop band, linear phase).
// Torch-free. Thread-safe: every call builds its own soxr state; no shared state.

#include "core/audio/AudioClip.h"

#include <vector>

namespace xopd::audio {

/// Resamples mono samples from from_rate to to_rate Hz. Returns a copy when the rates are equal.
/// The output has round(n * to_rate / from_rate) samples. Throws xopd::Error on a rate <= 0 or a
/// soxr failure.
std::vector<float> resample(const std::vector<float>& samples, int from_rate, int to_rate);

/// The clip converted to `rate` Hz (a copy when it already is).
AudioClip resampled(const AudioClip& clip, int rate);

}  // namespace xopd::audio
