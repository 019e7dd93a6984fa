#pragma once
// Helpers of the GPU benchmarks (tests/bench/gpu): model shapes, random weights made directly on
// the device, device synchronisation, the caching allocator's peak memory, and the device copy
// bandwidth. Header-only; built by tests/bench/gpu/CMakeLists.txt only when LibTorch has CUDA.
//
// Written on a machine without a GPU or a CUDA LibTorch: the CUDA-only parts (peak memory) are
// behind __has_include so the file also compiles, for a syntax check, against a CPU-only LibTorch,
// where peakBytes() returns -1. Run on the GPU machine by tests/gpu/run-gpu-checks.sh.

#include "core/common/Error.h"
#include "core/common/Tensors.h"
#include "core/model/runtime/RuntimeConfig.h"
#include "core/model/runtime/TensorMap.h"
#include "core/model/runtime/TinyModels.h"

#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<c10/cuda/impl/cuda_cmake_macros.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define XOPD_BENCH_HAVE_CUDA_ALLOCATOR 1
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace xopd::bench {

using Clock = std::chrono::steady_clock;
inline double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

/// Waits for the device's queued work (a tiny device-to-host copy on the current stream).
inline void sync(const torch::Device& device) {
    if (device.is_cuda()) (void)torch::zeros({1}, torch::TensorOptions().device(device)).sum().item<float>();
}

/// Peak bytes allocated by LibTorch's CUDA caching allocator since the last resetPeak(); -1 when
/// unknown (CPU, or no CUDA headers).
inline int64_t peakBytes(const torch::Device& device) {
#if defined(XOPD_BENCH_HAVE_CUDA_ALLOCATOR)
    if (device.is_cuda()) {
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
        return stats.allocated_bytes[0].peak;  // [0] = StatType::AGGREGATE
    }
#endif
    return -1;
}
/// Bytes allocated now; -1 when unknown.
inline int64_t allocatedBytes(const torch::Device& device) {
#if defined(XOPD_BENCH_HAVE_CUDA_ALLOCATOR)
    if (device.is_cuda()) {
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
        return stats.allocated_bytes[0].current;
    }
#endif
    return -1;
}
inline void resetPeak(const torch::Device& device) {
#if defined(XOPD_BENCH_HAVE_CUDA_ALLOCATOR)
    if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
}

/// Device copy bandwidth in bytes/s (bytes read + written), best of 5 copies of `bytes`.
inline double copyBandwidth(const torch::Device& device, int64_t bytes = int64_t(4) << 30) {
    torch::Tensor src = torch::empty({bytes / 4}, torch::TensorOptions().dtype(torch::kFloat).device(device)).uniform_();
    torch::Tensor dst = torch::empty_like(src);
    dst.copy_(src);
    sync(device);
    double best = 0;
    for (int r = 0; r < 5; ++r) {
        const int reps = device.is_cuda() ? 10 : 1;
        auto t0 = Clock::now();
        for (int i = 0; i < reps; ++i) dst.copy_(src);
        sync(device);
        best = std::max(best, 2.0 * static_cast<double>(src.nbytes()) * reps / seconds(t0, Clock::now()));
    }
    return best;
}

/// A named model shape. "0.5b": Qwen2.5-0.5B; "7b": Qwen2.5-7B; "tiny": the §13 tester (CPU checks).
/// kind Qwen2Text gives the text LLM; Qwen25OmniThinker adds a Qwen2.5-Omni-7B-shaped audio tower
/// (128 mel, d_model 1280, 32 layers, 20 heads, ffn 5120, output_dim = hidden).
inline model::ModelRuntimeConfig shapeConfig(const std::string& shape, model::ModelKind kind) {
    using model::ModelKind;
    model::ModelRuntimeConfig c = model::tinyConfig(kind);
    if (shape == "tiny") return model::tinyChatConfig(kind);
    c = model::tinyChatConfig(kind);
    model::DecoderConfig& t = c.text;
    if (shape == "0.5b") {
        t.vocab_size = 151936;
        t.hidden_size = 896;
        t.intermediate_size = 4864;
        t.num_hidden_layers = 24;
        t.num_attention_heads = 14;
        t.num_key_value_heads = 2;
        t.head_dim = 64;
        t.tie_word_embeddings = true;
    } else if (shape == "7b") {
        t.vocab_size = 152064;
        t.hidden_size = 3584;
        t.intermediate_size = 18944;
        t.num_hidden_layers = 28;
        t.num_attention_heads = 28;
        t.num_key_value_heads = 4;
        t.head_dim = 128;
        t.tie_word_embeddings = false;
    } else if (shape == "small") {  // a CPU-sized stand-in with the real vocabulary (plumbing checks)
        t.vocab_size = 152064;
        t.hidden_size = 64;
        t.intermediate_size = 128;
        t.num_hidden_layers = 2;
        t.num_attention_heads = 4;
        t.num_key_value_heads = 2;
        t.head_dim = 16;
        t.tie_word_embeddings = false;
    } else {
        XOPD_FAIL("unknown model shape '" << shape << "' (tiny, small, 0.5b, 7b)");
    }
    t.rope_theta = 1e6;
    t.rms_norm_eps = 1e-6;
    t.max_position_embeddings = 32768;
    if (kind == ModelKind::Qwen25OmniThinker && shape == "7b") {
        c.audio.num_mel_bins = 128;
        c.audio.d_model = 1280;
        c.audio.encoder_layers = 32;
        c.audio.encoder_attention_heads = 20;
        c.audio.encoder_ffn_dim = 5120;
        c.audio.max_source_positions = 1500;
        c.audio.n_window = 100;
        c.audio.output_dim = t.hidden_size;
    } else if (kind == ModelKind::Qwen25OmniThinker) {
        c.audio.output_dim = t.hidden_size;
    }
    return c;
}

/// Random weights of `config` made on `device` in `dtype` (std 0.02; norm scales 1 + noise):
/// the names and shapes come from randomWeights() of a one-layer copy of the config on the CPU,
/// so a 7B-shaped model costs seconds instead of minutes of CPU random numbers.
inline model::TensorMap deviceRandomWeights(const model::ModelRuntimeConfig& config, torch::Device device,
                                            torch::ScalarType dtype, uint64_t seed) {
    model::ModelRuntimeConfig one = config;
    one.text.num_hidden_layers = 1;
    one.text.vocab_size = 8;
    if (one.audio.encoder_layers > 0) one.audio.encoder_layers = 1;
    model::RandomWeightOptions wo;
    wo.seed = seed;
    model::TensorMap tmpl = model::randomWeights(one, wo);
    torch::manual_seed(seed);
    auto opts = torch::TensorOptions().dtype(dtype).device(device);
    model::TensorMap out;
    auto make = [&](const std::string& name, std::vector<int64_t> shape) {
        const bool normScale = shape.size() == 1 && name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0 &&
                               (name.find("norm") != std::string::npos || name.find("ln_post") != std::string::npos);
        torch::Tensor t = torch::randn(shape, opts) * 0.02;
        if (normScale) t = t + 1.0;
        out.emplace(name, t);
    };
    for (const auto& [name, t] : tmpl) {
        std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
        if (name.find("embed_tokens.weight") != std::string::npos || name.find("lm_head.weight") != std::string::npos)
            shape[0] = config.text.vocab_size;
        const auto at = name.find("layers.0.");
        if (at == std::string::npos) {
            make(name, shape);
            continue;
        }
        const bool audio = name.find("audio_tower.") != std::string::npos;
        const int64_t n = audio ? config.audio.encoder_layers : config.text.num_hidden_layers;
        for (int64_t i = 0; i < n; ++i)
            make(name.substr(0, at) + "layers." + std::to_string(i) + "." + name.substr(at + 9), shape);
    }
    return out;
}

/// "1.23 GB"-style bytes.
inline std::string gb(double bytes) {
    if (bytes < 0) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f GB", bytes / 1e9);
    return buf;
}

}  // namespace xopd::bench
