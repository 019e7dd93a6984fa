#include "core/audio/Resampler.h"

#include "core/common/Error.h"

#include <soxr.h>

#include <cmath>

namespace xopd::audio {

std::vector<float> resample(const std::vector<float>& samples, int from_rate, int to_rate) {
    XOPD_CHECK(from_rate > 0 && to_rate > 0,
               "resample: sample rates must be positive (got " << from_rate << " -> " << to_rate << ")");
    if (from_rate == to_rate || samples.empty()) {
        if (from_rate == to_rate) return samples;
        return {};
    }
    const auto out_len = static_cast<size_t>(
        std::llround(static_cast<double>(samples.size()) * to_rate / from_rate));
    std::vector<float> out(out_len);
    if (out_len == 0) return out;
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    size_t done = 0;
    const soxr_error_t err = soxr_oneshot(from_rate, to_rate, 1, samples.data(), samples.size(), nullptr,
                                          out.data(), out_len, &done, &io, &quality, nullptr);
    XOPD_CHECK(!err, "resample " << from_rate << " -> " << to_rate << " Hz failed: " << err);
    out.resize(done);
    out.resize(out_len, 0.0f);  // soxr may deliver a sample short at the very end; pad with silence
    return out;
}

AudioClip resampled(const AudioClip& clip, int rate) {
    XOPD_CHECK(clip.sample_rate > 0, "resample: the clip has no sample rate");
    return AudioClip{resample(clip.samples, clip.sample_rate, rate), rate};
}

}  // namespace xopd::audio
