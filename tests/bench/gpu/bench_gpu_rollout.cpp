// Rollout decoding throughput of the xopd runtime (model::generate: KV cache, sampling at
// temperature 1, no stop ids) on Qwen2.5-0.5B- and Qwen2.5-7B-shaped decoders with random bf16
// weights on the GPU, at several batch sizes: prefill tokens/s, decode tokens/s, ms per decode
// step, and at batch 1 the ratio of a decode step to the weight-bandwidth floor (weight bytes /
// measured device copy bandwidth). The Hugging Face baseline on the same shapes is
// tests/bench/gpu/bench_hf_generate.py, run next to it by tests/gpu/run-gpu-checks.sh. Markdown out.
//
//   bench_gpu_rollout [--shapes 0.5b 7b] [--batch 1 64] [--prompt P] [--new N] [--device cuda|cpu]
//                     [--dtype bf16|fp32]
//
// Built only with LibTorch CUDA; NOT RUN on the machine that wrote it (no GPU). `--device cpu
// --shapes tiny --dtype fp32` is the plumbing check that ran there.
#include "GpuBench.h"

#include "core/common/TorchRuntime.h"
#include "core/model/runtime/Generation.h"
#include "core/model/runtime/SpeechLm.h"
#include "kernels/CudaKernels.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace xopd;
using namespace xopd::bench;
using namespace xopd::model;

int main(int argc, char** argv) {
    std::vector<std::string> shapes;
    std::vector<int64_t> batches;
    int64_t prompt = 64, fresh = 64;
    std::string device = "cuda", dtypeName = "bf16";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--shapes") {
            while (i + 1 < argc && argv[i + 1][0] != '-') shapes.push_back(argv[++i]);
        } else if (a == "--batch") {
            while (i + 1 < argc && argv[i + 1][0] != '-') batches.push_back(std::atoll(argv[++i]));
        } else if (a == "--prompt" && i + 1 < argc) {
            prompt = std::atoll(argv[++i]);
        } else if (a == "--new" && i + 1 < argc) {
            fresh = std::atoll(argv[++i]);
        } else if (a == "--device" && i + 1 < argc) {
            device = argv[++i];
        } else if (a == "--dtype" && i + 1 < argc) {
            dtypeName = argv[++i];
        } else {
            std::fprintf(stderr, "usage: bench_gpu_rollout [--shapes S ...] [--batch B ...] [--prompt P] [--new N] "
                                 "[--device D] [--dtype bf16|fp32]\n");
            return 2;
        }
    }
    if (shapes.empty()) shapes = {"0.5b", "7b"};
    if (batches.empty()) batches = {1, 64};
    configureThreads();
    kernels::registerCudaKernels();
    const torch::Device dev(device);
    const torch::ScalarType dtype = dtypeName == "fp32" ? torch::kFloat : torch::kBFloat16;
    const double elt = dtype == torch::kFloat ? 4.0 : 2.0;
    torch::NoGradGuard ng;
    const double bw = copyBandwidth(dev, dev.is_cuda() ? (int64_t(4) << 30) : (int64_t(256) << 20));
    std::printf("Device copy bandwidth (read + write): %.0f GB/s; %s weights; prompt %lld tokens, %lld new tokens "
                "(sampled at temperature 1, no stop); LibTorch %s\n\n",
                bw / 1e9, dtypeName.c_str(), static_cast<long long>(prompt), static_cast<long long>(fresh),
                torchVersion().c_str());
    std::printf("| shape | params | batch | prefill tok/s | decode tok/s | decode ms/step | floor ms/step | step / floor "
                "| peak memory |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    int rc = 0;
    for (const std::string& shape : shapes) {
        try {
            ModelRuntimeConfig c = shapeConfig(shape, ModelKind::Qwen2Text);
            c.text.eos_token_ids.clear();
            auto t0 = Clock::now();
            SpeechLm lm = buildModel(c, deviceRandomWeights(c, dev, dtype, 7), shape + "-shaped");
            lm.to(dev);
            sync(dev);
            const double build_s = seconds(t0, Clock::now());
            const Qwen2Decoder& d = lm.decoder();
            const double weightBytes = static_cast<double>(d.parameterCount()) * elt;
            const double floor_s = weightBytes / bw;
            for (int64_t B : batches) {
                at::Generator g = makeGenerator(static_cast<uint64_t>(B));
                torch::Tensor ids = at::randint(0, c.text.vocab_size, {B, prompt}, g, torch::kLong);
                std::vector<PromptInput> prompts;
                for (int64_t b = 0; b < B; ++b) prompts.push_back(PromptInput::fromIdTensor(ids[b]));
                SamplingOptions so;
                so.max_new_tokens = fresh;
                so.temperature = 1.0;
                so.seed = 1;
                // Warm-up (cuBLAS handles, allocator), then prefill alone, then the whole generate.
                {
                    SamplingOptions w = so;
                    w.max_new_tokens = 2;
                    (void)generate(d, prompts, w);
                }
                resetPeak(dev);
                sync(dev);
                auto p0 = Clock::now();
                {
                    DecoderInput in;
                    in.input_ids = ids.to(dev);
                    in.logits_to_keep = 1;
                    (void)d.forward(in).logits.sum().item<float>();
                }
                const double prefill_s = seconds(p0, Clock::now());
                auto g0 = Clock::now();
                GenerationResult r = generate(d, prompts, so);
                sync(dev);
                const double gen_s = seconds(g0, Clock::now());
                int64_t produced = 0;
                for (const auto& t : r.tokens) produced += static_cast<int64_t>(t.size());
                const double decode_s = std::max(gen_s - prefill_s, 1e-9);
                const double steps = static_cast<double>(std::max<int64_t>(r.steps - 1, 1));
                const double step_s = decode_s / steps;
                std::printf("| %s | %.2f B | %lld | %.0f | %.1f | %.2f | %.2f | %s | %s |\n", shape.c_str(),
                            d.parameterCount() / 1e9, static_cast<long long>(B),
                            static_cast<double>(B * prompt) / prefill_s, static_cast<double>(produced) / decode_s,
                            step_s * 1e3, floor_s * 1e3,
                            B == 1 ? (std::to_string(step_s / floor_s).substr(0, 5)).c_str() : "-",
                            gb(static_cast<double>(peakBytes(dev))).c_str());
                std::fflush(stdout);
            }
            std::printf("|  | (weights %s built on the device in %.1f s) | | | | | | | |\n", gb(weightBytes).c_str(), build_s);
        } catch (const std::exception& e) {
            std::printf("| %s | error: %s | | | | | | | |\n", shape.c_str(), e.what());
            rc = 1;
        }
    }
    std::printf("\nDecode tok/s = tokens produced / (generate time - prefill time); ms/step = that time / (steps - 1). "
                "Floor = weight bytes / copy bandwidth (one read of every weight per step).\n");
    return rc;
}
