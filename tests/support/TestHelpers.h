#pragma once
// Small helpers that several test files need, kept once: the message of a thrown xopd::Error, the
// RMS of a signal, the raw bytes of a safetensors file, and the toy-model run config the run tests
// start from. Header-only; torch-free.

#include "core/common/Error.h"
#include "core/distill/DistillConfig.h"

#include <QString>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xopd::test {

/// The message of the xopd::Error that fn throws (empty when it throws none).
template <typename Fn>
QString errorOf(Fn&& fn) {
    try {
        fn();
    } catch (const xopd::Error& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

/// Root mean square of a signal (0 for an empty one).
inline double rms(const std::vector<float>& x) {
    double s = 0;
    for (float v : x) s += double(v) * v;
    return x.empty() ? 0 : std::sqrt(s / double(x.size()));
}

/// A safetensors file's bytes: 8-byte little-endian header length (the header's own size unless
/// `length` says otherwise, to build corrupt files), the header, the data.
inline std::string safetensorsBytes(const std::string& header, const std::string& data,
                                    std::optional<uint64_t> length = {}) {
    const uint64_t n = length ? *length : header.size();
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + header + data;
}

/// What a toy run test varies; everything else is distill::toyDistillConfig() (toy models, m = 2,
/// 4 prompts per step, lr 1e-2).
struct ToyRunSize {
    int64_t steps = 8;
    int64_t prompts = 16;
    int64_t max_new_tokens = 10;
    int64_t checkpoint_every = 4;
    int64_t log_token_samples = 2;
};

/// distill::toyDistillConfig() with the sizes of `size`.
inline distill::DistillConfig toyRunConfig(const ToyRunSize& size) {
    auto c = distill::toyDistillConfig();
    c.data.toy_prompts = size.prompts;
    c.rollout.max_new_tokens = size.max_new_tokens;
    c.train.max_steps = size.steps;
    c.train.checkpoint_every = size.checkpoint_every;
    c.train.log_token_samples = size.log_token_samples;
    return c;
}

}  // namespace xopd::test
