#include "core/eval/ModalityGap.h"

#include "core/common/Error.h"
#include "core/model/runtime/ModelInputs.h"
#include "core/model/runtime/Scoring.h"

#include <algorithm>
#include <map>

namespace xopd::eval {

std::vector<int64_t> scoredAnswerIds(const text::Tokenizer& tokenizer, const std::string& reference) {
    const auto ids = tokenizer.encode(reference);
    std::vector<int64_t> out(ids.begin(), ids.end());
    if (auto end = tokenizer.tokenToId("<|im_end|>")) out.push_back(*end);
    return out;
}

std::vector<AnswerLogProbs> answerLogProbs(const model::SpeechLm& lm, const text::Tokenizer& tokenizer,
                                           text::ChatTemplateKind kind, const std::vector<EvalPrompt>& prompts,
                                           int batch_size, const FeatureProvider& features) {
    torch::NoGradGuard no_grad;
    XOPD_CHECK(lm.hasAudio(), "modality gap: the model has no audio tower (a text model has no speech side)");
    XOPD_CHECK(batch_size >= 1, "modality gap: batch size must be >= 1");
    XOPD_CHECK(features, "modality gap: no feature provider");
    model::ScoreOptions so;
    if (auto pad = tokenizer.tokenToId("<|endoftext|>")) so.pad_token_id = *pad;
    std::vector<AnswerLogProbs> out(prompts.size());
    auto meanPerRow = [](const model::ScoreResult& r, int64_t row) {
        const auto mask = r.response_mask[row].to(torch::kFloat64);
        return (r.logprobs[row].to(torch::kFloat64) * mask).sum().item<double>() / mask.sum().item<double>();
    };
    for (size_t start = 0; start < prompts.size(); start += size_t(batch_size)) {
        const size_t end = std::min(prompts.size(), start + size_t(batch_size));
        std::vector<model::PromptInput> text_in, speech_in;
        std::vector<std::vector<int64_t>> answers;
        for (size_t i = start; i < end; ++i) {
            const auto& p = prompts[i];
            XOPD_CHECK(!p.reference.empty(), "modality gap: prompt '" << p.id << "' has no reference answer");
            answers.push_back(scoredAnswerIds(tokenizer, p.reference));
            text_in.push_back(model::PromptInput::fromIds(model::userTurnPromptIds(tokenizer, kind, p.transcript, 0)));
            const auto f = features(p);
            const int n = static_cast<int>(lm.audioEncoder()->tokenCount(f.valid_frames));
            const auto ids = model::userTurnPromptIds(tokenizer, kind, p.transcript, n);
            speech_in.push_back(model::PromptInput::fromEmbeds(lm.embedPrompt(torch::tensor(ids), {f})));
        }
        const auto text_scores = model::score(lm.decoder(), text_in, answers, so);
        const auto speech_scores = model::score(lm.decoder(), speech_in, answers, so);
        for (size_t i = start; i < end; ++i) {
            const int64_t row = int64_t(i - start);
            out[i] = {meanPerRow(text_scores, row), meanPerRow(speech_scores, row), int(answers[i - start].size())};
        }
    }
    return out;
}

std::vector<ClipOutcome> evaluateClipOutcomes(const model::SpeechLm& lm, const text::Tokenizer& tokenizer,
                                              text::ChatTemplateKind kind, const std::vector<EvalPrompt>& prompts,
                                              const EvalOptions& options, const FeatureProvider& provider) {
    XOPD_CHECK(lm.hasAudio(), "modality gap: the model has no audio tower (a text model has no speech side)");
    for (const auto& p : prompts)
        XOPD_CHECK(!p.reference.empty(), "modality gap: prompt '" << p.id << "' has no reference answer");
    // Each clip's features once, for the greedy answers and the scoring alike.
    std::map<std::string, model::AudioFeatures> cache;
    const FeatureProvider cached = [&](const EvalPrompt& p) {
        auto it = cache.find(p.audio_path);
        if (it == cache.end()) {
            model::AudioFeatures f = provider ? provider(p)
                                     : options.mel_bins > 0
                                         ? model::audioFeaturesOfFile(p.audio_path, options.mel_bins,
                                                                      lm.audioEncoder()->padsTo30Seconds())
                                         : model::audioFeaturesFor(*lm.audioEncoder(), p.audio_path);
            it = cache.emplace(p.audio_path, std::move(f)).first;
        }
        return it->second;
    };
    EvalOptions both = options;
    both.speech = both.text = true;
    const EvalResult r = evaluateModel(lm, tokenizer, kind, prompts, both, cached);
    const auto lps = answerLogProbs(lm, tokenizer, kind, prompts, options.batch_size, cached);
    const size_t n = prompts.size();
    XOPD_ASSERT(r.predictions.size() == 2 * n);
    std::vector<ClipOutcome> out(n);
    for (size_t i = 0; i < n; ++i) {
        const auto& s = r.predictions[i];      // speech answers first,
        const auto& t = r.predictions[n + i];  // then text answers, each in prompt order
        XOPD_ASSERT(s.id == prompts[i].id && t.id == prompts[i].id && s.modality == "speech");
        out[i] = {s.correct, t.correct, s.answer, t.answer, lps[i].text, lps[i].speech, lps[i].tokens};
    }
    return out;
}

}  // namespace xopd::eval
