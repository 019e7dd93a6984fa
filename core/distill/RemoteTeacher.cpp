#include "core/distill/RemoteTeacher.h"

#include "core/common/Error.h"
#include "core/model/checkpoint/ModelConfig.h"
#include "core/model/runtime/ModelInputs.h"
#include "core/model/runtime/RuntimeConfig.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Tokenizer.h"

#include <map>
#include <sstream>

namespace xopd::distill {
namespace {

/// The probe: plain ASCII (every server spells these tokens alike) ending in a stop token.
constexpr const char* kProbeText = "The quick brown fox jumps over the lazy dog; 12 + 30 = 42.";

}  // namespace

struct RemoteTeacher::Impl {
    RemoteTeacherOptions options;
    serve::TeacherClient client;
    std::unique_ptr<text::Tokenizer> tokenizer;
    text::ChatTemplateKind chat{};
    model::ModelRuntimeConfig config;
    std::vector<int64_t> stop;
    torch::Tensor comparable;
    serve::ServedModelCard card;
    bool connected = false;
    std::map<std::string, std::vector<int64_t>> prompt_ids;  // per transcript

    explicit Impl(const RemoteTeacherOptions& o) : options(o), client(o.client) {}

    const std::vector<int64_t>& promptIds(const PromptItem& p) {
        auto it = prompt_ids.find(p.transcript);
        if (it == prompt_ids.end()) it = prompt_ids.emplace(p.transcript, model::userTurnPromptIds(*tokenizer, chat, p.transcript, 0)).first;
        return it->second;
    }
};

RemoteTeacher::RemoteTeacher(const RemoteTeacherOptions& options) : impl_(std::make_unique<Impl>(options)) {
    auto& d = *impl_;
    const std::string& dir = options.tokenizer_folder;
    XOPD_CHECK(!dir.empty(), "served teacher at '" << options.client.url
                                                   << "': a local folder with its tokenizer and config.json is needed (teacher.path)");
    d.tokenizer = std::make_unique<text::Tokenizer>(text::Tokenizer::fromFile(dir));
    d.chat = text::detectChatTemplateInFolder(dir);
    d.config = model::runtimeConfigFrom(loadModelConfig(dir));
    d.stop = model::stopTokenIds(*d.tokenizer);
    XOPD_CHECK(!d.stop.empty(), "'" << dir << "': the tokenizer has no <|im_end|> / <|endoftext|> stop token");
    const int64_t V = d.config.text.vocab_size;
    d.comparable = torch::ones({V}, torch::kBool);
    for (int64_t id : d.config.modality_token_ids)
        if (id >= 0 && id < V) d.comparable[id] = false;
    for (int64_t id = d.tokenizer->size(); id < V; ++id) d.comparable[id] = false;  // padded rows
}

RemoteTeacher::~RemoteTeacher() = default;

void RemoteTeacher::connect() {
    auto& d = *impl_;
    if (d.connected) return;
    const std::string& url = d.options.client.url;
    const std::string& dir = d.options.tokenizer_folder;
    d.card = d.client.modelCard();
    const std::string localSha = serve::tokenizerSha256(dir);
    XOPD_CHECK(d.card.tokenizer_sha256.empty() || localSha.empty() || d.card.tokenizer_sha256 == localSha,
               "served teacher at '" << url << "': tokenizer mismatch: the server's tokenizer.json has sha256 "
                                     << d.card.tokenizer_sha256 << ", '" << dir << "/tokenizer.json' has " << localSha);
    XOPD_CHECK(d.card.vocab_size == 0 || d.card.vocab_size == d.config.text.vocab_size,
               "served teacher at '" << url << "': vocabulary mismatch: the server's model has " << d.card.vocab_size
                                     << " rows, '" << dir << "/config.json' says " << d.config.text.vocab_size);
    // The probe: the ids of a known sentence and the tokenizer's last id must come back at their
    // positions, spelled as this tokenizer spells them wherever the server spells them.
    std::vector<int64_t> ids;
    for (int32_t id : d.tokenizer->encode(kProbeText)) ids.push_back(id);
    ids.push_back(d.stop.front());
    ids.push_back(d.tokenizer->size() - 1);
    nlohmann::json answer;
    try {
        answer = d.client.scoreRaw(ids, 1);
        serve::decodeScoreResponse(d.options.client.api, answer, ids, 1, 1, url);
    } catch (const serve::TeacherUnreachable&) {
        throw;
    } catch (const Error& e) {
        XOPD_FAIL("served teacher at '" << url << "': the tokenizer probe failed (is it the model of '" << dir << "'?): " << e.what());
    }
    const auto texts = serve::decodeTokenTexts(d.options.client.api, answer, ids, url);
    for (size_t i = 1; i < ids.size(); ++i) {
        if (texts[i].empty() || d.tokenizer->isSpecial(int32_t(ids[i]))) continue;
        const std::string local = d.tokenizer->decode({int32_t(ids[i])});
        XOPD_CHECK(texts[i] == local, "served teacher at '" << url << "': tokenizer mismatch: token " << ids[i] << " at position "
                                                            << i << " of the probe is '" << texts[i] << "' on the server, '"
                                                            << local << "' in '" << dir << "'");
    }
    d.connected = true;
}

const serve::ServedModelCard& RemoteTeacher::card() const { return impl_->card; }

model::VocabSide RemoteTeacher::vocabSide(const std::string& name) const {
    auto side = model::vocabSide(name, impl_->config);
    side.tokenizer_size = impl_->tokenizer->size();
    const text::Tokenizer* tok = impl_->tokenizer.get();
    side.token_text = [tok](int64_t id) { return tok->idToToken(int32_t(id)); };
    return side;
}

void RemoteTeacher::setComparableIds(const torch::Tensor& comparable) {
    XOPD_CHECK(comparable.dim() == 1 && comparable.size(0) == vocabSize(), "comparable ids: expected [" << vocabSize() << "]");
    impl_->comparable = comparable.to(torch::kCPU).to(torch::kBool);
}

ResponseTokenScores RemoteTeacher::responseTokenScores(const std::vector<PromptItem>& prompts,
                                                       const std::vector<int64_t>& prompt_index, Stream stream,
                                                       const torch::Tensor& tokens, const torch::Tensor& mask,
                                                       const std::set<int64_t>& topk_rows, int64_t topk) {
    auto& d = *impl_;
    XOPD_CHECK(stream == Stream::Text, describe() << ": a served teacher reads the transcript only");
    connect();
    const auto tok = tokens.to(torch::kCPU).to(torch::kLong).contiguous();
    const auto lengths = mask.to(torch::kCPU).sum(1);
    const int64_t N = tok.size(0), L = tok.size(1);
    std::vector<std::vector<int64_t>> sequences;
    std::vector<int64_t> from, k, rowOf;
    for (int64_t r = 0; r < N; ++r) {
        const int64_t len = lengths[r].item<int64_t>();
        if (len == 0) continue;
        const auto& p = d.promptIds(prompts[size_t(prompt_index[size_t(r)])]);
        std::vector<int64_t> seq(p);
        const int64_t* row = tok[r].data_ptr<int64_t>();
        seq.insert(seq.end(), row, row + len);
        XOPD_CHECK(d.card.max_model_len == 0 || int64_t(seq.size()) <= d.card.max_model_len,
                   "served teacher at '" << d.options.client.url << "': prompt + response of row " << r << " is " << seq.size()
                                         << " tokens, more than its max_model_len " << d.card.max_model_len);
        from.push_back(int64_t(p.size()));
        k.push_back(topk_rows.count(r) ? topk : 0);
        rowOf.push_back(r);
        sequences.push_back(std::move(seq));
    }
    const auto scores = d.client.score(sequences, from, k);
    ResponseTokenScores out;
    out.logprobs = torch::zeros({N, L}, torch::kFloat32);
    auto lp = out.logprobs.accessor<float, 2>();
    for (size_t i = 0; i < sequences.size(); ++i) {
        const int64_t r = rowOf[i];
        TopkRow topRow;
        for (size_t t = 0; t < scores[i].size(); ++t) {
            lp[r][int64_t(t)] = float(scores[i][t].logprob);
            std::vector<std::pair<int32_t, float>> alts;
            for (const auto& [id, v] : scores[i][t].topk) alts.emplace_back(int32_t(id), float(v));
            topRow.push_back(std::move(alts));
        }
        if (k[i] > 0) out.topk[r] = std::move(topRow);
    }
    return out;
}

Rollouts RemoteTeacher::sample(const std::vector<PromptItem>&, Stream, int64_t, const SamplingOptions&, torch::Generator&) {
    XOPD_FAIL(describe() << ": a served teacher scores tokens but does not write answers here (methods x-opd and sft)");
}

torch::Tensor RemoteTeacher::responseLogits(const std::vector<PromptItem>&, const std::vector<int64_t>&, Stream,
                                            const torch::Tensor&, const torch::Tensor&) {
    XOPD_FAIL(describe() << ": a served teacher returns log-probs of given tokens, not logits");
}

void RemoteTeacher::loadTrainableState(const std::vector<std::pair<std::string, torch::Tensor>>& state, const std::string& source) {
    XOPD_CHECK(state.empty(), "'" << source << "': a served teacher has no trainable state");
}

void RemoteTeacher::saveCheckpoint(const std::string&) { XOPD_FAIL(describe() << ": a served teacher is not checkpointed"); }

int64_t RemoteTeacher::vocabSize() const { return impl_->config.text.vocab_size; }
torch::Tensor RemoteTeacher::comparableIds() const { return impl_->comparable; }
std::vector<int64_t> RemoteTeacher::stopIds() const { return impl_->stop; }

std::string RemoteTeacher::tokenText(int64_t id) const {
    try {
        return impl_->tokenizer->decode({int32_t(id)});
    } catch (const Error&) {
        return "<" + std::to_string(id) + ">";
    }
}

std::vector<int64_t> RemoteTeacher::encodeAnswer(const std::string& text) const {
    const auto ids = impl_->tokenizer->encode(text);
    return std::vector<int64_t>(ids.begin(), ids.end());
}

std::string RemoteTeacher::describe() const {
    const auto& d = *impl_;
    std::ostringstream os;
    os << "served teacher at " << d.options.client.url << " (" << serve::teacherApiName(d.options.client.api) << " API";
    if (!d.card.id.empty()) os << ", model '" << d.card.id << "'";
    os << ", tokenizer of '" << d.options.tokenizer_folder << "')";
    return os.str();
}

}  // namespace xopd::distill
