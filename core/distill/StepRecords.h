#pragma once
// What one distillation step produces: its scalars, its sampled responses as text and, per
// response token, what both models saw. The trainer (Trainer.h) and the Ask screen's scorer
// (AskService.h) produce them; the run layer (core/run: RunObserver, RunStore) carries and stores
// them. The structs are plain values: copy them freely across threads.
//
// Stability contract: widgets/ and the CLI build against these types. Add fields; do not rename or
// remove them.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace xopd {

/// Scalars of one optimizer step. Keys are "<stream>/<metric>" for per-stream metrics
/// ("speech/adv_mean", "text/adv_mean", "speech/adv_p90", "modality_gap_mean") and plain names for
/// the rest ("loss", "grad_norm", "lr", "lambda", "tokens_per_s", "time/rollout_s", ...).
/// NaN means "not measured this step".
struct StepMetrics {
    int64_t step = 0;               ///< 1-based optimizer step
    double wall_time_s = 0.0;       ///< seconds since the run (or its resume) started
    double unix_time_s = 0.0;       ///< wall clock when the step finished
    std::map<std::string, double> scalars;
    /// JSON-valued metrics, e.g. "speech/position_profile" = {"1-16": 0.8, "17-64": 0.3, ...}
    /// (mean |A| per response-position bucket, method.md §14 M3). Added field.
    std::map<std::string, std::string> json;
};

/// One sampled response as text (run store table `samples`). Added type.
struct SampleRecord {
    int64_t step = 0;
    int32_t sample_index = 0;   ///< row within the step (matches TokenDivergenceBatch::sample_index)
    std::string stream;         ///< "speech" / "text"
    std::string prompt_id;
    std::string prompt_text;
    std::string response_text;
    int32_t length = 0;         ///< response tokens
    bool eos = false;           ///< ended with a stop token
    bool truncated = false;     ///< hit max_new_tokens
};

/// One response token as both models saw it.
struct TokenRecord {
    int32_t token_id = 0;
    std::string text;                  ///< decoded piece, whitespace kept
    int32_t position = 0;              ///< index within the response (0-based)
    float student_logprob = 0.f;       ///< log π_old(y_t | ctx, y_<t), ctx = the stream's prompt
    float teacher_logprob = 0.f;       ///< log π_teacher(y_t | T, y_<t)
    float advantage = 0.f;             ///< teacher − student, after masking (0 when masked)
    float student_other_logprob = 0.f; ///< student under the other modality's prompt (NaN if unknown)
    float entropy = 0.f;               ///< student's entropy at this position, nats (NaN if unknown)
    bool masked = false;               ///< excluded from the loss (special / non-shared id)
    std::vector<std::pair<int32_t, float>> student_topk;  ///< (id, logprob), best first; may be empty
    std::vector<std::pair<int32_t, float>> teacher_topk;
};

/// The tokens of one sampled response, with the step and stream it belongs to.
struct TokenDivergenceBatch {
    int64_t step = 0;
    int32_t sample_index = 0;     ///< rollout index within the step
    std::string stream;           ///< "speech" (cross-modal) or "text" (in-modal)
    std::string prompt_id;        ///< prompt set item id
    std::string prompt_text;      ///< the transcript T
    std::vector<TokenRecord> tokens;
    bool truncated = false;       ///< hit max_new_tokens without a stop token
};

}  // namespace xopd
