// Fused divergence kernels; see DivergenceKernels.h for the contract and
// core/distill/divergence/Divergence.h for the definitions.
//
// Notation per row: zs, zt = logits * invT; valid = not masked; logZ = log-sum-exp over valid ids;
// lq = zs - logZs, lp = zt - logZt; q = exp(lq), p = exp(lp).
// Gradient of any divergence D(q_b, p_b) over "buckets" b (single ids, or the tail bucket) w.r.t.
// zs_j, with j in bucket b:  dD/dzs_j = q_j * (g_b - gbar),  g_b = dD/dq_b,  gbar = sum_b q_b g_b:
//   reverse KL: g = lq - lp,             gbar = D
//   forward KL: g = -p/q,                gbar = -1          (singleton: q_j - p_j)
//   JSD(beta):  g = (1-beta)(lq - lm),   gbar = (1-beta) KL(q || m),  lm = log(beta p + (1-beta) q)
#include "kernels/DivergenceKernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

namespace xopd::kernels {
namespace {

constexpr int kThreads = 512;
constexpr unsigned kFull = 0xffffffffu;
constexpr int kMaxBitmapBytes = 48 * 1024;

__device__ __forceinline__ float negInf() { return -INFINITY; }

__device__ __forceinline__ float toFloat(float x) { return x; }
__device__ __forceinline__ float toFloat(__half x) { return __half2float(x); }
__device__ __forceinline__ float toFloat(__nv_bfloat16 x) { return __bfloat162float(x); }
template <class T> __device__ __forceinline__ T fromFloat(float x);
template <> __device__ __forceinline__ float fromFloat<float>(float x) { return x; }
template <> __device__ __forceinline__ __half fromFloat<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

/// Online log-sum-exp with two weighted sums: s = sum e^(x-m), a = sum e^(x-m) * u, b = sum e^(x-m) * w.
struct Acc {
    float m, s, a, b;
    __device__ static Acc identity() { return {negInf(), 0.f, 0.f, 0.f}; }
    __device__ void add(float x, float u, float w) {
        if (x == negInf()) return;
        if (x > m) {
            const float f = expf(m - x);  // 0 when m = -inf
            s = s * f + 1.f;
            a = a * f + u;
            b = b * f + w;
            m = x;
        } else {
            const float e = expf(x - m);
            s += e;
            a += e * u;
            b += e * w;
        }
    }
    __device__ static Acc merge(const Acc& x, const Acc& y) {
        const float m = fmaxf(x.m, y.m);
        if (m == negInf()) return x;
        const float fx = x.m == negInf() ? 0.f : expf(x.m - m);
        const float fy = y.m == negInf() ? 0.f : expf(y.m - m);
        return {m, x.s * fx + y.s * fy, x.a * fx + y.a * fy, x.b * fx + y.b * fy};
    }
    __device__ static Acc shfl(const Acc& x, int o) {
        return {__shfl_xor_sync(kFull, x.m, o), __shfl_xor_sync(kFull, x.s, o), __shfl_xor_sync(kFull, x.a, o),
                __shfl_xor_sync(kFull, x.b, o)};
    }
    __device__ float lse() const { return m == negInf() ? negInf() : m + logf(s); }
};

/// Pass-1 state of one row: student (s: zs-weighted for entropy, a: (zs - zt) for reverse KL),
/// teacher (a: (zt - zs) for forward KL), and the tail sums of both (top-k tail mode).
struct Pass1 {
    Acc st, te, stTail, teTail;
    __device__ static Pass1 identity() { return {Acc::identity(), Acc::identity(), Acc::identity(), Acc::identity()}; }
    __device__ static Pass1 merge(const Pass1& x, const Pass1& y) {
        return {Acc::merge(x.st, y.st), Acc::merge(x.te, y.te), Acc::merge(x.stTail, y.stTail),
                Acc::merge(x.teTail, y.teTail)};
    }
    __device__ static Pass1 shfl(const Pass1& x, int o) {
        return {Acc::shfl(x.st, o), Acc::shfl(x.te, o), Acc::shfl(x.stTail, o), Acc::shfl(x.teTail, o)};
    }
};

struct Sum2 {
    float a, b;
    __device__ static Sum2 identity() { return {0.f, 0.f}; }
    __device__ static Sum2 merge(const Sum2& x, const Sum2& y) { return {x.a + y.a, x.b + y.b}; }
    __device__ static Sum2 shfl(const Sum2& x, int o) {
        return {__shfl_xor_sync(kFull, x.a, o), __shfl_xor_sync(kFull, x.b, o)};
    }
};

/// Reduces over the block; every thread gets the result. `shm` holds 32 T.
template <class T>
__device__ T blockAllReduce(T v, T* shm) {
    for (int o = 16; o > 0; o >>= 1) v = T::merge(v, T::shfl(v, o));
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    __syncthreads();  // shm may still be read from a previous reduction
    if (lane == 0) shm[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? shm[lane] : T::identity();
        for (int o = 16; o > 0; o >>= 1) v = T::merge(v, T::shfl(v, o));
        if (lane == 0) shm[0] = v;
    }
    __syncthreads();
    return shm[0];
}

/// Divergence term of one outcome and its (1-beta) KL(q||m) part (JSD gbar); 0 log 0 = 0.
__device__ __forceinline__ Sum2 term(KernelDivergence kind, float lq, float lp, float beta) {
    const bool qz = lq == negInf(), pz = lp == negInf();
    switch (kind) {
    case KernelDivergence::ReverseKl:
        return {qz ? 0.f : expf(lq) * (lq - lp), 0.f};
    case KernelDivergence::ForwardKl:
        return {pz ? 0.f : expf(lp) * (lp - lq), 0.f};
    case KernelDivergence::Jsd: {
        if (qz && pz) return {0.f, 0.f};
        const float x = logf(beta) + lp, y = log1pf(-beta) + lq;
        const float mx = fmaxf(x, y);
        const float lm = mx + log1pf(expf(fminf(x, y) - mx));
        const float tp = pz ? 0.f : expf(lp) * (lp - lm);
        const float tq = qz ? 0.f : expf(lq) * (lq - lm);
        return {beta * tp + (1.f - beta) * tq, (1.f - beta) * tq};
    }
    default:
        return {0.f, 0.f};
    }
}

/// q_b * (g_b - gbar) for one singleton outcome (see the file comment), numerically safe.
__device__ __forceinline__ float singletonGrad(KernelDivergence kind, float lq, float lp, float beta, float gbar) {
    const float q = expf(lq);
    switch (kind) {
    case KernelDivergence::ReverseKl:
        return q * (lq - lp - gbar);
    case KernelDivergence::ForwardKl:
        return q - expf(lp);
    case KernelDivergence::Jsd: {
        const float x = logf(beta) + lp, y = log1pf(-beta) + lq;
        const float mx = fmaxf(x, y);
        const float lm = mx + log1pf(expf(fminf(x, y) - mx));
        return q * ((1.f - beta) * (lq - lm) - gbar);
    }
    default:
        return 0.f;
    }
}

__device__ __forceinline__ bool isMember(const uint32_t* bits, int64_t j) { return (bits[j >> 5] >> (j & 31)) & 1u; }

/// Builds the support bitmap of this row in shared memory (top-k supports only).
__device__ void buildBitmap(uint32_t* bits, int64_t vocab, const int64_t* ids, int k) {
    const int64_t words = (vocab + 31) / 32;
    for (int64_t w = threadIdx.x; w < words; w += blockDim.x) bits[w] = 0u;
    __syncthreads();
    for (int t = threadIdx.x; t < k; t += blockDim.x) {
        const int64_t j = ids[t];
        atomicOr(&bits[j >> 5], 1u << (j & 31));
    }
    __syncthreads();
}

// stats layout
enum : int { kLogZs = 0, kLogZt = 1, kGbar = 2, kLseSupS = 3, kLseSupT = 4, kGTail = 5, kLqTail = 6, kLpTail = 7 };

template <class TS, class TT>
__global__ void __launch_bounds__(kThreads) forwardKernel(DivergenceLaunch p) {
    extern __shared__ uint32_t bits[];
    __shared__ Pass1 shmPass1[32];
    __shared__ Sum2 shmSum[32];
    __shared__ Acc shmAcc[32];
    const int64_t row = blockIdx.x;
    const TS* zsRow = static_cast<const TS*>(p.student) + row * p.studentStride;
    const TT* ztRow = p.teacher ? static_cast<const TT*>(p.teacher) + row * p.teacherStride : nullptr;
    const bool hasTeacher = ztRow != nullptr && p.divergence != KernelDivergence::None;
    const bool topK = p.support != KernelSupport::Full;
    const int64_t* ids = topK ? p.topKIds + row * p.topK : nullptr;
    if (topK) buildBitmap(bits, p.vocab, ids, p.topK);
    const float invT = p.invTemperature;

    // Pass 1: partitions, entropy, and forward/reverse KL sums in one read.
    Pass1 acc = Pass1::identity();
    for (int64_t j = threadIdx.x; j < p.vocab; j += blockDim.x) {
        if (p.mask && p.mask[j]) continue;
        const float zs = toFloat(zsRow[j]) * invT;
        if (hasTeacher) {
            const float zt = toFloat(ztRow[j]) * invT;
            acc.st.add(zs, zs, zs - zt);
            acc.te.add(zt, zt - zs, 0.f);
            if (p.support == KernelSupport::TopKTail && !isMember(bits, j)) {
                acc.stTail.add(zs, 0.f, 0.f);
                acc.teTail.add(zt, 0.f, 0.f);
            }
        } else {
            acc.st.add(zs, zs, 0.f);
        }
    }
    acc = blockAllReduce(acc, shmPass1);
    const float logZs = acc.st.lse();
    const float logZt = hasTeacher ? acc.te.lse() : 0.f;
    const float entropy = logZs - acc.st.a / acc.st.s;

    float divergence = 0.f, gbar = 0.f, lseSupS = 0.f, lseSupT = 0.f, gTail = 0.f;
    float lqTail = negInf(), lpTail = negInf();
    const float beta = p.jsdBeta;
    if (hasTeacher && !topK) {
        lseSupS = logZs;  // the backward normalises singletons by these
        lseSupT = logZt;
        if (p.divergence == KernelDivergence::ReverseKl) {
            divergence = acc.st.b / acc.st.s - logZs + logZt;
            gbar = divergence;
        } else if (p.divergence == KernelDivergence::ForwardKl) {
            divergence = acc.te.a / acc.te.s - logZt + logZs;
            gbar = -1.f;
        } else {  // JSD: pass 2 now that both partitions are known
            Sum2 s = Sum2::identity();
            for (int64_t j = threadIdx.x; j < p.vocab; j += blockDim.x) {
                if (p.mask && p.mask[j]) continue;
                const float lq = toFloat(zsRow[j]) * invT - logZs;
                const float lp = toFloat(ztRow[j]) * invT - logZt;
                s = Sum2::merge(s, term(p.divergence, lq, lp, beta));
            }
            s = blockAllReduce(s, shmSum);
            divergence = s.a;
            gbar = s.b;
        }
    } else if (hasTeacher) {
        // Top-k: the k support ids (gathered), then the tail bucket.
        if (p.support == KernelSupport::TopKRenormalized) {
            Acc a = Acc::identity(), b = Acc::identity();
            for (int t = threadIdx.x; t < p.topK; t += blockDim.x) {
                a.add(toFloat(zsRow[ids[t]]) * invT, 0.f, 0.f);
                b.add(toFloat(ztRow[ids[t]]) * invT, 0.f, 0.f);
            }
            lseSupS = blockAllReduce(a, shmAcc).lse();
            lseSupT = blockAllReduce(b, shmAcc).lse();
        } else {
            lseSupS = logZs;
            lseSupT = logZt;
            lqTail = acc.stTail.lse() - logZs;  // -inf when the tail is empty
            lpTail = acc.teTail.lse() - logZt;
        }
        Sum2 s = Sum2::identity();
        for (int t = threadIdx.x; t < p.topK; t += blockDim.x) {
            const float lq = toFloat(zsRow[ids[t]]) * invT - lseSupS;
            const float lp = toFloat(ztRow[ids[t]]) * invT - lseSupT;
            s = Sum2::merge(s, term(p.divergence, lq, lp, beta));
        }
        s = blockAllReduce(s, shmSum);
        const Sum2 tail = term(p.divergence, lqTail, lpTail, beta);
        divergence = s.a + tail.a;
        if (p.divergence == KernelDivergence::ReverseKl) gbar = divergence;
        else if (p.divergence == KernelDivergence::ForwardKl) gbar = -1.f;
        else gbar = s.b + tail.b;
        if (lqTail != negInf()) {
            if (p.divergence == KernelDivergence::ReverseKl) gTail = lqTail - lpTail;
            else if (p.divergence == KernelDivergence::Jsd) {
                const float x = logf(beta) + lpTail, y = log1pf(-beta) + lqTail;
                const float mx = fmaxf(x, y);
                gTail = (1.f - beta) * (lqTail - (mx + log1pf(expf(fminf(x, y) - mx))));
            }
        }
    }

    if (threadIdx.x == 0) {
        if (p.outDivergence) p.outDivergence[row] = divergence;
        if (p.outEntropy) p.outEntropy[row] = entropy;
        if (p.sampledIds) {
            const int64_t y = p.sampledIds[row];
            const bool masked = p.mask && p.mask[y];
            if (p.outStudentLogProb) p.outStudentLogProb[row] = masked ? negInf() : toFloat(zsRow[y]) * invT - logZs;
            if (p.outTeacherLogProb && hasTeacher)
                p.outTeacherLogProb[row] = masked ? negInf() : toFloat(ztRow[y]) * invT - logZt;
        }
        if (p.stats) {
            float* st = p.stats + row * kDivergenceStats;
            st[kLogZs] = logZs;
            st[kLogZt] = logZt;
            st[kGbar] = gbar;
            st[kLseSupS] = lseSupS;
            st[kLseSupT] = lseSupT;
            st[kGTail] = gTail;
            st[kLqTail] = lqTail;
            st[kLpTail] = lpTail;
        }
    }
}

template <class TS, class TT>
__global__ void __launch_bounds__(kThreads) backwardKernel(DivergenceLaunch p) {
    extern __shared__ uint32_t bits[];
    const int64_t row = blockIdx.x;
    const TS* zsRow = static_cast<const TS*>(p.student) + row * p.studentStride;
    const TT* ztRow = p.teacher ? static_cast<const TT*>(p.teacher) + row * p.teacherStride : nullptr;
    TS* gRow = static_cast<TS*>(p.gradStudent) + row * p.gradStride;
    const bool topK = p.support != KernelSupport::Full;
    if (topK) buildBitmap(bits, p.vocab, p.topKIds + row * p.topK, p.topK);
    const float* st = p.stats + row * kDivergenceStats;
    const float gbar = st[kGbar];
    const float lseSupS = st[kLseSupS], lseSupT = st[kLseSupT], gTail = st[kGTail];
    const float lqTail = st[kLqTail], lpTail = st[kLpTail];
    const float gd = (p.gradDivergence && ztRow && p.divergence != KernelDivergence::None) ? p.gradDivergence[row] : 0.f;
    const float gl = p.gradStudentLogProb ? p.gradStudentLogProb[row] : 0.f;
    const int64_t y = p.sampledIds ? p.sampledIds[row] : -1;
    const float invT = p.invTemperature, beta = p.jsdBeta;
    const bool tail = p.support == KernelSupport::TopKTail && lqTail != negInf();

    for (int64_t j = threadIdx.x; j < p.vocab; j += blockDim.x) {
        if (p.mask && p.mask[j]) {
            gRow[j] = fromFloat<TS>(0.f);
            continue;
        }
        const float zs = toFloat(zsRow[j]) * invT;
        const float lq = zs - st[kLogZs];
        const float q = expf(lq);
        float g = gl * ((j == y ? 1.f : 0.f) - q);
        if (gd != 0.f) {
            float d = 0.f;
            if (!topK || isMember(bits, j)) {
                const float zt = toFloat(ztRow[j]) * invT;
                d = singletonGrad(p.divergence, zs - lseSupS, zt - lseSupT, beta, gbar);
            } else if (tail) {
                d = p.divergence == KernelDivergence::ForwardKl ? q - expf(lq + lpTail - lqTail) : q * (gTail - gbar);
            }
            g += gd * d;
        }
        gRow[j] = fromFloat<TS>(g * invT);
    }
}

template <class TS, class TT>
int launchTyped(const DivergenceLaunch& p, cudaStream_t stream, bool forward) {
    const size_t shm = p.support != KernelSupport::Full ? static_cast<size_t>((p.vocab + 31) / 32) * 4 : 0;
    if (shm > static_cast<size_t>(kMaxBitmapBytes)) return -1;
    if (p.rows == 0) return 0;
    const dim3 grid(static_cast<unsigned>(p.rows)), block(kThreads);
    if (forward) forwardKernel<TS, TT><<<grid, block, shm, stream>>>(p);
    else backwardKernel<TS, TT><<<grid, block, shm, stream>>>(p);
    return static_cast<int>(cudaGetLastError());
}

template <class TS>
int launchStudent(const DivergenceLaunch& p, cudaStream_t stream, bool forward) {
    switch (p.teacher ? p.teacherType : p.studentType) {
    case LogitType::F32: return launchTyped<TS, float>(p, stream, forward);
    case LogitType::F16: return launchTyped<TS, __half>(p, stream, forward);
    case LogitType::BF16: return launchTyped<TS, __nv_bfloat16>(p, stream, forward);
    }
    return -2;
}

int launch(const DivergenceLaunch& p, void* stream, bool forward) {
    if (p.rows < 0 || p.rows > 0x7fffffff || p.vocab <= 0) return -3;
    if (p.support != KernelSupport::Full && (p.topK <= 0 || !p.topKIds)) return -3;
    if (p.divergence == KernelDivergence::Jsd && !(p.jsdBeta > 0.f && p.jsdBeta < 1.f)) return -3;
    auto s = static_cast<cudaStream_t>(stream);
    switch (p.studentType) {
    case LogitType::F32: return launchStudent<float>(p, s, forward);
    case LogitType::F16: return launchStudent<__half>(p, s, forward);
    case LogitType::BF16: return launchStudent<__nv_bfloat16>(p, s, forward);
    }
    return -2;
}

}  // namespace

int launchDivergenceForward(const DivergenceLaunch& p, void* cudaStream) { return launch(p, cudaStream, true); }

int launchDivergenceBackward(const DivergenceLaunch& p, void* cudaStream) {
    if (!p.stats || !p.gradStudent) return -3;
    return launch(p, cudaStream, false);
}

const char* divergenceLaunchError(int code) {
    switch (code) {
    case 0: return "no error";
    case -1: return "vocabulary too large for the top-k bitmap (48 KiB of shared memory, 393216 ids)";
    case -2: return "unsupported logits dtype";
    case -3: return "invalid launch arguments";
    default: return cudaGetErrorString(static_cast<cudaError_t>(code));
    }
}

int divergenceBlockThreads() { return kThreads; }

const char* divergenceKernelArchs() { return XOPD_CUDA_ARCHS; }

}  // namespace xopd::kernels
