// The fused CUDA divergence kernels (kernels/) against plain LibTorch at N tokens x V ids, bf16
// logits, forward + backward of loss = sum over tokens of the divergence:
//   fused : distill::computeDivergence on CUDA tensors (the cuda-fused backend);
//   plain : two fp32 log-softmaxes and the KL in ATen ops, autograd backward.
// Columns: median time of forward+backward (and forward alone), peak extra device memory over the
// inputs (caching-allocator peak minus what was allocated before the call; the bf16 gradient, an
// output both must write, is counted), and the ratio to the memory-bandwidth floor: the bytes that
// must move at least once (read student and teacher, write the student gradient: 3 N V x 2 bytes)
// over the measured device copy bandwidth (bytes read + written per second). Also the relative
// difference of the two gradients, as a sanity check. Prints markdown.
//
// Targets (issue 6): fused >= 3x faster and >= 5x less extra memory than plain, within 2x of the floor.
//
//   bench_kernels [--tokens N ...] [--vocab V] [--reps R] [--device cuda|cpu]
//
// Built only with LibTorch CUDA (tests/bench/gpu/CMakeLists.txt); NOT RUN on the machine that
// wrote it (no GPU there). With --device cpu it runs the reference twice, as a plumbing check.
#include "GpuBench.h"

#include "core/common/Tensors.h"
#include "core/common/TorchRuntime.h"
#include "core/distill/divergence/Divergence.h"
#include "core/distill/divergence/DivergenceBackend.h"
#include "kernels/CudaKernels.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace xopd;
using namespace xopd::bench;
using torch::Tensor;

namespace {

struct Measure {
    double total_s = 0, forward_s = 0;
    int64_t peak_extra = -1;
    Tensor grad;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/// Times fn(student, teacher, forwardOnly) -> loss; backward when !forwardOnly.
Measure measure(const std::function<Tensor(const Tensor&, const Tensor&)>& fn, const Tensor& s0, const Tensor& t,
                const torch::Device& dev, int reps) {
    Measure m;
    std::vector<double> tot, fwd;
    for (int r = 0; r < reps + 2; ++r) {
        Tensor s = s0.detach().requires_grad_(true);
        sync(dev);
        const int64_t before = allocatedBytes(dev);
        resetPeak(dev);
        auto t0 = Clock::now();
        Tensor loss = fn(s, t);
        sync(dev);
        auto t1 = Clock::now();
        loss.backward();
        sync(dev);
        auto t2 = Clock::now();
        const int64_t peak = peakBytes(dev);
        if (r >= 2) {  // two warm-ups
            fwd.push_back(seconds(t0, t1));
            tot.push_back(seconds(t0, t2));
        }
        if (peak >= 0 && before >= 0) m.peak_extra = std::max(m.peak_extra, peak - before);
        if (r == reps + 1) m.grad = s.grad();
    }
    m.total_s = median(tot);
    m.forward_s = median(fwd);
    return m;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<int64_t> tokens;
    int64_t vocab = 151936;
    int reps = 10;
    std::string device = "cuda";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--tokens") {
            while (i + 1 < argc && argv[i + 1][0] != '-') tokens.push_back(std::atoll(argv[++i]));
        } else if (a == "--vocab" && i + 1 < argc) {
            vocab = std::atoll(argv[++i]);
        } else if (a == "--reps" && i + 1 < argc) {
            reps = std::atoi(argv[++i]);
        } else if (a == "--device" && i + 1 < argc) {
            device = argv[++i];
        } else {
            std::fprintf(stderr, "usage: bench_kernels [--tokens N ...] [--vocab V] [--reps R] [--device cuda|cpu]\n");
            return 2;
        }
    }
    if (tokens.empty()) tokens = {1024, 8192};
    configureThreads();
    kernels::registerCudaKernels();
    const torch::Device dev(device);
    if (dev.is_cuda() && !torch::cuda::is_available()) {
        std::fprintf(stderr, "bench_kernels: no CUDA device\n");
        return 1;
    }
    const std::string backend = distill::divergenceBackend(dev.type()).name;
    const double bw = copyBandwidth(dev, dev.is_cuda() ? (int64_t(4) << 30) : (int64_t(256) << 20));
    std::printf("Device copy bandwidth (read + write): %.0f GB/s; backend on %s: %s; kernels %s, %d threads/block; "
                "LibTorch %s\n\n",
                bw / 1e9, device.c_str(), backend.c_str(), kernels::kernelArchs(), 512, torchVersion().c_str());
    std::printf("| divergence | tokens x vocab | impl | fwd+bwd ms | fwd ms | peak extra memory | floor ms | time / floor "
                "| speed-up | memory ratio | grad rel. diff |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");

    struct Kind {
        const char* name;
        distill::DivergenceOptions options;
    };
    const std::vector<Kind> kinds = {{"reverse_kl", distill::DivergenceOptions::reverseKl()},
                                     {"forward_kl", distill::DivergenceOptions::forwardKl()},
                                     {"jsd(0.5)", distill::DivergenceOptions::jsd(0.5)}};
    bool ok = true;
    for (int64_t N : tokens) {
        torch::manual_seed(static_cast<uint64_t>(N));
        auto opts = torch::TensorOptions().dtype(torch::kBFloat16).device(dev);
        Tensor student = (torch::randn({N, vocab}, opts) * 3.0).contiguous();
        Tensor teacher = (0.6 * student + torch::randn({N, vocab}, opts) * 2.0).contiguous();
        const double floorBytes = 3.0 * static_cast<double>(N) * static_cast<double>(vocab) * 2.0;
        const double floor_s = floorBytes / bw;
        for (const Kind& k : kinds) {
            auto fused = [&](const Tensor& s, const Tensor& t) {
                distill::DivergenceInput in;
                in.studentLogits = s;
                in.teacherLogits = t;
                return distill::computeDivergence(in, k.options).divergence.sum();
            };
            auto plain = [&](const Tensor& s, const Tensor& t) {
                Tensor lq = torch::log_softmax(s.to(torch::kFloat), /*dim=*/1);
                Tensor lp = torch::log_softmax(t.to(torch::kFloat), /*dim=*/1);
                Tensor d;
                if (k.options.kind == distill::DivergenceKind::ReverseKl) {
                    d = (lq.exp() * (lq - lp)).sum(1);
                } else if (k.options.kind == distill::DivergenceKind::ForwardKl) {
                    d = (lp.exp() * (lp - lq)).sum(1);
                } else {
                    const double b = k.options.jsdBeta;
                    Tensor lm = torch::logaddexp(lp + std::log(b), lq + std::log1p(-b));
                    d = b * (lp.exp() * (lp - lm)).sum(1) + (1 - b) * (lq.exp() * (lq - lm)).sum(1);
                }
                return d.sum();
            };
            Measure f, p;
            try {
                f = measure(fused, student, teacher, dev, reps);
                p = measure(plain, student, teacher, dev, reps);
            } catch (const std::exception& e) {
                std::printf("| %s | %lld x %lld | error | %s |\n", k.name, static_cast<long long>(N),
                            static_cast<long long>(vocab), e.what());
                ok = false;
                continue;
            }
            Tensor gf = f.grad.to(torch::kFloat), gp = p.grad.to(torch::kFloat);
            const double rel = ((gf - gp).norm() / gp.norm().clamp_min(1e-30)).item<double>();
            const double speed = p.total_s / f.total_s;
            const double memRatio = (f.peak_extra > 0 && p.peak_extra > 0) ? double(p.peak_extra) / double(f.peak_extra) : -1;
            char mr[32];
            std::snprintf(mr, sizeof(mr), memRatio > 0 ? "%.1fx" : "n/a", memRatio);
            std::printf("| %s | %lld x %lld | fused (%s) | %.3f | %.3f | %s | %.3f | %.2f | %.2fx | %s | %.1e |\n", k.name,
                        static_cast<long long>(N), static_cast<long long>(vocab), backend.c_str(), f.total_s * 1e3,
                        f.forward_s * 1e3, gb(static_cast<double>(f.peak_extra)).c_str(), floor_s * 1e3,
                        f.total_s / floor_s, speed, mr, rel);
            std::printf("| %s | %lld x %lld | plain LibTorch | %.3f | %.3f | %s | %.3f | %.2f | 1x | 1x | |\n", k.name,
                        static_cast<long long>(N), static_cast<long long>(vocab), p.total_s * 1e3, p.forward_s * 1e3,
                        gb(static_cast<double>(p.peak_extra)).c_str(), floor_s * 1e3, p.total_s / floor_s);
            std::fflush(stdout);
            if (!(rel < 2e-2)) ok = false;
        }
    }
    std::printf("\nFloor = 3 N V x 2 bytes (read student + teacher bf16, write the bf16 gradient once) / copy "
                "bandwidth. Peak extra = caching-allocator peak during forward+backward minus the bytes allocated "
                "before it (inputs); the fused path's gradient (N V x 2 bytes) is part of it. Median of %d runs after "
                "2 warm-ups. Targets: speed-up >= 3x, memory ratio >= 5x, time / floor <= 2.\n",
                reps);
    return ok ? 0 : 1;
}
