#pragma once
// Fused, chunked divergence kernels: plain CUDA C++ on raw pointers (no LibTorch), so nvcc builds
// them on any machine with a CUDA toolkit; the LibTorch glue (CudaDivergence.cpp) wraps them as a
// torch::autograd::Function when LibTorch itself has CUDA.
//
// One thread block per token row streams the student and teacher logits of that row in vocabulary
// order (online log-sum-exp), so no [tokens x vocab] fp32 tensor is ever materialised:
//   forward : pass 1 = log-partition of both models, student entropy, tail/support sums and, for
//             forward/reverse KL, the divergence itself (one read of each row);
//             pass 2 (JSD only) = the mixture terms, which need both partitions first.
//   backward: one pass; writes d/d(student logits) directly in the student logits' dtype.
// Definitions are exactly those of core/distill/divergence/Divergence.h; the CPU reference there
// is the specification and `xopd selftest --device cuda` compares the two.
//
// Threading: launches are asynchronous on the given stream; parameters are copied at launch.

#include <cstddef>
#include <cstdint>

namespace xopd::kernels {

/// Element type of a logits buffer.
enum class LogitType : int { F32 = 0, F16 = 1, BF16 = 2 };
/// Divergence (Jsd with beta 0 or 1 must be mapped to ForwardKl / ReverseKl by the caller).
enum class KernelDivergence : int { None = 0, ForwardKl = 1, ReverseKl = 2, Jsd = 3 };
/// Support: full vocabulary, teacher top-k renormalised, or top-k plus a tail bucket.
enum class KernelSupport : int { Full = 0, TopKRenormalized = 1, TopKTail = 2 };

/// Number of fp32 values saved per row by the forward for the backward.
constexpr int kDivergenceStats = 8;

/// Everything one forward or backward launch reads and writes. Row-major logits with a row
/// stride in elements (the vocabulary itself must be contiguous).
struct DivergenceLaunch {
    int64_t rows = 0;                      ///< N tokens (one block each)
    int64_t vocab = 0;                     ///< V ids
    const void* student = nullptr;         ///< [N, V] student logits
    LogitType studentType = LogitType::F32;
    int64_t studentStride = 0;             ///< elements between rows
    const void* teacher = nullptr;         ///< [N, V] teacher logits; null for KernelDivergence::None
    LogitType teacherType = LogitType::F32;
    int64_t teacherStride = 0;
    const uint8_t* mask = nullptr;         ///< [V] 1 = excluded id; null = none
    const int64_t* sampledIds = nullptr;   ///< [N] or null
    const int64_t* topKIds = nullptr;      ///< [N, topK] unique unmasked ids; only for top-k supports
    int topK = 0;
    KernelDivergence divergence = KernelDivergence::None;
    KernelSupport support = KernelSupport::Full;
    float jsdBeta = 0.5f;                  ///< teacher weight in the mixture, strictly in (0, 1)
    float invTemperature = 1.f;            ///< logits are multiplied by this
    // forward outputs (fp32, each may be null)
    float* outDivergence = nullptr;        ///< [N]
    float* outStudentLogProb = nullptr;    ///< [N] (needs sampledIds)
    float* outTeacherLogProb = nullptr;    ///< [N] (needs sampledIds and teacher)
    float* outEntropy = nullptr;           ///< [N]
    float* stats = nullptr;                ///< [N, kDivergenceStats]: written by forward, read by backward
    // backward inputs / output
    const float* gradDivergence = nullptr; ///< [N] upstream gradient of outDivergence, or null
    const float* gradStudentLogProb = nullptr;  ///< [N] upstream gradient of outStudentLogProb, or null
    void* gradStudent = nullptr;           ///< [N, V] output, same dtype as student, row stride gradStride
    int64_t gradStride = 0;
};

/// Launches the forward. Returns 0 on success, else a cudaError_t value (or -1 for an argument
/// the kernels cannot handle, e.g. a vocabulary too large for the top-k bitmap).
int launchDivergenceForward(const DivergenceLaunch& p, void* cudaStream);

/// Launches the backward (needs p.stats from the forward of the same inputs).
int launchDivergenceBackward(const DivergenceLaunch& p, void* cudaStream);

/// Message for a code returned above.
const char* divergenceLaunchError(int code);

/// Threads per block used by the kernels (for the benchmark's reporting).
int divergenceBlockThreads();

/// The CUDA architectures the kernels were compiled for, e.g. "sm_90".
const char* divergenceKernelArchs();

}  // namespace xopd::kernels
