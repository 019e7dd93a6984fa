#include "core/distill/ToyPolicy.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/model/checkpoint/SafetensorsWriter.h"

#include <torch/nn/module.h>

#include <cmath>
#include <limits>
#include <sstream>

namespace xopd::distill {

struct ToyPolicy::Net : torch::nn::Module {
    torch::Tensor prompt_emb, emb1, emb2, pos, w1, b1, wout, bout;
    torch::Tensor audio;  // frozen "audio tower + projector"

    Net(const ToyPolicyOptions& o, bool student) {
        const int64_t V = o.vocab, d = o.hidden;
        auto g = at::detail::createCPUGenerator(o.teacher_seed);
        auto randn = [&](std::vector<int64_t> shape, double scale) {
            return torch::randn(shape, g, torch::kFloat32) * scale;
        };
        prompt_emb = randn({V, d}, 1.0);
        emb1 = randn({V, d}, 0.8);
        emb2 = randn({V, d}, 0.5);
        pos = randn({o.max_positions, d}, 0.3);
        w1 = randn({d, d}, 1.0 / std::sqrt(double(d)));
        b1 = torch::zeros({d});
        wout = randn({V, d}, o.output_scale / std::sqrt(double(d)));
        bout = torch::zeros({V});
        bout[1] = o.stop_bias;
        auto ga = at::detail::createCPUGenerator(o.teacher_seed + 7);
        audio = torch::eye(d) + torch::randn({d, d}, ga) * (o.speech_distortion / std::sqrt(double(d)));
        if (student && o.student_noise > 0) {
            auto gs = at::detail::createCPUGenerator(o.student_seed);
            for (auto* t : {&prompt_emb, &emb1, &emb2, &pos, &w1, &wout})
                *t = *t + torch::randn(t->sizes(), gs) * (o.student_noise * t->std().item<double>());
        }
        prompt_emb = register_parameter("prompt_emb", prompt_emb);
        emb1 = register_parameter("emb1", emb1);
        emb2 = register_parameter("emb2", emb2);
        pos = register_parameter("pos", pos);
        w1 = register_parameter("w1", w1);
        b1 = register_parameter("b1", b1);
        wout = register_parameter("wout", wout);
        bout = register_parameter("bout", bout);
        audio = register_buffer("audio", audio);
    }
};

ToyPolicy::ToyPolicy(const ToyPolicyOptions& options, bool student)
    : options_(options), student_(student), net_(std::make_shared<Net>(options, student)) {
    XOPD_CHECK(options.vocab >= 8, "toy policy: vocab must be >= 8, got " << options.vocab);
    XOPD_CHECK(options.hidden >= 2, "toy policy: hidden must be >= 2");
    if (!student) freeze();
}

ToyPolicy::~ToyPolicy() = default;

void ToyPolicy::freeze() {
    for (auto& p : net_->parameters()) p.set_requires_grad(false);
}

std::vector<int64_t> ToyPolicy::encodePrompt(const std::string& text) const {
    std::vector<int64_t> ids;
    const int64_t span = options_.vocab - 4;  // ids 3 … V−2
    for (unsigned char ch : text) ids.push_back(3 + int64_t(ch) % span);
    if (ids.empty()) ids.push_back(3);
    return ids;
}

std::vector<int64_t> ToyPolicy::encodeAnswer(const std::string& text) const { return encodePrompt(text); }

torch::Tensor ToyPolicy::context(const std::vector<PromptItem>& prompts, const std::vector<int64_t>& prompt_index,
                                 Stream stream) {
    std::vector<torch::Tensor> rows;
    rows.reserve(prompt_index.size());
    for (int64_t i : prompt_index) {
        XOPD_ASSERT(i >= 0 && i < int64_t(prompts.size()));
        const auto ids = torch::tensor(encodePrompt(prompts[size_t(i)].transcript), torch::kLong);
        rows.push_back(net_->prompt_emb.index_select(0, ids).mean(0));
    }
    auto c = torch::stack(rows);
    if (stream == Stream::Speech) c = torch::matmul(c, net_->audio.t());  // frozen A (identity when undistorted)
    return c;
}

torch::Tensor ToyPolicy::stepLogits(const torch::Tensor& prev1, const torch::Tensor& prev2, int64_t t,
                                    const torch::Tensor& ctx) {
    const int64_t p = std::min<int64_t>(t, options_.max_positions - 1);
    auto h = torch::tanh(net_->emb1.index_select(0, prev1) + net_->emb2.index_select(0, prev2) + net_->pos[p] + ctx);
    h = h + torch::tanh(torch::matmul(h, net_->w1.t()) + net_->b1);
    return torch::matmul(h, net_->wout.t()) + net_->bout;
}

torch::Tensor ToyPolicy::responseLogits(const std::vector<PromptItem>& prompts,
                                        const std::vector<int64_t>& prompt_index, Stream stream,
                                        const torch::Tensor& tokens, const torch::Tensor& mask) {
    (void)mask;
    const int64_t N = tokens.size(0), L = tokens.size(1);
    XOPD_ASSERT(int64_t(prompt_index.size()) == N);
    const auto ctx = context(prompts, prompt_index, stream);  // [N, d]
    const auto tok = tokens.to(torch::kLong);
    // Shifted inputs: prev1[t] = y_{t−1}, prev2[t] = y_{t−2}, 0 before the start.
    auto prev1 = torch::zeros({N, L}, torch::kLong);
    auto prev2 = torch::zeros({N, L}, torch::kLong);
    if (L > 1) prev1.slice(1, 1, L).copy_(tok.slice(1, 0, L - 1));
    if (L > 2) prev2.slice(1, 2, L).copy_(tok.slice(1, 0, L - 2));
    auto posIdx = torch::arange(L, torch::kLong).clamp_max(options_.max_positions - 1);
    auto h = torch::tanh(net_->emb1.index({prev1}) + net_->emb2.index({prev2}) +
                         net_->pos.index_select(0, posIdx).unsqueeze(0) + ctx.unsqueeze(1));
    h = h + torch::tanh(torch::matmul(h, net_->w1.t()) + net_->b1);
    return torch::matmul(h, net_->wout.t()) + net_->bout;  // [N, L, V]
}

Rollouts ToyPolicy::sample(const std::vector<PromptItem>& prompts, Stream stream, int64_t m,
                           const SamplingOptions& o, torch::Generator& generator) {
    torch::NoGradGuard noGrad;
    std::vector<int64_t> index;
    for (int64_t i = 0; i < int64_t(prompts.size()); ++i)
        for (int64_t j = 0; j < m; ++j) index.push_back(i);
    const int64_t N = int64_t(index.size()), L = o.max_new_tokens, V = options_.vocab;
    const auto ctx = context(prompts, index, stream);
    auto tokens = torch::zeros({N, L}, torch::kLong);
    auto logprobs = torch::zeros({N, L}, torch::kFloat32);
    auto mask = torch::zeros({N, L}, torch::kBool);
    auto alive = torch::ones({N}, torch::kBool);
    auto prev1 = torch::zeros({N}, torch::kLong), prev2 = torch::zeros({N}, torch::kLong);
    const auto comparable = comparableIds();
    int64_t used = 0;
    for (int64_t t = 0; t < L; ++t) {
        if (!alive.any().item<bool>()) break;
        auto logits = stepLogits(prev1, prev2, t, ctx) / o.temperature;
        logits = logits.masked_fill(comparable.logical_not(), -std::numeric_limits<float>::infinity());
        const auto logp = torch::log_softmax(logits, -1);
        auto filtered = logits.clone();
        if (o.top_k > 0 && o.top_k < V) {
            const auto kth = std::get<0>(filtered.topk(o.top_k, -1)).select(1, o.top_k - 1).unsqueeze(1);
            filtered = filtered.masked_fill(filtered < kth, -std::numeric_limits<float>::infinity());
        }
        if (o.top_p < 1.0) {
            auto [sorted, order] = filtered.sort(-1, /*descending=*/true);
            const auto cum = torch::softmax(sorted, -1).cumsum(-1);
            auto removeSorted = (cum - torch::softmax(sorted, -1)) > o.top_p;  // keep the first over top_p
            auto remove = torch::zeros_like(removeSorted).scatter(1, order, removeSorted);
            filtered = filtered.masked_fill(remove, -std::numeric_limits<float>::infinity());
        }
        const auto next = torch::multinomial(torch::softmax(filtered, -1), 1, false, generator).squeeze(1);
        const auto lp = logp.gather(1, next.unsqueeze(1)).squeeze(1);
        tokens.select(1, t).copy_(torch::where(alive, next, torch::zeros_like(next)));
        logprobs.select(1, t).copy_(torch::where(alive, lp, torch::zeros_like(lp)));
        mask.select(1, t).copy_(alive);
        if (o.on_token)
            for (int64_t n = 0; n < N; ++n)
                if (alive[n].item<bool>()) o.on_token(n, next[n].item<int64_t>());
        alive = alive.logical_and(next != 1);
        prev2 = prev1;
        prev1 = next;
        used = t + 1;
    }
    Rollouts r;
    r.tokens = tokens.slice(1, 0, std::max<int64_t>(used, 1)).contiguous();
    r.logprobs = logprobs.slice(1, 0, std::max<int64_t>(used, 1)).contiguous();
    r.mask = mask.slice(1, 0, std::max<int64_t>(used, 1)).contiguous();
    r.prompt_index = index;
    const auto lengths = r.mask.sum(1);
    for (int64_t n = 0; n < N; ++n) {
        const int64_t len = lengths[n].item<int64_t>();
        const bool eos = len > 0 && r.tokens[n][len - 1].item<int64_t>() == 1;
        r.eos.push_back(eos ? 1 : 0);
        r.truncated.push_back(eos ? 0 : 1);
    }
    return r;
}

std::vector<torch::Tensor> ToyPolicy::trainableParameters() {
    std::vector<torch::Tensor> out;
    for (auto& p : net_->parameters())
        if (p.requires_grad()) out.push_back(p);
    return out;
}

std::vector<std::pair<std::string, torch::Tensor>> ToyPolicy::trainableState() {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (auto& item : net_->named_parameters())
        if (item.value().requires_grad()) out.emplace_back("toy." + item.key(), item.value());
    return out;
}

void ToyPolicy::loadTrainableState(const std::vector<std::pair<std::string, torch::Tensor>>& state,
                                   const std::string& source) {
    torch::NoGradGuard noGrad;
    auto own = trainableState();
    XOPD_CHECK(own.size() == state.size(), "'" << source << "': holds " << state.size() << " tensors, the toy model has "
                                               << own.size());
    for (size_t i = 0; i < own.size(); ++i) {
        XOPD_CHECK(own[i].first == state[i].first,
                   "'" << source << "': tensor " << i << " is '" << state[i].first << "', expected '" << own[i].first << "'");
        XOPD_CHECK(own[i].second.sizes() == state[i].second.sizes(),
                   "'" << source << "': tensor '" << state[i].first << "' has the wrong shape");
        own[i].second.copy_(state[i].second);
    }
}

void ToyPolicy::saveCheckpoint(const std::string& folder) {
    nlohmann::json cfg;
    cfg["model_type"] = "xopd_toy";
    cfg["vocab_size"] = options_.vocab;
    cfg["hidden_size"] = options_.hidden;
    cfg["max_positions"] = options_.max_positions;
    writeJsonFileAtomic(folder + "/config.json", cfg);
    NamedTensors tensors;
    for (auto& item : net_->named_parameters()) tensors.emplace_back(item.key(), item.value().detach().contiguous());
    for (auto& item : net_->named_buffers()) tensors.emplace_back(item.key(), item.value().detach().contiguous());
    writeSafetensors(folder + "/model.safetensors", tensors);
}

int64_t ToyPolicy::vocabSize() const { return options_.vocab; }

torch::Tensor ToyPolicy::comparableIds() const {
    auto c = torch::ones({options_.vocab}, torch::kBool);
    c[0] = false;                   // pad / start is never a response token
    c[options_.vocab - 1] = false;  // modality-specific special id
    return c;
}

std::vector<int64_t> ToyPolicy::stopIds() const { return {1}; }

std::string ToyPolicy::tokenText(int64_t id) const {
    if (id == 0) return "<pad>";
    if (id == 1) return "<|im_end|>";
    if (id == 2) return "<|endoftext|>";
    if (id == options_.vocab - 1) return "<|AUDIO|>";
    // Inverse of the byte folding for printable ASCII starting at 'a'.
    const int64_t c = 'a' + (id - 3) % 26;
    return std::string(1, char(c)) + (id - 3 >= 26 ? std::to_string((id - 3) / 26) : "");
}

torch::Device ToyPolicy::device() const { return torch::kCPU; }

std::string ToyPolicy::describe() const {
    std::ostringstream os;
    os << "toy " << (student_ ? "student" : "teacher") << " (V=" << options_.vocab << ", d=" << options_.hidden << ")";
    return os.str();
}

std::vector<PromptItem> toyPrompts(int64_t count) {
    static const char* kWords[] = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
    std::vector<PromptItem> out;
    for (int64_t i = 0; i < count; ++i) {
        const int a = int(i % 9), b = int((i / 9 + i * 7) % 9);
        PromptItem p;
        std::ostringstream id;
        id << "toy-" << i;
        p.id = id.str();
        p.transcript = std::string("what is ") + kWords[a] + " plus " + kWords[b];
        p.reference = std::to_string(a + b + 2);
        out.push_back(p);
    }
    return out;
}

}  // namespace xopd::distill
