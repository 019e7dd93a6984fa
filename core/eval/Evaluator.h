#pragma once
// Speech-versus-text probe of one model (method.md §9.3, in miniature): every prompt with a
// reference answer is asked once with speech input (S: the audio clip through the model's audio
// tower, when it has one) and once with text input (T: the transcript), decoded greedily, and the
// answer is matched against the reference (AnswerMatch.h). Prompts are built with the model's own
// chat template (user turn = the audio alone, or the transcript alone; default system message).
// Ids past the tokenizer's vocabulary (padded embedding rows) are never generated.
//
//   auto lm = model::loadModel(dir);
//   auto tok = text::Tokenizer::fromFile(dir);
//   EvalResult r = evaluateModel(lm, tok, text::detectChatTemplateInFolder(dir), prompts, {});
//   r.scores.speech;  r.scores.text;  r.predictions[0].answer;
//
// Threading: runs on the calling thread under a NoGradGuard; the model is only read.

#include "core/eval/AnswerMatch.h"
#include "core/eval/Scores.h"
#include "core/model/runtime/AudioEncoder.h"
#include "core/model/runtime/SpeechLm.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Tokenizer.h"

#include <functional>
#include <string>
#include <vector>

namespace xopd::eval {

/// One prompt to evaluate.
struct EvalPrompt {
    /// Id (for the per-prompt report).
    std::string id;
    /// Absolute path of the audio clip (used for S).
    std::string audio_path;
    /// The transcript (used for T).
    std::string transcript;
    /// The reference answer.
    std::string reference;
};

/// Options of evaluateModel.
struct EvalOptions {
    /// How answers are matched.
    MatchMode match = MatchMode::Exact;
    /// Greedy decoding budget per answer.
    int64_t max_new_tokens = 16;
    /// Prompts per generate() call.
    int batch_size = 32;
    /// Score speech input (ignored for a text-only model).
    bool speech = true;
    /// Score text input.
    bool text = true;
    /// Mel bins of the front end; 0 = the audio tower's num_mel_bins.
    int mel_bins = 0;
};

/// One answer.
struct EvalPrediction {
    /// Prompt id.
    std::string id;
    /// "speech" or "text".
    std::string modality;
    /// The decoded answer (special tokens removed, trimmed).
    std::string answer;
    /// The reference.
    std::string reference;
    /// Whether it matched.
    bool correct = false;
};

/// Scores and answers of one model.
struct EvalResult {
    /// Accuracy in percent per modality (empty when not measured).
    ModalityScores scores;
    /// Every answer, speech ones first.
    std::vector<EvalPrediction> predictions;
};

/// Provides the features of a prompt's clip; the default reads the file and computes Whisper
/// log-mel features (valid frames only).
using FeatureProvider = std::function<model::AudioFeatures(const EvalPrompt&)>;

/// Evaluates the model (see the header comment). Throws xopd::Error when no prompt has a reference.
EvalResult evaluateModel(const model::SpeechLm& lm, const text::Tokenizer& tokenizer, text::ChatTemplateKind kind,
                         const std::vector<EvalPrompt>& prompts, const EvalOptions& options,
                         const FeatureProvider& features = {});

}  // namespace xopd::eval
