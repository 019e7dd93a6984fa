#pragma once
// AskService: the "Ask" demo of the workbench, in the core. One prompt pair (audio S + transcript
// T) goes to both models at once:
//   - the student answers the audio (speech stream) and, for comparison, the transcript;
//   - the teacher answers the transcript;
//   - the teacher then scores every token of the student's answers under T, giving the per-token
//     log-ratio A_t = log p_teacher − log p_student (speech row: A_cm, text row: A_im), with both
//     models' top-k alternatives, entropy and the student's modality gap, as TokenDivergenceBatch
//     rows the GUI's token view draws.
//
//   AskService ask(config);                  // student / teacher sources of a distill::DistillConfig
//   ask.load();                              // builds the models (slow: call on a worker thread)
//   AskRequest q; q.prompt = ask.prompts()[0];
//   AskAnswer a = ask.ask(q);                // a.student_answer, a.teacher_answer, a.speech.tokens
//
// Model sources are those of distill::makeRunModels ("toy", "demo", "hf"); the prompts of the
// config's data section are offered as ready-made questions.
//
// Torch-free header: widgets/ include it and call it from a worker QThread. Threading: one thread
// at a time (the models are not thread-safe); every call blocks. Errors: xopd::Error naming the
// folder or file at fault.

#include "core/data/PromptSet.h"
#include "core/distill/DistillConfig.h"
#include "core/distill/StepRecords.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace xopd::session {

/// The three answers of one ask, in the order they are generated.
enum class AskPart {
    StudentSpeech = 1,  ///< the student's answer to the audio
    StudentText,        ///< the student's answer to the transcript
    Teacher,            ///< the teacher's answer to the transcript
};

/// Decoding knobs of one ask.
struct AskRequest {
    /// The question: its transcript T (the teacher's input; must not be empty), its audio clip S
    /// (any libsndfile format; "" only for toy models, which synthesise their "speech" from the
    /// transcript) and its id, shown in the token view ("" = "ask").
    data::PromptItem prompt;
    /// Response budget in tokens (>= 1).
    int64_t max_new_tokens = 64;
    /// Sampling temperature (> 0; small = nearly greedy).
    double temperature = 0.05;
    /// Seed of the sampler (same seed + same models = same answers).
    uint64_t seed = 0;
    /// Top-k alternatives logged per token for the hover panel (0 = none).
    int64_t topk = 5;
    /// Streaming: called as each answer grows, token by token, with the answer's text so far (stop
    /// tokens not included; the last call of a part has the final answer). On the asking thread;
    /// may be empty.
    std::function<void(AskPart part, const std::string& text_so_far)> on_text;
};

/// What both models said, and how they disagree token by token.
struct AskAnswer {
    /// The student's answer to the audio S.
    std::string student_answer;
    /// The student's answer to the transcript T.
    std::string student_text_answer;
    /// The teacher's answer to the transcript T.
    std::string teacher_answer;
    /// The student's speech answer scored by the teacher (stream "speech", step 0).
    TokenDivergenceBatch speech;
    /// The student's text answer scored by the teacher (stream "text", step 0).
    TokenDivergenceBatch text;
    /// Mean A over the speech answer's unmasked tokens (NaN when it is empty).
    double speech_mean_advantage = 0.0;
    /// Mean A over the text answer's unmasked tokens (NaN when it is empty).
    double text_mean_advantage = 0.0;
    /// Wall time of the ask, seconds.
    double seconds = 0.0;
};

class AskService {
public:
    /// Uses config.student, config.teacher, config.data and config.train.device/dtype. Nothing is
    /// loaded yet. Throws xopd::Error when the config is invalid.
    explicit AskService(distill::DistillConfig config);
    ~AskService();
    AskService(const AskService&) = delete;
    AskService& operator=(const AskService&) = delete;

    /// Loads both models and the prompt list (idempotent). Throws xopd::Error naming the folder.
    void load();
    bool loaded() const;
    /// "student: …, teacher: …" once loaded ("" before).
    std::string describe() const;
    /// The config's prompts as ready-made questions (empty before load()).
    std::vector<data::PromptItem> prompts() const;
    /// Asks both models (loads first when needed). Throws xopd::Error for an empty transcript, a
    /// missing audio file, or a non-toy model without audio.
    AskAnswer ask(const AskRequest& request);
    /// Scores a response of the student (its token ids, a final stop id included) to `prompt`, heard
    /// ("speech") or read ("text"), with both models exactly as ask() and the trainer's token records
    /// do (distill/RolloutScoring.h): a run's logged tokens re-scored here show the same numbers.
    /// Loads first when needed. Throws xopd::Error for an unknown stream.
    TokenDivergenceBatch scoreResponse(const data::PromptItem& prompt, const std::string& stream,
                                       const std::vector<int32_t>& tokens, int64_t topk = 5);
    /// Text of a token id in the student's vocabulary (after load()).
    std::string tokenText(int32_t id) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace xopd::session
