#include "core/eval/Evaluator.h"

#include "core/common/Error.h"
#include "core/model/runtime/Generation.h"
#include "core/model/runtime/ModelInputs.h"
#include "core/model/runtime/PromptBatch.h"

#include <algorithm>

namespace xopd::eval {

namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

EvalResult evaluateModel(const model::SpeechLm& lm, const text::Tokenizer& tokenizer, text::ChatTemplateKind kind,
                         const std::vector<EvalPrompt>& all_prompts, const EvalOptions& options,
                         const FeatureProvider& provider) {
    torch::NoGradGuard no_grad;
    std::vector<EvalPrompt> prompts;
    for (const auto& p : all_prompts)
        if (!p.reference.empty()) prompts.push_back(p);
    XOPD_CHECK(!prompts.empty(), "evaluation: none of the " << all_prompts.size() << " prompts has a reference answer");
    XOPD_CHECK(options.batch_size >= 1, "evaluation: batch size must be >= 1");

    const int mel_bins = options.mel_bins > 0 ? options.mel_bins
                         : lm.hasAudio()      ? static_cast<int>(lm.audioEncoder()->config().num_mel_bins)
                                              : 128;
    const bool pad_to_30s = !lm.hasAudio() || lm.audioEncoder()->padsTo30Seconds();
    FeatureProvider features = provider ? provider : [mel_bins, pad_to_30s](const EvalPrompt& p) {
        return model::audioFeaturesOfFile(p.audio_path, mel_bins, pad_to_30s);
    };

    model::SamplingOptions sampling;
    sampling.temperature = 0.0;
    sampling.max_new_tokens = options.max_new_tokens;
    sampling.stop_token_ids = model::stopTokenIds(tokenizer);
    if (auto pad = tokenizer.tokenToId("<|endoftext|>")) sampling.pad_token_id = *pad;
    // Embedding rows past the tokenizer (padding to a multiple of 64 or 128) are no tokens: an
    // answer that picked one could not be decoded.
    for (int64_t id = tokenizer.size(); id < lm.decoder().config().vocab_size; ++id) sampling.masked_token_ids.push_back(id);
    text::DecodeOptions dec;
    dec.skip_special = true;

    EvalResult result;
    result.scores.count = static_cast<int>(prompts.size());
    auto run = [&](bool speech) {
        int correct = 0;
        for (size_t start = 0; start < prompts.size(); start += static_cast<size_t>(options.batch_size)) {
            const size_t end = std::min(prompts.size(), start + static_cast<size_t>(options.batch_size));
            std::vector<model::PromptInput> inputs;
            for (size_t i = start; i < end; ++i) {
                if (speech) {
                    const auto f = features(prompts[i]);
                    const int n = static_cast<int>(lm.audioEncoder()->tokenCount(f.valid_frames));
                    const auto ids = model::userTurnPromptIds(tokenizer, kind, prompts[i].transcript, n);
                    inputs.push_back(model::PromptInput::fromEmbeds(lm.embedPrompt(torch::tensor(ids), {f})));
                } else {
                    inputs.push_back(model::PromptInput::fromIds(model::userTurnPromptIds(tokenizer, kind, prompts[i].transcript, 0)));
                }
            }
            const auto gen = model::generate(lm.decoder(), inputs, sampling);
            for (size_t i = start; i < end; ++i) {
                const auto& toks = gen.tokens[i - start];
                const std::string answer = trim(tokenizer.decode(std::vector<int32_t>(toks.begin(), toks.end()), dec));
                const bool ok = answerMatches(answer, prompts[i].reference, options.match);
                correct += ok;
                result.predictions.push_back({prompts[i].id, speech ? "speech" : "text", answer, prompts[i].reference, ok});
            }
        }
        return accuracyPercent(correct, static_cast<int>(prompts.size()));
    };
    if (options.speech && lm.hasAudio()) result.scores.speech = run(true);
    if (options.text) result.scores.text = run(false);
    return result;
}

}  // namespace xopd::eval
