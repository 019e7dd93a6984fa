// CLI: xopd generate --model DIR [--audio FILE]... [--prompt TEXT] [--max-new-tokens N]
//        [--temperature T] [--top-p P] [--top-k K] [--seed S] [--dtype float32|bfloat16]
//        [--template NAME] [--system TEXT] [--raw] [--show-ids]
// Loads a Hugging Face folder (Qwen2 text, Qwen2-Audio, Qwen2.5-Omni thinker), renders the prompt
// with the model's chat template (audio clips become <|AUDIO|> runs, 25 per second), samples a
// reply and prints it on stdout; a summary line (tokens, stop reason, speed) goes to stderr.
#include "app/cli/Commands.h"
#include "core/audio/AudioFile.h"
#include "core/audio/WhisperFeatures.h"
#include "core/common/Error.h"
#include "core/common/Tensors.h"
#include "core/common/TorchRuntime.h"
#include "core/model/checkpoint/TokenizerChecks.h"
#include "core/model/runtime/Generation.h"
#include "core/model/runtime/ModelInputs.h"
#include "core/model/runtime/SpeechLm.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Tokenizer.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>

namespace xopd::cli {

namespace {

struct GenerateArgs {
    std::string model;
    std::vector<std::string> audio;
    std::string prompt;
    std::string system;
    std::string templateName;
    std::string dtype = "float32";
    int64_t maxNewTokens = 64;
    double temperature = 1.0;
    double topP = 1.0;
    int64_t topK = 0;
    uint64_t seed = 0;
    bool raw = false;
    bool showIds = false;
};

text::ChatTemplateKind templateFor(const GenerateArgs& a, const model::SpeechLm& lm) {
    if (!a.templateName.empty()) {
        const auto kind = text::chatTemplateFromName(a.templateName);
        XOPD_CHECK(kind != text::ChatTemplateKind::Invalid,
                   "--template '" << a.templateName << "' is not one of qwen2-instruct, qwen2.5-instruct, "
                                  << "qwen2-audio-instruct, qwen2.5-omni, chatml, qwen3, qwen3-thinking, "
                                  << "qwen3-instruct-2507, qwen3-omni");
        return kind;
    }
    std::string warning;
    const auto found = text::detectChatTemplateInFolder(a.model, &warning);
    if (!warning.empty()) std::cerr << "xopd: warning: " << warning << "\n";
    if (found != text::ChatTemplateKind::Invalid) return found;
    switch (lm.config().kind) {
        case model::ModelKind::Qwen2Audio: return text::ChatTemplateKind::Qwen2AudioInstruct;
        case model::ModelKind::Qwen25OmniThinker: return text::ChatTemplateKind::Qwen25Omni;
        default: return text::ChatTemplateKind::Qwen25Instruct;
    }
}

/// Reads a clip and computes the log-mel features the model's audio encoder expects.
model::AudioFeatures readFeatures(const std::string& path, const model::SpeechLm& lm) {
    const int mel_bins = static_cast<int>(lm.config().audio.num_mel_bins);
    XOPD_CHECK(mel_bins == 80 || mel_bins == 128,
               "'" << path << "': the model expects " << mel_bins << " mel bins; the Whisper front end computes 80 or 128");
    return model::audioFeaturesFor(*lm.audioEncoder(), path);
}

int runGenerate(const GenerateArgs& a) {
    configureThreads();
    XOPD_CHECK(a.dtype == "float32" || a.dtype == "bfloat16", "--dtype must be float32 or bfloat16");
    model::LoadOptions lo;
    lo.dtype = a.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
    const model::SpeechLm lm = model::loadModel(a.model, lo);
    const text::Tokenizer tok = text::Tokenizer::fromFile(a.model);
    validateEosIds(lm.config().text.eos_token_ids, lm.config().text.vocab_size, tok, a.model);  // as inspect does
    XOPD_CHECK(a.audio.empty() || lm.hasAudio(),
               "'" << a.model << "' is a text model (" << model::modelKindName(lm.config().kind) << "); --audio needs a speech model");
    XOPD_CHECK(!a.prompt.empty() || !a.audio.empty(), "give --prompt, --audio or both");

    std::vector<model::AudioFeatures> clips;
    std::vector<text::ChatContent> content;
    for (const auto& path : a.audio) {
        clips.push_back(readFeatures(path, lm));
        content.push_back(text::ChatContent::makeAudio(
            static_cast<int>(lm.audioEncoder()->tokenCount(clips.back().valid_frames))));
    }
    if (!a.prompt.empty()) content.push_back(text::ChatContent::makeText(a.prompt));

    std::string rendered;
    const std::string placeholder =
        lm.hasAudio() && lm.config().audio_token_id >= 0 ? tok.idToToken(int32_t(lm.config().audio_token_id)) : "";
    if (a.raw && !placeholder.empty() && a.prompt.find(placeholder) != std::string::npos) {
        // The prompt places each clip itself: expand its placeholders where they stand.
        std::vector<int> tokens;
        for (const auto& c : content)
            if (c.type == text::ChatContent::Type::Audio) tokens.push_back(c.audio_tokens);
        rendered = text::expandAudioPlaceholders(a.prompt, placeholder, tokens);
    } else if (a.raw) {
        for (const auto& c : content) {
            if (c.type == text::ChatContent::Type::Text) rendered += c.text;
            else {
                rendered += "<|audio_bos|>";
                for (int i = 0; i < c.audio_tokens; ++i) rendered += "<|AUDIO|>";
                rendered += "<|audio_eos|>";
            }
        }
    } else {
        std::vector<text::ChatMessage> messages;
        if (!a.system.empty()) messages.push_back(text::ChatMessage::text("system", a.system));
        messages.push_back({"user", content});
        rendered = text::renderChat(templateFor(a, lm), messages);
    }
    std::vector<int32_t> ids32 = tok.encode(rendered);
    std::vector<int64_t> ids(ids32.begin(), ids32.end());
    torch::NoGradGuard no_grad;
    torch::Tensor embeds = lm.embedPrompt(torch::tensor(ids, torch::kInt64), clips);

    model::SamplingOptions so;
    so.max_new_tokens = a.maxNewTokens;
    so.temperature = a.temperature;
    so.top_p = a.topP;
    so.top_k = a.topK;
    so.seed = a.seed;
    so.stop_token_ids = lm.config().text.eos_token_ids;
    for (int32_t id : text::chatStopTokenIds(text::ChatTemplateKind::Qwen2Instruct))
        if (id < tok.size()) so.stop_token_ids.push_back(id);
    // Never sample placeholders or padded rows the tokenizer cannot decode.
    for (int64_t id : lm.config().modality_token_ids) so.masked_token_ids.push_back(id);
    for (int64_t id = tok.size(); id < lm.config().text.vocab_size; ++id) so.masked_token_ids.push_back(id);

    const auto t0 = std::chrono::steady_clock::now();
    model::GenerationResult r = model::generate(lm.decoder(), {model::PromptInput::fromEmbeds(embeds)}, so);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<int32_t> out(r.tokens[0].begin(), r.tokens[0].end());
    if (r.finished[0] && !out.empty()) out.pop_back();  // the stop token
    std::cout << tok.decode(out, {true}) << "\n";
    if (a.showIds) {
        std::cout << "ids:";
        for (int64_t id : r.tokens[0]) std::cout << " " << id;
        std::cout << "\n";
    }
    std::cerr << "xopd: " << ids.size() << " prompt tokens (" << clips.size() << " audio clips), "
              << r.tokens[0].size() << " new tokens, " << (r.finished[0] ? "stopped at a stop token" : "reached --max-new-tokens")
              << ", " << static_cast<double>(r.tokens[0].size()) / std::max(s, 1e-9) << " tokens/s\n";
    return 0;
}

}  // namespace

void addGenerateCommand(CLI::App& app, Action& run) {
    auto a = std::make_shared<GenerateArgs>();
    auto* cmd = app.add_subcommand("generate", "Sample a reply from a text or speech model folder");
    cmd->add_option("--model", a->model, "Hugging Face model folder (config.json, safetensors, tokenizer)")->required();
    cmd->add_option("--audio", a->audio, "Audio file(s) for a speech model (any libsndfile format)");
    cmd->add_option("--prompt", a->prompt, "User text");
    cmd->add_option("--system", a->system, "System message (default: the template's)");
    cmd->add_option("--template", a->templateName, "Chat template (default: detected from the folder)");
    cmd->add_flag("--raw", a->raw, "No chat template: the prompt text as is, after the audio; or, when it holds the "
                                   "model's audio placeholder (<|AUDIO|>, <|audio_pad|>) once per --audio, each "
                                   "expanded to its clip's token count where it stands");
    cmd->add_option("--max-new-tokens", a->maxNewTokens, "Token budget (default 64)")->check(CLI::NonNegativeNumber);
    cmd->add_option("--temperature", a->temperature, "0 = greedy (default 1)")->check(CLI::NonNegativeNumber);
    cmd->add_option("--top-p", a->topP, "Nucleus mass in (0, 1] (default 1)")->check(CLI::Range(1e-9, 1.0));
    cmd->add_option("--top-k", a->topK, "Keep the k most likely ids; 0 = off (default)")->check(CLI::NonNegativeNumber);
    cmd->add_option("--seed", a->seed, "Sampling seed (default 0)");
    cmd->add_option("--dtype", a->dtype, "float32 (default) or bfloat16");
    cmd->add_flag("--show-ids", a->showIds, "Also print the sampled token ids");
    cmd->callback([&run, a] { run = [a] { return runGenerate(*a); }; });
}

}  // namespace xopd::cli
