// A Qwen3-30B-A3B-shaped sparse MoE layer (hidden 2048, 128 experts of width 768, top-8,
// renormalised; random weights) against a dense SwiGLU layer with the same active parameters
// (width 8 × 768 = 6144), tokens per second on the CPU for 1, 64 and 512 tokens, fp32 and bf16,
// both measured in the same run. The ratio MoE / dense says what the routing, the grouping and
// the per-expert launches cost over a dense layer doing the same arithmetic.
// usage: bench_moe [--threads N] [--dtype fp32|bf16|both]
#include "core/common/TorchRuntime.h"
#include "core/model/runtime/SparseMoe.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace xopd;
using namespace xopd::model;

namespace {

constexpr int64_t kHidden = 2048, kExperts = 128, kTopK = 8, kExpertWidth = 768;

Linear randomLinear(int64_t out, int64_t in, torch::ScalarType dtype) {
    Linear l;
    l.weight = (torch::randn({out, in}) * (1.0 / std::sqrt(double(in)))).to(dtype);
    return l;
}

template <class F>
double tokensPerSecond(int64_t tokens, F&& run) {
    run();  // warm-up
    int reps = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double elapsed = 0;
    while (reps < 3 || elapsed < 2.0) {
        run();
        ++reps;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return double(tokens) * reps / elapsed;
}

void benchDtype(torch::ScalarType dtype, const char* name) {
    torch::manual_seed(0);
    SparseMoeWeights moe;
    moe.router = randomLinear(kExperts, kHidden, dtype);
    for (int64_t e = 0; e < kExperts; ++e)
        moe.experts.push_back({randomLinear(kExpertWidth, kHidden, dtype), randomLinear(kExpertWidth, kHidden, dtype),
                               randomLinear(kHidden, kExpertWidth, dtype)});
    MixtureOfExperts cfg;
    cfg.num_experts = kExperts;
    cfg.num_experts_per_tok = kTopK;
    cfg.moe_intermediate_size = kExpertWidth;
    cfg.norm_topk_prob = true;
    const int64_t dense_width = kTopK * kExpertWidth;
    const Linear gate = randomLinear(dense_width, kHidden, dtype), up = randomLinear(dense_width, kHidden, dtype),
                 down = randomLinear(kHidden, dense_width, dtype);

    std::printf("| %s | tokens | MoE tokens/s | dense tokens/s | MoE / dense |\n|---|---|---|---|---|\n", name);
    torch::NoGradGuard no_grad;
    for (int64_t tokens : {1, 64, 512}) {
        const torch::Tensor x = torch::randn({1, tokens, kHidden}).to(dtype);
        const double sparse = tokensPerSecond(tokens, [&] { sparseMoeForward(moe, cfg, "silu", x, {}, nullptr, 0); });
        const double dense = tokensPerSecond(tokens, [&] {
            down.forward(torch::silu(gate.forward(x)) * up.forward(x));
        });
        std::printf("| %s | %lld | %.1f | %.1f | %.2f |\n", name, (long long)tokens, sparse, dense, sparse / dense);
        std::fflush(stdout);
    }
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 0;
    std::string dtype = "both";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--dtype")) dtype = argv[i + 1];
    }
    configureThreads(threads);
    std::printf("Qwen3-30B-A3B-shaped MoE layer: hidden %lld, %lld experts x %lld, top-%lld; dense SwiGLU of width %lld\n\n",
                (long long)kHidden, (long long)kExperts, (long long)kExpertWidth, (long long)kTopK,
                (long long)(kTopK * kExpertWidth));
    if (dtype == "fp32" || dtype == "both") benchDtype(torch::kFloat32, "fp32");
    if (dtype == "bf16" || dtype == "both") benchDtype(torch::kBFloat16, "bf16");
    return 0;
}
