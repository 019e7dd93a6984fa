#pragma once
// AudioClip: the one audio value type of the core. Mono float32 samples in [-1, 1] (values
// outside are allowed and only clipped when written to an integer format) and their sample rate.
// Torch-free: the GUI uses it. A plain value: copyable, movable, no shared state, no threads.

#include <cstddef>
#include <string>
#include <vector>

namespace xopd::audio {

/// Mono float32 audio at a sample rate.
struct AudioClip {
    /// The samples, one per frame (mono). Nominal range [-1, 1].
    std::vector<float> samples;
    /// Samples per second; 0 only for a default-constructed (invalid) clip.
    int sample_rate = 0;

    /// Number of frames (== samples.size()).
    std::size_t frames() const { return samples.size(); }
    /// Duration in seconds (0 when sample_rate is 0).
    double durationSeconds() const {
        return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0;
    }
    /// True when there are no samples.
    bool empty() const { return samples.empty(); }
};

/// Formats a duration as H:MM:SS.mmm (e.g. "0:00:01.250") for messages and `audio info`.
std::string formatDuration(double seconds);

}  // namespace xopd::audio
