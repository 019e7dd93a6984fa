// Reference divergences: plain ATen ops with autograd. Computes in fp32 (fp64 when either logits
// tensor is fp64, which the finite-difference tests use). Masked ids are sanitised before every
// product so that neither the value nor the gradient ever sees 0 * (-inf) or (-inf) - (-inf).
#include "core/distill/divergence/Divergence.h"

#include "core/common/Error.h"

#include <cmath>
#include <limits>

namespace xopd::distill {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

torch::ScalarType mathType(const torch::Tensor& a, const torch::Tensor& b) {
    bool dbl = a.scalar_type() == torch::kDouble || (b.defined() && b.scalar_type() == torch::kDouble);
    return dbl ? torch::kDouble : torch::kFloat;
}

/// logits / T in the math dtype, masked ids set to -inf.
torch::Tensor scaledMasked(const torch::Tensor& logits, const torch::Tensor& mask, double temperature,
                           torch::ScalarType type) {
    auto z = logits.to(type);
    if (temperature != 1.0) z = z / temperature;
    if (mask.defined()) z = z.masked_fill(mask.to(z.device()).unsqueeze(0), -kInf);
    return z;
}

/// Divergence between two sets of log-probabilities (rows = tokens, columns = outcomes).
/// `valid` marks outcomes that exist ([1, C] or [N, C] bool); invalid ones contribute 0.
torch::Tensor divergenceFromLogs(const torch::Tensor& lq, const torch::Tensor& lp, const torch::Tensor& valid,
                                 const DivergenceOptions& o) {
    auto zero = torch::zeros({}, lq.options());
    auto lqS = torch::where(valid, lq, zero);  // sanitised logs (0 where invalid)
    auto lpS = torch::where(valid, lp, zero);
    auto q = torch::where(valid, lqS.exp(), zero);
    auto p = torch::where(valid, lpS.exp(), zero);
    DivergenceKind kind = o.kind;
    if (kind == DivergenceKind::Jsd && o.jsdBeta == 0.0) kind = DivergenceKind::ForwardKl;
    if (kind == DivergenceKind::Jsd && o.jsdBeta == 1.0) kind = DivergenceKind::ReverseKl;
    switch (kind) {
    case DivergenceKind::ReverseKl:
        return (q * (lqS - lpS)).sum(1);
    case DivergenceKind::ForwardKl:
        return (p * (lpS - lqS)).sum(1);
    case DivergenceKind::Jsd: {
        const double b = o.jsdBeta;
        auto lm = torch::logaddexp(lpS + std::log(b), lqS + std::log1p(-b));
        lm = torch::where(valid, lm, zero);
        return b * (p * (lpS - lm)).sum(1) + (1.0 - b) * (q * (lqS - lm)).sum(1);
    }
    case DivergenceKind::Invalid:
        break;
    }
    XOPD_FAIL("divergence: invalid DivergenceKind");
}

}  // namespace

DivergenceOutput referenceDivergence(const DivergenceInput& in, const DivergenceOptions& o) {
    validateDivergence(in, o);
    const auto type = mathType(in.studentLogits, in.teacherLogits);
    auto zs = scaledMasked(in.studentLogits, in.vocabMask, o.temperature, type);
    auto zt = scaledMasked(in.teacherLogits.detach(), in.vocabMask, o.temperature, type);
    auto lq = torch::log_softmax(zs, 1);
    auto lp = torch::log_softmax(zt, 1);
    const int64_t V = zs.size(1);
    auto valid = in.vocabMask.defined() ? in.vocabMask.to(zs.device()).logical_not().unsqueeze(0)
                                        : torch::ones({1, V}, torch::dtype(torch::kBool).device(zs.device()));

    DivergenceOutput out;
    if (o.topK == 0) {
        out.divergence = divergenceFromLogs(lq, lp, valid, o);
    } else {
        auto ids = in.topKIds.defined() ? in.topKIds.to(zs.device())
                                        : teacherTopK(in.teacherLogits, in.vocabMask, o.topK);
        if (o.topKMode == TopKMode::Renormalized) {
            auto lqK = torch::log_softmax(zs.gather(1, ids), 1);
            auto lpK = torch::log_softmax(zt.gather(1, ids), 1);
            auto validK = torch::ones({1, o.topK}, valid.options());
            out.divergence = divergenceFromLogs(lqK, lpK, validK, o);
        } else {
            auto lqK = lq.gather(1, ids);
            auto lpK = lp.gather(1, ids);
            const int64_t validCount = valid.sum().item<int64_t>();
            if (o.topK == validCount) {  // empty tail: same support for every row
                auto validK = torch::ones({1, o.topK}, valid.options());
                out.divergence = divergenceFromLogs(lqK, lpK, validK, o);
            } else {
                // log of the tail mass = logsumexp over unmasked ids outside the support - logZ.
                auto lqTail = torch::logsumexp(zs.scatter(1, ids, -kInf), 1, true) - torch::logsumexp(zs, 1, true);
                auto lpTail = torch::logsumexp(zt.scatter(1, ids, -kInf), 1, true) - torch::logsumexp(zt, 1, true);
                auto validK = torch::ones({1, o.topK + 1}, valid.options());
                out.divergence = divergenceFromLogs(torch::cat({lqK, lqTail}, 1), torch::cat({lpK, lpTail}, 1), validK, o);
            }
        }
    }
    auto zero = torch::zeros({}, lq.options());
    auto lqS = torch::where(valid, lq, zero);
    out.studentEntropy = (-(lqS.exp() * lqS).sum(1)).detach();
    if (in.sampledIds.defined()) {
        auto idx = in.sampledIds.to(zs.device()).unsqueeze(1);
        out.studentLogProb = lq.gather(1, idx).squeeze(1);
        out.teacherLogProb = lp.gather(1, idx).squeeze(1).detach();
    }
    return out;
}

TokenLogProbOutput referenceTokenLogProbs(const torch::Tensor& logits, const torch::Tensor& sampledIds,
                                          const torch::Tensor& vocabMask, double temperature) {
    DivergenceInput in;
    in.studentLogits = logits;
    in.sampledIds = sampledIds;
    in.vocabMask = vocabMask;
    DivergenceOptions o;
    o.temperature = temperature;
    validateDivergence(in, o);
    XOPD_CHECK(sampledIds.defined(), "tokenLogProbs: sampledIds is required");
    auto z = scaledMasked(logits, vocabMask, temperature, mathType(logits, {}));
    auto lq = torch::log_softmax(z, 1);
    auto valid = vocabMask.defined() ? vocabMask.to(z.device()).logical_not().unsqueeze(0)
                                     : torch::ones({1, z.size(1)}, torch::dtype(torch::kBool).device(z.device()));
    auto lqS = torch::where(valid, lq, torch::zeros({}, lq.options()));
    TokenLogProbOutput out;
    out.logProb = lq.gather(1, sampledIds.to(z.device()).unsqueeze(1)).squeeze(1);
    out.entropy = (-(lqS.exp() * lqS).sum(1)).detach();
    return out;
}

}  // namespace xopd::distill
