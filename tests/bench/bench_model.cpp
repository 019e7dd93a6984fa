// Prefill and decode throughput of the Qwen2 decoder on a Qwen2.5-0.5B-shaped model (random
// weights, fp32, CPU; 24 layers, hidden 896, 14 heads / 2 kv, intermediate 4864, vocab 151936,
// tied head) at batch 1 and 8, against the memory-bandwidth floor of decoding: every decode step
// reads all weight bytes once, so the floor is weight_bytes / copy_bandwidth, with the bandwidth
// measured in the same run (copy of a 1 GiB tensor; bytes read + written per second).
//
// usage: bench_model [--prompt N] [--decode N] [--threads N]      prints a markdown table
#include "core/common/Tensors.h"
#include "core/common/TorchRuntime.h"
#include "core/model/runtime/Generation.h"
#include "core/model/runtime/SpeechLm.h"
#include "core/model/runtime/TinyModels.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace xopd::model;
using Clock = std::chrono::steady_clock;

static double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

int main(int argc, char** argv) {
    int64_t prompt = 64, decode = 8;
    int threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--prompt")) prompt = std::atoll(argv[i + 1]);
        if (!std::strcmp(argv[i], "--decode")) decode = std::atoll(argv[i + 1]);
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    }
    threads = xopd::configureThreads(threads);
    torch::NoGradGuard ng;

    // Copy bandwidth: best of 3 copies of 1 GiB.
    double bandwidth = 0;
    {
        torch::Tensor src = torch::rand({256 * 1024 * 1024}), dst = torch::empty_like(src);
        dst.copy_(src);
        for (int r = 0; r < 3; ++r) {
            auto t0 = Clock::now();
            dst.copy_(src);
            double s = seconds(t0, Clock::now());
            bandwidth = std::max(bandwidth, 2.0 * src.nbytes() / s);
        }
    }

    ModelRuntimeConfig c = tinyConfig(ModelKind::Qwen2Text);
    DecoderConfig& t = c.text;
    t.vocab_size = 151936;
    t.hidden_size = 896;
    t.num_hidden_layers = 24;
    t.num_attention_heads = 14;
    t.num_key_value_heads = 2;
    t.head_dim = 64;
    t.intermediate_size = 4864;
    t.tie_word_embeddings = true;
    t.rope_theta = 1e6;
    RandomWeightOptions wo;
    wo.std = 0.02;
    SpeechLm lm = buildModel(c, randomWeights(c, wo), "0.5B-shaped");
    const Qwen2Decoder& d = lm.decoder();
    const double weight_bytes = static_cast<double>(d.parameterCount()) * 4.0;
    const double floor_s = weight_bytes / bandwidth;

    std::printf("| batch | prompt | prefill tok/s | decode tok/s | decode ms/step | floor ms/step | step / floor |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    for (int64_t B : {int64_t(1), int64_t(8)}) {
        at::Generator g = makeGenerator(1);
        torch::Tensor ids = at::randint(0, t.vocab_size, {B, prompt}, g, torch::kInt64);
        KvCache cache = d.makeCache(prompt + decode);
        DecoderInput in;
        in.input_ids = ids;
        in.cache = &cache;
        in.logits_to_keep = 1;
        auto t0 = Clock::now();
        torch::Tensor logits = d.forward(in).logits;
        const double prefill = seconds(t0, Clock::now());
        torch::Tensor next = logits.select(1, 0).argmax(-1).view({B, 1});
        auto t1 = Clock::now();
        for (int64_t s = 0; s < decode; ++s) {
            in.input_ids = next;
            next = d.forward(in).logits.select(1, 0).argmax(-1).view({B, 1});
        }
        const double dec = seconds(t1, Clock::now());
        const double step = dec / static_cast<double>(decode);
        std::printf("| %lld | %lld | %.1f | %.1f | %.1f | %.1f | %.2f |\n", static_cast<long long>(B),
                    static_cast<long long>(prompt), static_cast<double>(B * prompt) / prefill,
                    static_cast<double>(B * decode) / dec, step * 1e3, floor_s * 1e3, step / floor_s);
    }
    std::printf("\nweights: %.2f GB fp32 (%lld parameters, tied head counted once); copy bandwidth %.1f GB/s; "
                "threads %d; LibTorch %s; BLAS %s\n",
                weight_bytes / 1e9, static_cast<long long>(d.parameterCount()), bandwidth / 1e9, threads,
                xopd::torchVersion().c_str(), xopd::blasLibrary().c_str());
    return 0;
}
