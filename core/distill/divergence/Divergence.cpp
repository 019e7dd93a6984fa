// Validation, naming and device dispatch of the divergence functions.
#include "core/distill/divergence/Divergence.h"

#include "core/common/Error.h"
#include "core/distill/divergence/DivergenceBackend.h"

#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

namespace xopd::distill {
namespace {

bool isLogitType(torch::ScalarType t) {
    return t == torch::kBFloat16 || t == torch::kHalf || t == torch::kFloat || t == torch::kDouble;
}

void checkLogits(const torch::Tensor& t, const char* name) {
    XOPD_CHECK(t.defined(), "divergence: " << name << " is undefined");
    XOPD_CHECK(t.dim() == 2, "divergence: " << name << " must be [tokens, vocab], got " << t.sizes());
    XOPD_CHECK(isLogitType(t.scalar_type()),
               "divergence: " << name << " must be bf16, fp16, fp32 or fp64, got " << t.scalar_type());
    XOPD_CHECK(t.size(1) > 0, "divergence: " << name << " has an empty vocabulary");
}

}  // namespace

void validateDivergence(const DivergenceInput& in, const DivergenceOptions& o) {
    checkLogits(in.studentLogits, "student logits");
    const int64_t N = in.studentLogits.size(0), V = in.studentLogits.size(1);
    if (in.teacherLogits.defined()) {
        checkLogits(in.teacherLogits, "teacher logits");
        XOPD_CHECK(in.teacherLogits.sizes() == in.studentLogits.sizes(),
                   "divergence: teacher logits " << in.teacherLogits.sizes() << " and student logits "
                                                 << in.studentLogits.sizes() << " differ in shape");
        XOPD_CHECK(in.teacherLogits.device() == in.studentLogits.device(),
                   "divergence: teacher logits on " << in.teacherLogits.device() << ", student logits on "
                                                    << in.studentLogits.device());
    }
    XOPD_CHECK(std::isfinite(o.temperature) && o.temperature > 0,
               "divergence: temperature must be > 0, got " << o.temperature);
    int64_t validCount = V;
    if (in.vocabMask.defined()) {
        XOPD_CHECK(in.vocabMask.dim() == 1 && in.vocabMask.size(0) == V && in.vocabMask.scalar_type() == torch::kBool,
                   "divergence: vocabulary mask must be bool [" << V << "], got " << in.vocabMask.scalar_type() << " "
                                                                << in.vocabMask.sizes());
        validCount = V - in.vocabMask.sum().item<int64_t>();
        XOPD_CHECK(validCount > 0, "divergence: vocabulary mask excludes every id");
    }
    if (in.sampledIds.defined()) {
        XOPD_CHECK(in.sampledIds.dim() == 1 && in.sampledIds.size(0) == N && in.sampledIds.scalar_type() == torch::kLong,
                   "divergence: sampled ids must be int64 [" << N << "], got " << in.sampledIds.scalar_type() << " "
                                                             << in.sampledIds.sizes());
        if (N > 0) {
            const int64_t lo = in.sampledIds.min().item<int64_t>(), hi = in.sampledIds.max().item<int64_t>();
            XOPD_CHECK(lo >= 0 && hi < V, "divergence: sampled ids must lie in [0, " << V << "), got [" << lo << ", "
                                                                                     << hi << "]");
        }
    }
    if (!in.teacherLogits.defined()) return;  // tokenLogProbs: no divergence options to check
    XOPD_CHECK(o.kind == DivergenceKind::ForwardKl || o.kind == DivergenceKind::ReverseKl || o.kind == DivergenceKind::Jsd,
               "divergence: invalid divergence kind " << static_cast<int>(o.kind));
    XOPD_CHECK(o.kind != DivergenceKind::Jsd || (o.jsdBeta >= 0.0 && o.jsdBeta <= 1.0),
               "divergence: jsd beta must be in [0, 1], got " << o.jsdBeta);
    XOPD_CHECK(o.topK >= 0 && o.topK <= validCount,
               "divergence: top-k " << o.topK << " must be in [0, " << validCount << "] (unmasked ids)");
    if (o.topK > 0) {
        XOPD_CHECK(o.topKMode == TopKMode::Renormalized || o.topKMode == TopKMode::TailBucket,
                   "divergence: invalid top-k mode " << static_cast<int>(o.topKMode));
        if (in.topKIds.defined()) {
            XOPD_CHECK(in.topKIds.dim() == 2 && in.topKIds.size(0) == N && in.topKIds.size(1) == o.topK &&
                           in.topKIds.scalar_type() == torch::kLong,
                       "divergence: top-k ids must be int64 [" << N << ", " << o.topK << "], got "
                                                               << in.topKIds.scalar_type() << " " << in.topKIds.sizes());
            if (N > 0) {
                const int64_t lo = in.topKIds.min().item<int64_t>(), hi = in.topKIds.max().item<int64_t>();
                XOPD_CHECK(lo >= 0 && hi < V,
                           "divergence: top-k ids must lie in [0, " << V << "), got [" << lo << ", " << hi << "]");
                auto sorted = std::get<0>(in.topKIds.sort(1));
                XOPD_CHECK(o.topK < 2 || !sorted.diff(1, 1).eq(0).any().item<bool>(),
                           "divergence: top-k ids repeat an id within a row");
                if (in.vocabMask.defined())
                    XOPD_CHECK(!in.vocabMask.to(in.topKIds.device()).index({in.topKIds}).any().item<bool>(),
                               "divergence: top-k ids contain masked vocabulary ids");
            }
        }
    }
}

torch::Tensor teacherTopK(const torch::Tensor& teacherLogits, const torch::Tensor& vocabMask, int64_t k) {
    torch::NoGradGuard noGrad;
    auto z = teacherLogits.detach();
    if (vocabMask.defined())
        z = z.masked_fill(vocabMask.to(z.device()).unsqueeze(0), -std::numeric_limits<double>::infinity());
    return std::get<1>(z.topk(k, /*dim=*/1, /*largest=*/true, /*sorted=*/true));
}

std::string describe(const DivergenceOptions& o) {
    std::ostringstream s;
    switch (o.kind) {
    case DivergenceKind::ForwardKl: s << "forward_kl"; break;
    case DivergenceKind::ReverseKl: s << "reverse_kl"; break;
    case DivergenceKind::Jsd: s << "jsd(" << o.jsdBeta << ")"; break;
    default: s << "invalid"; break;
    }
    if (o.topK > 0) s << " top" << o.topK << (o.topKMode == TopKMode::TailBucket ? " tail" : " renorm");
    if (o.temperature != 1.0) s << " T=" << o.temperature;
    return s.str();
}

DivergenceKind parseDivergenceKind(const std::string& name) {
    if (name == "fkl" || name == "forward_kl") return DivergenceKind::ForwardKl;
    if (name == "rkl" || name == "reverse_kl" || name == "full_vocab_reverse_kl") return DivergenceKind::ReverseKl;
    if (name == "jsd") return DivergenceKind::Jsd;
    XOPD_FAIL("divergence: unknown divergence '" << name << "' (expected forward_kl, reverse_kl or jsd)");
}

DivergenceOutput computeDivergence(const DivergenceInput& input, const DivergenceOptions& options) {
    XOPD_CHECK(input.studentLogits.defined(), "divergence: student logits are undefined");
    XOPD_CHECK(input.teacherLogits.defined(), "divergence: teacher logits are undefined");
    validateDivergence(input, options);
    return divergenceBackend(input.studentLogits.device().type()).divergence(input, options);
}

TokenLogProbOutput tokenLogProbs(const torch::Tensor& logits, const torch::Tensor& sampledIds,
                                 const torch::Tensor& vocabMask, double temperature) {
    XOPD_CHECK(logits.defined(), "tokenLogProbs: logits are undefined");
    XOPD_CHECK(sampledIds.defined(), "tokenLogProbs: sampled ids are undefined");
    return divergenceBackend(logits.device().type()).tokenLogProbs(logits, sampledIds, vocabMask, temperature);
}

}  // namespace xopd::distill
