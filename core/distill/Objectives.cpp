#include "core/distill/Objectives.h"

#include "core/common/Error.h"

#include <limits>

namespace xopd::distill {

torch::Tensor sequenceLengths(const torch::Tensor& mask) { return mask.sum(/*dim=*/1).clamp_min(1.0); }

torch::Tensor policyGradientObjectiveSum(const torch::Tensor& lp_new, const torch::Tensor& lp_old,
                                         const torch::Tensor& advantage, const torch::Tensor& weight,
                                         const torch::Tensor& mask, double clip_eps, LossAgg agg) {
    XOPD_ASSERT(lp_new.sizes() == lp_old.sizes() && lp_new.sizes() == advantage.sizes() &&
                lp_new.sizes() == mask.sizes());
    // Masked positions may hold -inf log-probs (padding); keep them out of exp().
    const auto diff = torch::where(mask > 0, lp_new - lp_old, torch::zeros_like(lp_new));
    const auto ratio = torch::exp(diff);
    auto surrogate = ratio * advantage;
    if (clip_eps > 0.0) {
        const auto clipped = torch::clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantage;
        surrogate = torch::min(surrogate, clipped);
    }
    if (weight.defined()) surrogate = surrogate * weight;
    surrogate = surrogate * mask;
    if (agg == LossAgg::TokenMean) return surrogate.sum();
    return (surrogate.sum(/*dim=*/1) / sequenceLengths(mask)).sum();
}

torch::Tensor shapeAdvantage(const torch::Tensor& raw, const torch::Tensor& mask, const DistillLossConfig& c) {
    auto a = raw;
    switch (c.reward_transform) {
        case RewardTransform::Tanh: a = c.reward_bound * torch::tanh(a / c.reward_bound); break;
        case RewardTransform::Clip: a = torch::clamp(a, -c.reward_bound, c.reward_bound); break;
        default: break;
    }
    if (c.advantage_clip > 0.0) a = torch::clamp(a, -c.advantage_clip, c.advantage_clip);
    if (c.reward_scale != 1.0) a = a * c.reward_scale;
    return torch::where(mask > 0, a, torch::zeros_like(a));
}

torch::Tensor cordWeights(const torch::Tensor& advantage, const torch::Tensor& mask, const DistillLossConfig& c) {
    auto w = mask.clone();
    const int64_t L = mask.size(1);
    if (L == 0) return w;
    if (c.cord_topk > 0 && c.cord_alpha != 1.0) {
        // Top-K by divergence −A among unmasked positions of each row.
        const auto score = torch::where(mask > 0, -advantage, torch::full_like(advantage, -std::numeric_limits<float>::infinity()));
        const int64_t k = std::min<int64_t>(c.cord_topk, L);
        const auto top = std::get<1>(score.topk(k, /*dim=*/1));
        auto boost = torch::zeros_like(w);
        boost.scatter_(1, top, 1.0);
        boost = boost * mask;  // rows shorter than K: only their real tokens
        w = w * (1.0 + (c.cord_alpha - 1.0) * boost);
    }
    if (c.pos_decay_beta != 1.0) {
        // Position among unmasked tokens (1-based) and the row's unmasked length.
        const auto t = torch::cumsum(mask, /*dim=*/1);
        const auto T = mask.sum(/*dim=*/1, /*keepdim=*/true);
        const auto frac = torch::where(T > 1, (t - 1.0) / (T - 1.0).clamp_min(1.0), torch::zeros_like(t));
        const auto wpos = c.pos_decay_beta - (c.pos_decay_beta - 1.0) * frac;
        w = w * wpos;
    }
    return w * mask;
}

torch::Tensor maskedLogSoftmax(const torch::Tensor& logits, const torch::Tensor& comparable, double temperature) {
    auto x = logits.to(torch::kFloat32);
    if (temperature != 1.0) x = x / temperature;
    const auto keep = comparable.to(x.device()).to(torch::kBool);
    x = x.masked_fill(keep.logical_not(), -std::numeric_limits<float>::infinity());
    return torch::log_softmax(x, /*dim=*/-1);
}

torch::Tensor gatherTokenLogprobs(const torch::Tensor& logp, const torch::Tensor& tokens) {
    return logp.gather(/*dim=*/-1, tokens.to(torch::kLong).unsqueeze(-1)).squeeze(-1);
}

torch::Tensor entropyFromLogp(const torch::Tensor& logp) {
    const auto p = logp.exp();
    const auto plogp = torch::where(p > 0, p * logp, torch::zeros_like(logp));
    return -plogp.sum(/*dim=*/-1);
}

torch::Tensor sequenceMeanSum(const torch::Tensor& per_token, const torch::Tensor& mask) {
    const auto masked = torch::where(mask > 0, per_token, torch::zeros_like(per_token));
    return (masked.sum(/*dim=*/1) / sequenceLengths(mask)).sum();
}

}  // namespace xopd::distill
