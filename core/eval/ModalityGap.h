#pragma once
// A model's own modality gap on prompts with reference answers (GapBreakdown.h): for each prompt,
// the mean log-prob per token (nats) of its reference answer — the tokenizer's ids of the
// reference followed by <|im_end|> when the vocabulary has one — teacher-forced after the chat
// template's user turn holding (a) the transcript as text, (b) the audio clip (the same prompt
// construction as the evaluator's S and T). Together with the evaluator's greedy answers this
// gives one ClipOutcome per prompt.
//
//   auto lm = model::loadModel(dir);  auto tok = text::Tokenizer::fromFile(dir);
//   std::vector<ClipOutcome> o = evaluateClipOutcomes(lm, tok, kind, prompts, {});
//   o[0].gap();   // nats per token, positive = speech hurts
//
// Threading: runs on the calling thread under a NoGradGuard; the model is only read.

#include "core/eval/Evaluator.h"
#include "core/eval/GapBreakdown.h"

#include <vector>

namespace xopd::eval {

/// The ids scored for `reference`: its encoding followed by <|im_end|> when the vocabulary has one.
std::vector<int64_t> scoredAnswerIds(const text::Tokenizer& tokenizer, const std::string& reference);

/// Mean log-probs per token of each prompt's reference answer, given the text and given the speech.
struct AnswerLogProbs {
    double text = 0.0;
    double speech = 0.0;
    int tokens = 0;
};

/// Per prompt (every prompt must have a reference; the model must have an audio tower), in order,
/// `batch_size` prompts per forward pass. Throws xopd::Error naming the prompt otherwise.
std::vector<AnswerLogProbs> answerLogProbs(const model::SpeechLm& lm, const text::Tokenizer& tokenizer,
                                           text::ChatTemplateKind kind, const std::vector<EvalPrompt>& prompts,
                                           int batch_size, const FeatureProvider& features);

/// evaluateModel (greedy S and T answers) plus answerLogProbs, one outcome per prompt in order.
/// Each clip's features are computed once. Every prompt must have a reference answer.
std::vector<ClipOutcome> evaluateClipOutcomes(const model::SpeechLm& lm, const text::Tokenizer& tokenizer,
                                              text::ChatTemplateKind kind, const std::vector<EvalPrompt>& prompts,
                                              const EvalOptions& options, const FeatureProvider& features = {});

}  // namespace xopd::eval
