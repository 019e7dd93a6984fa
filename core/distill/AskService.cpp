#include "core/distill/AskService.h"

#include "core/common/Error.h"
#include "core/distill/Objectives.h"
#include "core/distill/Policy.h"
#include "core/distill/RunModels.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

namespace xopd::distill {

struct AskService::Impl {
    DistillConfig config;
    std::shared_ptr<RunModels> models;
    int64_t vocab = 0;
    torch::Tensor comparable;  // [vocab] bool, CPU
};

namespace {

std::vector<std::pair<int32_t, float>> topkPairs(const torch::Tensor& logpRow, int64_t k) {
    std::vector<std::pair<int32_t, float>> out;
    if (k <= 0) return out;
    const auto [vals, ids] = logpRow.topk(std::min<int64_t>(k, logpRow.size(0)));
    for (int64_t i = 0; i < vals.size(0); ++i) {
        const float v = vals[i].item<float>();
        if (!std::isfinite(v)) break;
        out.emplace_back(int32_t(ids[i].item<int64_t>()), v);
    }
    return out;
}

}  // namespace

AskService::AskService(DistillConfig config) : impl_(std::make_unique<Impl>()) {
    config.validate("ask");
    impl_->config = std::move(config);
}

AskService::~AskService() = default;

void AskService::load() {
    if (impl_->models) return;
    auto m = makeRunModels(impl_->config);
    XOPD_ASSERT(m && m->student && m->teacher);
    impl_->vocab = std::min(m->student->vocabSize(), m->teacher->vocabSize());
    impl_->comparable = m->student->comparableIds().slice(0, 0, impl_->vocab).logical_and(
        m->teacher->comparableIds().slice(0, 0, impl_->vocab));
    impl_->models = std::move(m);
}

bool AskService::loaded() const { return impl_->models != nullptr; }

std::string AskService::describe() const {
    if (!impl_->models) return {};
    return "student: " + impl_->models->student->describe() + ", teacher: " + impl_->models->teacher->describe();
}

std::vector<AskPrompt> AskService::prompts() const {
    std::vector<AskPrompt> out;
    if (!impl_->models) return out;
    for (const auto& p : impl_->models->prompts) out.push_back({p.id, p.text, p.audio_path});
    return out;
}

std::string AskService::tokenText(int32_t id) const {
    XOPD_CHECK(impl_->models, "ask: the models are not loaded");
    return impl_->models->student->tokenText(id);
}

AskAnswer AskService::ask(const AskRequest& q) {
    const auto t0 = std::chrono::steady_clock::now();
    XOPD_CHECK(!q.prompt.transcript.empty(), "ask: the transcript is empty (the teacher reads it)");
    XOPD_CHECK(q.max_new_tokens >= 1, "ask: max_new_tokens must be >= 1, got " << q.max_new_tokens);
    XOPD_CHECK(q.temperature > 0, "ask: temperature must be > 0, got " << q.temperature);
    const bool toy = impl_->config.student.kind == "toy";
    if (!toy) {
        XOPD_CHECK(!q.prompt.audio_path.empty(), "ask: no audio clip for the student (pick or record a prompt)");
        XOPD_CHECK(std::filesystem::is_regular_file(q.prompt.audio_path),
                   "'" << q.prompt.audio_path << "': no such audio file");
    }
    load();
    Policy& student = *impl_->models->student;
    Policy& teacher = *impl_->models->teacher;
    torch::NoGradGuard noGrad;

    PromptItem item;
    item.id = q.prompt.id.empty() ? "ask" : q.prompt.id;
    item.text = q.prompt.transcript;
    item.audio_path = q.prompt.audio_path;
    const std::vector<PromptItem> items{item};

    SamplingOptions so;
    so.temperature = q.temperature;
    so.top_p = 1.0;
    so.top_k = 0;
    so.max_new_tokens = q.max_new_tokens;
    auto gen = at::detail::createCPUGenerator(q.seed);

    const std::vector<int64_t> stops = student.stopIds();
    auto isStop = [&](int64_t id) { return std::find(stops.begin(), stops.end(), id) != stops.end(); };
    auto answerText = [&](Policy& p, const Rollouts& r) {
        std::string s;
        if (r.rows() == 0) return s;
        const auto tok = r.tokens.to(torch::kCPU);
        const auto mask = r.mask.to(torch::kCPU).to(torch::kBool);
        for (int64_t t = 0; t < tok.size(1); ++t) {
            if (!mask[0][t].item<bool>()) break;
            const int64_t id = tok[0][t].item<int64_t>();
            if (isStop(id)) break;
            s += p.tokenText(id);
        }
        return s;
    };

    // Scores the student's rollout `r` (sampled under `stream`) with both models.
    auto score = [&](const Rollouts& r, Stream stream) {
        TokenDivergenceBatch b;
        b.step = 0;
        b.sample_index = 0;
        b.stream = streamName(stream);
        b.prompt_id = item.id;
        b.prompt_text = item.text;
        b.truncated = r.rows() > 0 && r.truncated[0] != 0;
        if (r.rows() == 0 || r.tokens.size(1) == 0) return b;
        const int64_t V = impl_->vocab;
        const auto tokens = r.tokens.to(torch::kCPU);
        const auto mask = r.mask.to(torch::kCPU).to(torch::kBool);
        const auto inVocab = tokens.lt(V).logical_and(tokens.ge(0));
        const auto valid = mask.logical_and(impl_->comparable.index({tokens.clamp(0, V - 1)})).logical_and(inVocab);
        const auto ids = torch::where(valid, tokens, torch::zeros_like(tokens));
        auto logp = [&](Policy& p, Stream s) {
            auto logits = p.responseLogits(items, r.prompt_index, s, tokens.to(p.device()), mask.to(p.device()));
            return maskedLogSoftmax(logits.slice(-1, 0, V).to(torch::kCPU).to(torch::kFloat32), impl_->comparable, 1.0);
        };
        const auto sl = logp(student, stream);
        const auto tl = logp(teacher, Stream::Text);
        const auto ol = logp(student, stream == Stream::Speech ? Stream::Text : Stream::Speech);
        const auto slp = gatherTokenLogprobs(sl, ids);
        const auto tlp = gatherTokenLogprobs(tl, ids);
        const auto olp = gatherTokenLogprobs(ol, ids);
        const auto ent = entropyFromLogp(sl);
        const int64_t len = mask[0].sum().item<int64_t>();
        for (int64_t t = 0; t < len; ++t) {
            TokenRecord tr;
            tr.token_id = int32_t(tokens[0][t].item<int64_t>());
            tr.text = student.tokenText(tr.token_id);
            tr.position = int32_t(t);
            tr.masked = !valid[0][t].item<bool>();
            tr.student_logprob = tr.masked ? 0.f : slp[0][t].item<float>();
            tr.teacher_logprob = tr.masked ? 0.f : tlp[0][t].item<float>();
            tr.advantage = tr.masked ? 0.f : tr.teacher_logprob - tr.student_logprob;
            tr.student_other_logprob = tr.masked ? std::nanf("") : olp[0][t].item<float>();
            tr.entropy = ent[0][t].item<float>();
            tr.student_topk = topkPairs(sl[0][t], q.topk);
            tr.teacher_topk = topkPairs(tl[0][t], q.topk);
            b.tokens.push_back(std::move(tr));
        }
        return b;
    };
    auto meanAdvantage = [](const TokenDivergenceBatch& b) {
        double sum = 0;
        int n = 0;
        for (const auto& t : b.tokens)
            if (!t.masked) sum += t.advantage, ++n;
        return n ? sum / n : std::nan("");
    };

    AskAnswer a;
    const Rollouts speech = student.sample(items, Stream::Speech, 1, so, gen);
    const Rollouts text = student.sample(items, Stream::Text, 1, so, gen);
    const Rollouts teach = teacher.sample(items, Stream::Text, 1, so, gen);
    a.student_answer = answerText(student, speech);
    a.student_text_answer = answerText(student, text);
    a.teacher_answer = answerText(teacher, teach);
    a.speech = score(speech, Stream::Speech);
    a.text = score(text, Stream::Text);
    a.text.sample_index = 1;
    a.speech_mean_advantage = meanAdvantage(a.speech);
    a.text_mean_advantage = meanAdvantage(a.text);
    a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return a;
}

}  // namespace xopd::distill
