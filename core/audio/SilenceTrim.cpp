#include "core/audio/SilenceTrim.h"

#include "core/common/Error.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace xopd::audio {

SpeechBounds findSpeechBounds(const AudioClip& clip, const SilenceTrimOptions& o) {
    XOPD_CHECK(o.frame_ms > 0 && o.pad_ms >= 0 && o.floor_percentile >= 0 && o.floor_percentile <= 100,
               "silence trim: frame_ms must be > 0, pad_ms >= 0 and floor_percentile in [0, 100]");
    const int64_t n = int64_t(clip.samples.size());
    SpeechBounds b;
    b.end = n;
    if (clip.sample_rate <= 0 || n == 0) return b;
    const int64_t frame = std::max<int64_t>(1, std::llround(clip.sample_rate * o.frame_ms / 1000.0));
    const int64_t frames = n / frame;  // a last partial frame is not measured
    if (frames == 0) return b;
    std::vector<double> level(static_cast<size_t>(frames));
    for (int64_t f = 0; f < frames; ++f) {
        double sum = 0;
        for (int64_t i = f * frame; i < (f + 1) * frame; ++i) sum += double(clip.samples[size_t(i)]) * clip.samples[size_t(i)];
        level[size_t(f)] = 10.0 * std::log10(std::max(sum / double(frame), 1e-20));
    }
    std::vector<double> sorted = level;
    const auto k = size_t(std::lround(o.floor_percentile / 100.0 * double(frames - 1)));
    std::nth_element(sorted.begin(), sorted.begin() + long(k), sorted.end());
    b.floor_dbfs = sorted[k];
    b.threshold_dbfs = std::max(b.floor_dbfs + o.margin_db, o.min_threshold_dbfs);
    int64_t first = -1, last = -1;
    for (int64_t f = 0; f < frames; ++f)
        if (level[size_t(f)] > b.threshold_dbfs) {
            if (first < 0) first = f;
            last = f;
        }
    if (first < 0) return b;
    const int64_t pad = std::llround(clip.sample_rate * o.pad_ms / 1000.0);
    b.found = true;
    b.begin = std::max<int64_t>(0, first * frame - pad);
    b.end = std::min<int64_t>(n, (last + 1) * frame + pad);
    return b;
}

AudioClip trimSilence(const AudioClip& clip, const SilenceTrimOptions& options) {
    const SpeechBounds b = findSpeechBounds(clip, options);
    AudioClip out;
    out.sample_rate = clip.sample_rate;
    out.samples.assign(clip.samples.begin() + b.begin, clip.samples.begin() + b.end);
    return out;
}

}  // namespace xopd::audio
