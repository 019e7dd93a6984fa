#pragma once
// Loss terms of X-OPD and its baselines, as pure tensor functions (no models, no state), so each can
// be checked against an independent float64 reference (tests/reference/distill/).
//
// Normalisation (peers.md R6): every function returns a SUM over the sequences it was given, plus
// the count to normalise by. The trainer divides each micro-batch's sum by the count of the WHOLE
// batch (all micro-batches) so the loss and its gradient do not depend on how the batch is split.
//
// Conventions: tensors are [N, L] (rows × response positions) unless noted; `mask` is float {0,1}
// (1 = token in the loss); advantages and old log-probs are detached by the caller. Masked tokens
// leave |y| (method.md §7 D14).
//
// Threading: pure functions; safe from any thread.

#include "core/distill/DistillConfig.h"

#include "core/common/Tensors.h"

namespace xopd::distill {

/// Sum over sequences of the per-sequence policy-gradient objective (to be MAXIMISED):
///   seq_mean_token_mean:  Σ_seq (1/|y|) Σ_t w_t · s_t          (normalise by the number of sequences)
///   token_mean:           Σ_seq Σ_t w_t · s_t                  (normalise by the number of tokens)
/// with s_t = r_t · A_t, r_t = exp(lp_new − lp_old), or with clip_eps > 0 the PPO surrogate
/// s_t = min(r_t A_t, clip(r_t, 1 − ε, 1 + ε) A_t). `weight` may be undefined (all ones).
torch::Tensor policyGradientObjectiveSum(const torch::Tensor& lp_new, const torch::Tensor& lp_old,
                                         const torch::Tensor& advantage, const torch::Tensor& weight,
                                         const torch::Tensor& mask, double clip_eps, LossAgg agg);

/// Per-row unmasked token counts [N] (float), clamped below at 1 so empty rows contribute 0.
torch::Tensor sequenceLengths(const torch::Tensor& mask);

/// Shapes raw advantages A = lp_teacher − lp_old: reward_transform (tanh / clip with reward_bound),
/// then advantage_clip, then reward_scale; zero where mask is 0.
torch::Tensor shapeAdvantage(const torch::Tensor& raw, const torch::Tensor& mask, const DistillLossConfig& c);

/// CORD token weights w_t = w_KL · w_pos: w_KL = cord_alpha on the cord_topk positions with the
/// largest per-token divergence (−A) of each row, else 1; w_pos = β − (β − 1)(t − 1)/(T − 1) with
/// β = pos_decay_beta, t the 1-based position and T the row's length (β at the first token, 1 at
/// the last). All ones when both knobs are off. Zero where mask is 0.
torch::Tensor cordWeights(const torch::Tensor& advantage, const torch::Tensor& mask, const DistillLossConfig& c);

/// Sum over sequences of the per-sequence mean of `per_token` (to be MINIMISED), normalised later
/// by the number of sequences: Σ_seq (1/|y|) Σ_t per_token_t.
torch::Tensor sequenceMeanSum(const torch::Tensor& per_token, const torch::Tensor& mask);

/// GKD divergences themselves come from core/distill/divergence/Divergence.h (computeDivergence).

/// Log-softmax of logits / temperature over ids where `comparable` ([V] bool) is true; other ids
/// get −inf (they are never sampled and never compared). Computed in float32.
torch::Tensor maskedLogSoftmax(const torch::Tensor& logits, const torch::Tensor& comparable, double temperature);

/// Log-prob of each token: logp [N, L, V] gathered at tokens [N, L] → [N, L].
torch::Tensor gatherTokenLogprobs(const torch::Tensor& logp, const torch::Tensor& tokens);

/// Entropy per position of a log-prob tensor [N, L, V] → [N, L] (nats; −inf entries contribute 0).
torch::Tensor entropyFromLogp(const torch::Tensor& logp);

}  // namespace xopd::distill
