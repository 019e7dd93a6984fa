#include "core/distill/RolloutScoring.h"

#include "core/common/Error.h"

#include "core/distill/Objectives.h"
#include "core/distill/divergence/Divergence.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace xopd::distill {
namespace {

/// Top-k (id, logprob) of one position's log-probs.
std::vector<std::pair<int32_t, float>> topkPairs(const torch::Tensor& logp_row, int64_t k) {
    std::vector<std::pair<int32_t, float>> out;
    if (k <= 0) return out;
    const auto [vals, ids] = logp_row.topk(std::min<int64_t>(k, logp_row.size(0)));
    for (int64_t i = 0; i < vals.size(0); ++i) {
        const float v = vals[i].item<float>();
        if (!std::isfinite(v)) break;
        out.emplace_back(int32_t(ids[i].item<int64_t>()), v);
    }
    return out;
}

}  // namespace

TokenDivergenceBatch tokenBatchOf(const PromptItem& prompt, Stream stream, int64_t step, int32_t sample_index,
                                  bool truncated) {
    TokenDivergenceBatch b;
    b.step = step;
    b.sample_index = sample_index;
    b.stream = streamName(stream);
    b.prompt_id = prompt.id;
    b.prompt_text = prompt.transcript;
    b.truncated = truncated;
    return b;
}

RolloutScorer::RolloutScorer(Policy& student, Policy& teacher, bool mask_special_tokens)
    : student_(student), teacher_(teacher), vocab_(std::min(student.vocabSize(), teacher.vocabSize())) {
    comparable_ = mask_special_tokens ? student.comparableIds().slice(0, 0, vocab_).logical_and(
                                            teacher.comparableIds().slice(0, 0, vocab_))
                                      : torch::ones({vocab_}, torch::kBool);
}

ScoredRollouts RolloutScorer::score(const std::vector<PromptItem>& prompts, const Rollouts& r, Stream stream,
                                    const DistillLossConfig& L, const ScoringRequest& request) const {
    torch::NoGradGuard noGrad;
    ScoredRollouts s;
    const auto dev = student_.device();
    const auto tokens = r.tokens.to(torch::kCPU).to(torch::kLong);
    const auto mask = r.mask.to(torch::kCPU).to(torch::kBool);
    const auto inVocab = tokens.lt(vocab_).logical_and(tokens.ge(0));
    const auto comparableTok = comparable_.index({tokens.clamp(0, vocab_ - 1)}).logical_and(inVocab);
    const auto valid = mask.logical_and(comparableTok);
    auto lossMask = valid.clone();
    for (int64_t id : L.extra_mask_ids) lossMask = lossMask.logical_and(tokens.ne(id));
    const int64_t stop = student_.stopIds().empty() ? 1 : student_.stopIds().front();
    s.gather_ids = torch::where(valid, tokens, torch::full_like(tokens, stop)).to(dev);
    s.loss_mask = lossMask.to(torch::kFloat32).to(dev);
    const int64_t N = tokens.size(0), Lr = tokens.size(1);
    const auto excluded = comparable_.logical_not();

    auto lpOf = [&](Policy& p, Stream context, torch::Tensor* entropy, torch::Tensor* logitsOut) {
        auto logits = p.responseLogits(prompts, r.prompt_index, context, tokens.to(p.device()), mask.to(p.device()));
        logits = logits.slice(-1, 0, vocab_);
        const auto out = tokenLogProbs(logits.reshape({N * Lr, vocab_}), s.gather_ids.to(p.device()).reshape({N * Lr}),
                                       excluded.to(p.device()), L.loss_temperature);
        if (entropy) *entropy = out.entropy.reshape({N, Lr}).to(dev);
        if (logitsOut) *logitsOut = logits.to(dev);
        return out.logProb.reshape({N, Lr}).to(dev);
    };

    torch::Tensor studentLogits, teacherLogits;
    const bool wantTopk = request.topk > 0 && !request.topk_rows.empty();
    const bool servedTeacher = !teacher_.returnsLogits();
    XOPD_CHECK(!(servedTeacher && request.teacher_logits),
               teacher_.describe() << ": a served teacher returns log-probs of the sampled tokens, not the distribution GKD needs");
    s.lp_old = lpOf(student_, stream, &s.entropy, wantTopk ? &studentLogits : nullptr);
    const auto t0 = std::chrono::steady_clock::now();
    if (servedTeacher) {
        // The server's log-probs are over its whole vocabulary at temperature 1 (validate() refuses
        // another loss temperature), at the same ids as in-process scoring (gather_ids).
        auto ts = teacher_.responseTokenScores(prompts, r.prompt_index, Stream::Text, s.gather_ids.to(torch::kCPU), mask,
                                               wantTopk ? request.topk_rows : std::set<int64_t>{}, request.topk);
        s.lp_teacher = ts.logprobs.to(torch::kFloat32).to(dev);
        s.teacher_topk = std::move(ts.topk);
    } else {
        s.lp_teacher = lpOf(teacher_, Stream::Text, nullptr, (wantTopk || request.teacher_logits) ? &teacherLogits : nullptr);
    }
    s.teacher_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (request.teacher_logits) s.teacher_logits = teacherLogits;
    if (request.other_modality)
        s.lp_other = lpOf(student_, stream == Stream::Speech ? Stream::Text : Stream::Speech, nullptr, nullptr);

    s.adv_raw = torch::where(s.loss_mask > 0, s.lp_teacher - s.lp_old, torch::zeros_like(s.lp_old));
    s.adv = shapeAdvantage(s.adv_raw, s.loss_mask, L);
    if (wantTopk) {
        const auto sl = maskedLogSoftmax(studentLogits.to(torch::kCPU), comparable_, L.loss_temperature);
        const auto tl = servedTeacher ? torch::Tensor() : maskedLogSoftmax(teacherLogits.to(torch::kCPU), comparable_, L.loss_temperature);
        for (int64_t row : request.topk_rows) {
            if (row < 0 || row >= N) continue;
            const int64_t len = mask[row].sum().item<int64_t>();
            auto& st = s.student_topk[row];
            for (int64_t t = 0; t < len; ++t) st.push_back(topkPairs(sl[row][t], request.topk));
            if (servedTeacher) {
                s.teacher_topk[row].resize(size_t(len));  // the server's, already in place
                continue;
            }
            auto& tt = s.teacher_topk[row];
            for (int64_t t = 0; t < len; ++t) tt.push_back(topkPairs(tl[row][t], request.topk));
        }
    }
    return s;
}

std::vector<TokenRecord> RolloutScorer::tokenRecords(const ScoredRollouts& s, const Rollouts& r, int64_t row) const {
    const auto tok = r.tokens.to(torch::kCPU);
    const int64_t len = r.mask.to(torch::kCPU)[row].sum().item<int64_t>();
    const auto lpOld = s.lp_old.to(torch::kCPU), lpT = s.lp_teacher.to(torch::kCPU), adv = s.adv.to(torch::kCPU);
    const auto ent = s.entropy.to(torch::kCPU);
    const auto other = s.lp_other.defined() ? s.lp_other.to(torch::kCPU) : torch::Tensor();
    const auto lossMask = s.loss_mask.to(torch::kCPU);
    const auto studentTopk = s.student_topk.find(row);
    const auto teacherTopk = s.teacher_topk.find(row);
    std::vector<TokenRecord> out;
    out.reserve(size_t(len));
    for (int64_t t = 0; t < len; ++t) {
        TokenRecord tr;
        tr.token_id = int32_t(tok[row][t].item<int64_t>());
        tr.text = student_.tokenText(tr.token_id);
        tr.position = int32_t(t);
        tr.masked = lossMask[row][t].item<float>() <= 0;
        tr.student_logprob = lpOld[row][t].item<float>();
        tr.teacher_logprob = lpT[row][t].item<float>();
        tr.advantage = adv[row][t].item<float>();
        tr.student_other_logprob = other.defined() ? other[row][t].item<float>() : std::nanf("");
        tr.entropy = ent[row][t].item<float>();
        if (studentTopk != s.student_topk.end() && size_t(t) < studentTopk->second.size()) {
            tr.student_topk = studentTopk->second[size_t(t)];
            tr.teacher_topk = teacherTopk->second[size_t(t)];
        }
        out.push_back(std::move(tr));
    }
    return out;
}

}  // namespace xopd::distill
