#pragma once
// Teacher-forced scoring: log p(response token | prompt, earlier response tokens) for every token
// of given responses after given prompts, in one forward pass over [left-padded prompt | response].
// The logits are upcast to fp32 (kept fp64 in an fp64 model) before the log-softmax (§11). Teacher
// and student are aligned on the response span only; their prompts may differ in length (§12).
//
//   torch::NoGradGuard g;                                   // inference (teacher)
//   ScoreResult t = score(teacher, teacher_prompts, responses, {});
//   // training (student): no guard; r.logprobs carries the gradient into the weights
//   torch::Tensor lp = score(student, student_prompts, responses, {}).logprobs;   // [B, R]
//
// Threading: runs under the caller's grad mode; the decoder may be shared by concurrent calls.

#include "core/common/Tensors.h"
#include "core/model/runtime/PromptBatch.h"
#include "core/model/runtime/Qwen2Decoder.h"

#include <vector>

namespace xopd::model {

/// What to compute besides the sampled-token log-probs.
struct ScoreOptions {
    bool entropy = false;                   ///< per-token entropy of the (masked, tempered) distribution
    int64_t top_k = 0;                      ///< > 0: the k most likely ids and their log-probs per token
    bool full_distribution = false;         ///< the full log-prob rows [B, R, V] (large: B·R·V floats)
    bool rank = false;                      ///< rank of each response token (1 = most likely; ties share the best)
    double temperature = 1.0;               ///< logits are divided by this before the log-softmax
    std::vector<int64_t> masked_token_ids;  ///< ids set to −inf before the log-softmax (vocabulary alignment)
    int64_t pad_token_id = 0;               ///< id in padded slots (never attended)
    AttentionKernel kernel = AttentionKernel::Auto;  ///< attention implementation
    RouterStats* router_stats = nullptr;    ///< MoE models: routing of the real tokens is added here
};

/// Per-token results; R = the longest response, padded positions hold 0 and are false in the mask.
struct ScoreResult {
    torch::Tensor logprobs;       ///< [B, R] fp32 (fp64 for an fp64 model) log-prob of each response token
    torch::Tensor response_mask;  ///< [B, R] bool, true at real response tokens
    torch::Tensor entropy;        ///< [B, R] fp32 (when asked)
    torch::Tensor topk_ids;       ///< [B, R, k] int64 (when asked)
    torch::Tensor topk_logprobs;  ///< [B, R, k] fp32 (when asked)
    torch::Tensor full_logprobs;  ///< [B, R, V] fp32 (when asked)
    torch::Tensor rank;           ///< [B, R] int64 (when asked): 1 + ids strictly more likely than the token
};

/// Scores responses[i] after prompts[i]. Differentiable unless under NoGradGuard. Throws
/// xopd::Error on mismatched batch sizes or a token id outside the vocabulary.
ScoreResult score(const Qwen2Decoder& decoder, const std::vector<PromptInput>& prompts,
                  const std::vector<std::vector<int64_t>>& responses, const ScoreOptions& options = {});

}  // namespace xopd::model
