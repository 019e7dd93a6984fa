#include "core/session/AskService.h"

#include "core/common/Error.h"
#include "core/common/Tensors.h"
#include "core/common/TorchErrors.h"
#include "core/distill/Policy.h"
#include "core/distill/RolloutScoring.h"
#include "core/distill/RunModels.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

namespace xopd::session {

using namespace distill;  // the policies, scorer and config this service drives

struct AskService::Impl {
    DistillConfig config;
    std::shared_ptr<RunModels> models;
    std::unique_ptr<RolloutScorer> scorer;

    /// The student's rollout `r` (one row, sampled under `stream` for `prompt`) scored with both
    /// models exactly as the trainer scores its rollouts (RolloutScoring.h).
    TokenDivergenceBatch score(const PromptItem& prompt, const Rollouts& r, Stream stream, int64_t topk) const {
        TokenDivergenceBatch b = tokenBatchOf(prompt, stream, 0, 0, r.rows() > 0 && r.truncated[0] != 0);
        if (r.rows() == 0 || r.tokens.size(1) == 0) return b;
        ScoringRequest want;
        want.topk = topk;
        want.topk_rows = {0};
        want.other_modality = true;  // the modality gap of both rows
        const auto scored = scorer->score({prompt}, r, stream, config.loss, want);
        b.tokens = scorer->tokenRecords(scored, r, 0);
        return b;
    }
};

AskService::AskService(DistillConfig config) : impl_(std::make_unique<Impl>()) {
    config.validate("ask");
    impl_->config = std::move(config);
}

AskService::~AskService() = default;

void AskService::load() {
    withTorchErrors("ask: loading the models", [&] {
        if (impl_->models) return;
        auto m = makeRunModels(impl_->config);
        XOPD_ASSERT(m && m->student && m->teacher);
        impl_->scorer = std::make_unique<RolloutScorer>(*m->student, *m->teacher, impl_->config.loss.mask_special_tokens);
        impl_->models = std::move(m);
    });
}

bool AskService::loaded() const { return impl_->models != nullptr; }

std::string AskService::describe() const {
    if (!impl_->models) return {};
    return "student: " + impl_->models->student->describe() + ", teacher: " + impl_->models->teacher->describe();
}

std::vector<data::PromptItem> AskService::prompts() const {
    if (!impl_->models) return {};
    return impl_->models->prompts;
}

TokenDivergenceBatch AskService::scoreResponse(const data::PromptItem& prompt, const std::string& stream,
                                               const std::vector<int32_t>& tokens, int64_t topk) {
    return withTorchErrors("ask: scoring a response", [&]() -> TokenDivergenceBatch {
        XOPD_CHECK(stream == "speech" || stream == "text", "ask: unknown stream '" << stream << "' (speech or text)");
        load();
        torch::NoGradGuard noGrad;
        const auto stops = impl_->models->student->stopIds();
        const int64_t L = int64_t(tokens.size());
        Rollouts r;
        r.tokens = torch::tensor(std::vector<int64_t>(tokens.begin(), tokens.end()), torch::kLong).reshape({1, L});
        r.logprobs = torch::zeros({1, L}, torch::kFloat32);
        r.mask = torch::ones({1, L}, torch::kBool);
        r.prompt_index = {0};
        r.eos = {uint8_t(L > 0 && std::find(stops.begin(), stops.end(), int64_t(tokens.back())) != stops.end())};
        r.truncated = {0};
        return impl_->score(prompt, r, stream == "speech" ? Stream::Speech : Stream::Text, topk);
    });
}

std::string AskService::tokenText(int32_t id) const {
    XOPD_CHECK(impl_->models, "ask: the models are not loaded");
    return impl_->models->student->tokenText(id);
}

AskAnswer AskService::ask(const AskRequest& q) {
    return withTorchErrors("ask", [&]() -> AskAnswer {
        const auto t0 = std::chrono::steady_clock::now();
        XOPD_CHECK(!q.prompt.transcript.empty(), "ask: the transcript is empty (the teacher reads it)");
        XOPD_CHECK(q.max_new_tokens >= 1, "ask: max_new_tokens must be >= 1, got " << q.max_new_tokens);
        XOPD_CHECK(q.temperature > 0, "ask: temperature must be > 0, got " << q.temperature);
        const bool toy = impl_->config.student.kind == ModelSourceKind::Toy;
        if (!toy) {
            XOPD_CHECK(!q.prompt.audio_path.empty(), "ask: no audio clip for the student (pick or record a prompt)");
            XOPD_CHECK(std::filesystem::is_regular_file(q.prompt.audio_path),
                       "'" << q.prompt.audio_path << "': no such audio file");
        }
        load();
        Policy& student = *impl_->models->student;
        Policy& teacher = *impl_->models->teacher;
        torch::NoGradGuard noGrad;

        PromptItem item = q.prompt;
        if (item.id.empty()) item.id = "ask";
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

        auto meanAdvantage = [](const TokenDivergenceBatch& b) {
            double sum = 0;
            int n = 0;
            for (const auto& t : b.tokens)
                if (!t.masked) sum += t.advantage, ++n;
            return n ? sum / n : std::nan("");
        };

        // Streaming: each sampled token of the (one) answer row extends its text as it comes.
        auto streamed = [&](Policy& p, AskPart part) {
            SamplingOptions s = so;
            if (!q.on_text) return s;
            s.on_token = [&p, &q, &isStop, part, text = std::string(), stopped = false](int64_t row, int64_t id) mutable {
                if (row != 0 || stopped) return;
                if (isStop(id)) {
                    stopped = true;
                    return;
                }
                text += p.tokenText(id);
                q.on_text(part, text);
            };
            return s;
        };

        AskAnswer a;
        const Rollouts speech = student.sample(items, Stream::Speech, 1, streamed(student, AskPart::StudentSpeech), gen);
        const Rollouts text = student.sample(items, Stream::Text, 1, streamed(student, AskPart::StudentText), gen);
        const Rollouts teach = teacher.sample(items, Stream::Text, 1, streamed(teacher, AskPart::Teacher), gen);
        a.student_answer = answerText(student, speech);
        a.student_text_answer = answerText(student, text);
        a.teacher_answer = answerText(teacher, teach);
        a.speech = impl_->score(item, speech, Stream::Speech, q.topk);
        a.text = impl_->score(item, text, Stream::Text, q.topk);
        a.text.sample_index = 1;
        a.speech_mean_advantage = meanAdvantage(a.speech);
        a.text_mean_advantage = meanAdvantage(a.text);
        a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return a;
    });
}

}  // namespace xopd::session
