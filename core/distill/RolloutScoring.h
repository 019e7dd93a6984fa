#pragma once
// One scoring path for sampled responses, shared by the trainer (every step) and the Ask screen
// (AskService), so that the same tokens show the same numbers in both: both models' log-probs of
// every response token at the loss temperature, with the same masking (ids that are not real,
// shared, comparable tokens, and the loss's extra masked ids), the advantage A_t = log p_teacher −
// log p_student shaped as the loss shapes it, the student's entropy, optionally the student's
// log-probs under the other modality's prompt (modality gap) and the top-k alternatives of both
// models, and the token records the token view draws.
//
//   RolloutScorer scorer(*student, *teacher, config.loss.mask_special_tokens);
//   ScoringRequest want;  want.topk = 5;  want.topk_rows = {0};
//   ScoredRollouts s = scorer.score(prompts, rollouts, Stream::Speech, config.loss, want);
//   std::vector<TokenRecord> row0 = scorer.tokenRecords(s, rollouts, 0);
//
// Threading: one thread at a time (the policies are not thread-safe); runs under a NoGradGuard.
// Lifetime: the policies must outlive the scorer.

#include "core/common/Tensors.h"
#include "core/distill/DistillConfig.h"
#include "core/distill/Policy.h"
#include "core/distill/StepRecords.h"

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace xopd::distill {

/// What to compute besides both models' log-probs of the sampled tokens.
struct ScoringRequest {
    /// Rows whose per-position top-k alternatives are wanted.
    std::set<int64_t> topk_rows;
    /// k of those alternatives (0 = none).
    int64_t topk = 0;
    /// Also the student's log-probs of the same tokens under the other modality's prompt.
    bool other_modality = false;
    /// Keep the teacher's logits [N, L, V] (GKD's full-distribution loss).
    bool teacher_logits = false;
};

/// Per-token scores of one stream's rollouts: [N, L] tensors on the student's device.
struct ScoredRollouts {
    torch::Tensor loss_mask;   ///< float: 1 on real, comparable tokens not in extra_mask_ids
    torch::Tensor gather_ids;  ///< long: the tokens, with non-comparable ones replaced by the first stop id
    torch::Tensor lp_old;      ///< log π_old(y_t) of the sampling stream, at the loss temperature
    torch::Tensor entropy;     ///< the student's entropy at each position (nats)
    torch::Tensor lp_teacher;  ///< log π_teacher(y_t | T)
    torch::Tensor lp_other;    ///< the student under the other modality's prompt (undefined unless asked)
    torch::Tensor adv_raw;     ///< lp_teacher − lp_old where loss_mask, else 0
    torch::Tensor adv;         ///< adv_raw shaped as the loss shapes it (shapeAdvantage)
    torch::Tensor teacher_logits;  ///< [N, L, V] (undefined unless asked)
    std::map<int64_t, TopkRow> student_topk;  ///< per requested row
    std::map<int64_t, TopkRow> teacher_topk;
    double teacher_seconds = 0.0;  ///< wall time of the teacher's forward pass (or of its server's answers)
};

/// The record of one response without its tokens: where it belongs (step, row, stream, prompt).
TokenDivergenceBatch tokenBatchOf(const PromptItem& prompt, Stream stream, int64_t step, int32_t sample_index,
                                  bool truncated);

class RolloutScorer {
public:
    /// The vocabulary compared is the smaller of the two models'; with mask_special_tokens the ids
    /// either model marks as not comparable are masked (Policy::comparableIds).
    RolloutScorer(Policy& student, Policy& teacher, bool mask_special_tokens);

    /// Vocabulary size both models are compared on.
    int64_t vocab() const { return vocab_; }
    /// [vocab()] bool on CPU: the ids compared.
    const torch::Tensor& comparable() const { return comparable_; }

    /// Scores rollouts `r` that the student sampled under `stream` for `prompts` (r.prompt_index
    /// indexes them). The teacher always reads the transcript.
    ScoredRollouts score(const std::vector<PromptItem>& prompts, const Rollouts& r, Stream stream,
                         const DistillLossConfig& loss, const ScoringRequest& request) const;

    /// The token records of one row, as the token view shows them (masked = not in the loss).
    std::vector<TokenRecord> tokenRecords(const ScoredRollouts& s, const Rollouts& r, int64_t row) const;

private:
    Policy& student_;
    Policy& teacher_;
    int64_t vocab_ = 0;
    torch::Tensor comparable_;
};

}  // namespace xopd::distill
