#include "core/distill/SpeechLmPolicy.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/model/checkpoint/SafetensorsWriter.h"
#include "core/model/checkpoint/TokenizerChecks.h"
#include "core/model/runtime/Generation.h"
#include "core/model/runtime/ModelInputs.h"
#include "core/model/runtime/Scoring.h"
#include "core/model/runtime/SpeechLm.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace xopd::distill {

struct SpeechLmPolicy::Impl {
    SpeechLmPolicyOptions options;
    model::SpeechLm lm;
    std::unique_ptr<text::Tokenizer> tokenizer;
    text::ChatTemplateKind chat{};
    torch::Tensor comparable;  // [V] bool, CPU
    std::vector<int64_t> stop;
    std::vector<LoraAdapter> adapters;
    std::vector<std::pair<std::string, torch::Tensor*>> trainable;  // full-mode parameters
    model::RouterStats routing;  // MoE: routing of the training passes since takeStepStatistics()
    std::string template_warning;  // "" unless the folder's chat template was replaced (detectChatTemplateInFolder)
    std::map<std::string, model::AudioFeatures> features;            // per audio path

    model::PromptInput prompt(const PromptItem& p, Stream stream) {
        if (stream == Stream::Speech) {
            XOPD_CHECK(lm.hasAudio(), "'" << options.folder << "' has no audio tower: it cannot hear the speech prompt");
            XOPD_CHECK(!p.audio_path.empty(), "prompt '" << p.id << "' has no audio");
            auto it = features.find(p.audio_path);
            if (it == features.end())
                it = features.emplace(p.audio_path, model::audioFeaturesFor(*lm.audioEncoder(), p.audio_path)).first;
            const auto& f = it->second;
            const auto ids = model::userTurnPromptIds(*tokenizer, chat, p.transcript, int(lm.audioEncoder()->tokenCount(f.valid_frames)));
            model::AudioFeatures dev{f.mel.to(lm.decoder().device()), f.valid_frames};
            return model::PromptInput::fromEmbeds(lm.embedPrompt(torch::tensor(ids, torch::kLong).to(lm.decoder().device()), {dev}));
        }
        return model::PromptInput::fromIdTensor(
            torch::tensor(model::userTurnPromptIds(*tokenizer, chat, p.transcript, 0), torch::kLong).to(lm.decoder().device()));
    }

    std::vector<int64_t> maskedIds() const {
        std::vector<int64_t> out;
        const auto c = comparable.to(torch::kCPU);
        for (int64_t i = 0; i < c.size(0); ++i)
            if (!c[i].item<bool>()) out.push_back(i);
        return out;
    }
};

SpeechLmPolicy::SpeechLmPolicy(const SpeechLmPolicyOptions& options) : impl_(std::make_unique<Impl>()) {
    auto& d = *impl_;
    d.options = options;
    model::LoadOptions lo;
    lo.dtype = options.dtype;
    lo.device = options.device;
    d.lm = model::loadModel(options.folder, lo);
    d.tokenizer = std::make_unique<text::Tokenizer>(text::Tokenizer::fromFile(options.folder));
    validateEosIds(d.lm.config().text.eos_token_ids, d.lm.config().text.vocab_size, *d.tokenizer, options.folder);  // as inspect does
    // A text template in a speech folder: the model type's is used, and describe() (logged at the
    // run's start) says so.
    d.chat = text::detectChatTemplateInFolder(options.folder, &d.template_warning);
    d.stop = model::stopTokenIds(*d.tokenizer);
    XOPD_CHECK(!d.stop.empty(), "'" << options.folder << "': the tokenizer has no <|im_end|> / <|endoftext|> stop token");
    const int64_t V = d.lm.decoder().config().vocab_size;
    d.comparable = torch::ones({V}, torch::kBool);
    for (int64_t id : d.lm.config().modality_token_ids)
        if (id >= 0 && id < V) d.comparable[id] = false;
    for (int64_t id = d.tokenizer->size(); id < V; ++id) d.comparable[id] = false;  // padded rows

    for (auto& [name, t] : d.lm.namedParameters()) t->set_requires_grad(false);
    if (!options.trainable) return;
    if (options.mode == Trainable::Lora) {
        auto linears = d.lm.decoder().namedLinears();
        if (!options.train_router)  // a target such as "gate" must not wrap the routers ("mlp.gate")
            linears.erase(std::remove_if(linears.begin(), linears.end(), [](const auto& l) { return isRouterModule(l.first); }),
                          linears.end());
        d.adapters = attachLora(linears, options.lora);
        return;
    }
    std::set<torch::Tensor*> decoderParams;
    for (auto& [name, t] : d.lm.decoder().namedParameters()) decoderParams.insert(t);
    for (auto& [name, t] : d.lm.namedParameters()) {
        const bool decoder = decoderParams.count(t) > 0;
        const bool projector = name.find("projector") != std::string::npos || name.find("audio_tower.proj") != std::string::npos;
        const bool router = decoder && isRouterModule(name.substr(0, name.size() - std::string(".weight").size()));
        const bool train = (decoder && (!router || options.train_router)) || (options.train_audio_tower && !decoder) ||
                           (options.train_projector && projector);
        if (!train) continue;
        t->set_requires_grad(true);
        d.trainable.emplace_back(name, t);
    }
}

SpeechLmPolicy::~SpeechLmPolicy() = default;

void SpeechLmPolicy::setComparableIds(const torch::Tensor& comparable) {
    XOPD_CHECK(comparable.dim() == 1 && comparable.size(0) == vocabSize(), "comparable ids: expected [" << vocabSize() << "]");
    impl_->comparable = comparable.to(torch::kCPU).to(torch::kBool);
}

bool SpeechLmPolicy::hasAudio() const { return impl_->lm.hasAudio(); }

int64_t SpeechLmPolicy::parameterCount() const {
    int64_t n = 0;
    for (auto& [name, t] : impl_->lm.namedParameters()) n += t->numel();
    return n;
}

model::VocabSide SpeechLmPolicy::vocabSide(const std::string& name) const {
    auto side = model::vocabSide(name, impl_->lm.config());
    side.tokenizer_size = impl_->tokenizer->size();
    const text::Tokenizer* tok = impl_->tokenizer.get();
    side.token_text = [tok](int64_t id) { return tok->idToToken(int32_t(id)); };
    return side;
}

Rollouts SpeechLmPolicy::sample(const std::vector<PromptItem>& prompts, Stream stream, int64_t m,
                                const SamplingOptions& o, torch::Generator& generator) {
    torch::NoGradGuard noGrad;
    auto& d = *impl_;
    std::vector<model::PromptInput> inputs;
    std::vector<int64_t> index;
    for (int64_t i = 0; i < int64_t(prompts.size()); ++i) {
        const auto in = d.prompt(prompts[size_t(i)], stream);
        for (int64_t j = 0; j < m; ++j) {
            inputs.push_back(in);
            index.push_back(i);
        }
    }
    model::SamplingOptions so;
    so.temperature = o.temperature;
    so.top_p = o.top_p;
    so.top_k = o.top_k;
    so.max_new_tokens = o.max_new_tokens;
    so.seed = uint64_t(torch::randint(0, int64_t(1) << 62, {1}, generator).item<int64_t>());
    so.stop_token_ids = d.stop;
    so.masked_token_ids = d.maskedIds();
    so.on_token = o.on_token;
    const auto g = model::generate(d.lm.decoder(), inputs, so);
    const int64_t N = int64_t(inputs.size());
    int64_t L = 1;
    for (const auto& t : g.tokens) L = std::max<int64_t>(L, int64_t(t.size()));
    Rollouts r;
    r.tokens = torch::zeros({N, L}, torch::kLong);
    r.logprobs = torch::zeros({N, L}, torch::kFloat32);
    r.mask = torch::zeros({N, L}, torch::kBool);
    auto tok = r.tokens.accessor<int64_t, 2>();
    auto lp = r.logprobs.accessor<float, 2>();
    auto mk = r.mask.accessor<bool, 2>();
    for (int64_t n = 0; n < N; ++n) {
        for (size_t t = 0; t < g.tokens[size_t(n)].size(); ++t) {
            tok[n][int64_t(t)] = g.tokens[size_t(n)][t];
            lp[n][int64_t(t)] = g.raw_logprobs[size_t(n)][t];
            mk[n][int64_t(t)] = true;
        }
        r.eos.push_back(g.finished[size_t(n)] ? 1 : 0);
        r.truncated.push_back(g.truncated[size_t(n)] ? 1 : 0);
    }
    r.prompt_index = index;
    return r;
}

torch::Tensor SpeechLmPolicy::responseLogits(const std::vector<PromptItem>& prompts,
                                             const std::vector<int64_t>& prompt_index, Stream stream,
                                             const torch::Tensor& tokens, const torch::Tensor& mask) {
    auto& d = *impl_;
    std::vector<model::PromptInput> inputs;
    std::vector<std::vector<int64_t>> responses;
    const auto tokC = tokens.to(torch::kCPU).to(torch::kLong);
    const auto lengths = mask.to(torch::kCPU).sum(1);
    std::map<int64_t, model::PromptInput> cache;
    for (size_t r = 0; r < prompt_index.size(); ++r) {
        const int64_t i = prompt_index[r];
        auto it = cache.find(i);
        if (it == cache.end()) it = cache.emplace(i, d.prompt(prompts[size_t(i)], stream)).first;
        inputs.push_back(it->second);
        const int64_t len = std::max<int64_t>(1, lengths[int64_t(r)].item<int64_t>());  // score() needs >= 1 token
        const auto row = tokC[int64_t(r)].slice(0, 0, len).contiguous();
        responses.emplace_back(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + len);
    }
    model::ScoreOptions so;
    so.full_distribution = true;
    // The passes that train (grad on) are the ones whose routing the step statistics describe.
    if (d.lm.decoder().hasExperts() && torch::GradMode::is_enabled()) so.router_stats = &d.routing;
    const auto s = model::score(d.lm.decoder(), inputs, responses, so);
    auto out = s.full_logprobs;  // [N, R, V]
    const int64_t L = tokens.size(1);
    if (out.size(1) < L) out = torch::cat({out, torch::zeros({out.size(0), L - out.size(1), out.size(2)}, out.options())}, 1);
    return out.slice(1, 0, L);
}

std::vector<torch::Tensor> SpeechLmPolicy::trainableParameters() {
    if (!impl_->adapters.empty()) return loraParameters(impl_->adapters);
    std::vector<torch::Tensor> out;
    for (auto& [n, t] : impl_->trainable) out.push_back(*t);
    return out;
}

std::vector<std::pair<std::string, torch::Tensor>> SpeechLmPolicy::trainableState() {
    if (!impl_->adapters.empty()) return loraState(impl_->adapters);
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (auto& [n, t] : impl_->trainable) out.emplace_back(n, *t);
    return out;
}

void SpeechLmPolicy::loadTrainableState(const std::vector<std::pair<std::string, torch::Tensor>>& state,
                                        const std::string& source) {
    torch::NoGradGuard noGrad;
    auto own = trainableState();
    XOPD_CHECK(own.size() == state.size(), "'" << source << "': holds " << state.size() << " tensors, the model trains " << own.size());
    for (size_t i = 0; i < own.size(); ++i) {
        XOPD_CHECK(own[i].first == state[i].first, "'" << source << "': tensor " << i << " is '" << state[i].first
                                                        << "', expected '" << own[i].first << "'");
        XOPD_CHECK(own[i].second.sizes() == state[i].second.sizes(), "'" << source << "': '" << state[i].first << "' has the wrong shape");
        own[i].second.copy_(state[i].second);
    }
}

void SpeechLmPolicy::saveCheckpoint(const std::string& folder) {
    auto& d = *impl_;
    if (!d.adapters.empty()) {
        writePeftAdapter(folder, d.adapters, d.options.lora, d.options.folder);
        return;
    }
    // A loadable HF folder: the source's config and tokenizer files plus the current weights.
    for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json",
                          "preprocessor_config.json", "vocab.json", "merges.txt", "special_tokens_map.json"}) {
        const fs::path src = fs::path(d.options.folder) / f;
        if (fs::exists(src)) writeFileAtomic(folder + "/" + f, readTextFile(src.string()));
    }
    NamedTensors tensors;
    for (auto& [n, t] : d.lm.namedParameters()) tensors.emplace_back(n, t->detach().contiguous());
    writeCheckpointWeights(folder, tensors);
}

int64_t SpeechLmPolicy::vocabSize() const { return impl_->lm.decoder().config().vocab_size; }
torch::Tensor SpeechLmPolicy::comparableIds() const { return impl_->comparable; }
std::vector<int64_t> SpeechLmPolicy::stopIds() const { return impl_->stop; }

std::string SpeechLmPolicy::tokenText(int64_t id) const {
    try {
        return impl_->tokenizer->decode({int32_t(id)});
    } catch (const Error&) {
        return "<" + std::to_string(id) + ">";
    }
}

std::vector<int64_t> SpeechLmPolicy::encodeAnswer(const std::string& text) const {
    const auto ids = impl_->tokenizer->encode(text);
    return std::vector<int64_t>(ids.begin(), ids.end());
}

torch::Device SpeechLmPolicy::device() const { return impl_->lm.decoder().device(); }

std::string SpeechLmPolicy::describe() const {
    std::ostringstream os;
    const auto& c = impl_->lm.decoder().config();
    os << fs::path(impl_->options.folder).filename().string() << " (" << (impl_->lm.hasAudio() ? "speech LM" : "text LM")
       << ", " << c.num_hidden_layers << " layers, V=" << c.vocab_size << ", " << c10::toString(impl_->lm.decoder().dtype())
       << ", " << impl_->lm.decoder().device().str() << ")";
    if (!impl_->template_warning.empty()) os << "; warning: " << impl_->template_warning;
    return os.str();
}

ModelStepStatistics SpeechLmPolicy::takeStepStatistics() {
    model::RouterStats stats;
    std::swap(stats, impl_->routing);
    ModelStepStatistics out;
    if (stats.empty()) return out;
    out.scalars["moe/router_entropy"] = stats.meanEntropy();
    // Load balance over every sparse layer: the busiest expert's tokens over the mean per expert
    // (1 = perfectly even; E = one expert takes everything), and the share of (layer, expert)
    // slots that received no token at all.
    double worst = 0.0, unused = 0.0, slots = 0.0;
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& [layer, c] : stats.tokens_per_expert) {
        double sum = 0.0, top = 0.0;
        for (int64_t n : c) {
            sum += double(n);
            top = std::max(top, double(n));
            unused += n == 0 ? 1.0 : 0.0;
        }
        slots += double(c.size());
        if (sum > 0) worst = std::max(worst, top / (sum / double(c.size())));
        counts[std::to_string(layer)] = c;
    }
    out.scalars["moe/load_max_over_mean"] = worst;
    out.scalars["moe/experts_unused_share"] = slots > 0 ? unused / slots : 0.0;
    out.json["moe/tokens_per_expert"] = counts.dump();
    return out;
}

}  // namespace xopd::distill
