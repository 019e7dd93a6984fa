#include "core/distill/Trainer.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/common/TensorArchive.h"
#include "core/common/TorchSave.h"
#include "core/distill/DataOrder.h"
#include "core/serve/TeacherClient.h"
#include "core/distill/DataParallel.h"
#include "core/distill/Knobs.h"
#include "core/distill/LrSchedule.h"
#include "core/distill/Objectives.h"
#include "core/distill/RankStepTimes.h"
#include "core/distill/divergence/Divergence.h"

#include <torch/optim/adamw.h>
#include <torch/serialize.h>


#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

namespace xopd::distill {
namespace {

using Clock = std::chrono::steady_clock;
/// Gradient all-reduce bucket (data parallel): 25 MB, as torch's DistributedDataParallel.
constexpr int64_t kGradientBucketBytes = 25 << 20;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double quantileSorted(const std::vector<double>& v, double q) {
    if (v.empty()) return std::nan("");
    const double pos = q * double(v.size() - 1);
    const size_t lo = size_t(std::floor(pos)), hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

std::vector<double> maskedValues(const torch::Tensor& x, const torch::Tensor& mask) {
    const auto sel = x.detach().to(torch::kCPU, torch::kDouble).masked_select(mask.to(torch::kCPU).to(torch::kBool));
    return std::vector<double>(sel.data_ptr<double>(), sel.data_ptr<double>() + sel.numel());
}

double mean(const std::vector<double>& v) {
    if (v.empty()) return std::nan("");
    double s = 0;
    for (double x : v) s += x;
    return s / double(v.size());
}

}  // namespace

struct Trainer::Order {
    DataOrder order;
};

/// One stream's rollouts, their scores (RolloutScoring.h) and what the update needs.
struct Trainer::StreamData : ScoredRollouts {
    Stream stream = Stream::Invalid;  ///< context for scoring and update
    double weight = 0.0;
    bool on_policy = true;
    Rollouts r;
    torch::Tensor weights;         ///< [N, L] CORD token weights
    double global_count = 0.0;     ///< normaliser over the whole batch (sequences or tokens)
    double objective = 0.0;        ///< Σ micro-batch contributions (un-weighted by λ)
    double gkd_divergence = 0.0;
    std::vector<torch::Tensor> ratios;  ///< masked ratio values per micro-batch
    std::set<int64_t> logged_rows;
};

Trainer::Trainer(DistillConfig config, std::shared_ptr<Policy> student, std::shared_ptr<Policy> teacher,
                 std::vector<PromptItem> prompts)
    : config_(std::move(config)),
      student_(std::move(student)),
      teacher_(std::move(teacher)),
      prompts_(std::move(prompts)),
      generator_(at::detail::createCPUGenerator(config_.train.seed)) {
    XOPD_CHECK(student_ && teacher_, "trainer: student and teacher are required");
    XOPD_CHECK(!prompts_.empty(), "trainer: the prompt set is empty");
    order_ = std::make_unique<Order>(Order{DataOrder(int64_t(prompts_.size()), config_.train.seed)});
    scorer_ = std::make_unique<RolloutScorer>(*student_, *teacher_, config_.loss.mask_special_tokens);
    vocab_ = scorer_->vocab();
    comparable_ = scorer_->comparable();
    params_ = student_->trainableParameters();
    XOPD_CHECK(!params_.empty(), "trainer: the student has no trainable parameters");
    const auto& t = config_.train;
    optimizer_ = std::make_unique<torch::optim::AdamW>(
        params_, torch::optim::AdamWOptions(t.lr).betas({t.beta1, t.beta2}).eps(t.adam_eps).weight_decay(t.weight_decay));
    setMaxSteps(t.max_steps);
    // A step never draws more prompts than the set holds (a batch of 10^9 would only repeat them).
    XOPD_CHECK(promptsPerStep() <= int64_t(prompts_.size()),
               "train.batch_size: " << t.batch_size << " " << batchUnitName(t.batch_unit) << " per step need "
                                    << promptsPerStep() << " prompts, but the prompt set has " << prompts_.size());
    // Tokenise reference answers once (SFT).
    reference_tokens_.resize(prompts_.size());
    for (size_t i = 0; i < prompts_.size(); ++i)
        if (prompts_[i].reference && !prompts_[i].reference->empty())
            reference_tokens_[i] = student_->encodeAnswer(*prompts_[i].reference);
}

Trainer::~Trainer() = default;

int64_t Trainer::promptsPerStep() const {
    const auto& t = config_.train;
    const int64_t b = t.batch_unit == BatchUnit::Sequences ? t.batch_size / config_.rollout.rollouts_per_prompt : t.batch_size;
    return std::max<int64_t>(1, b);
}

void Trainer::setMaxSteps(int64_t max_steps) {
    knob("max_steps").check(double(max_steps), "max_steps");
    if (max_steps > 0) {
        max_steps_ = max_steps;
    } else {
        const int64_t per = promptsPerStep();
        max_steps_ = config_.train.epochs * ((int64_t(prompts_.size()) + per - 1) / per);
    }
    config_.train.max_steps = max_steps;
}

void Trainer::setLambda(double lambda) { setKnob("lambda", lambda); }
void Trainer::setLearningRate(double lr) { setKnob("lr", lr); }
void Trainer::setTemperature(double temperature) { setKnob("temperature", temperature); }

double Trainer::setKnob(const std::string& name, double value) {
    const KnobSpec& k = knob(name);
    k.check(value, "knob '" + name + "'");
    if (name == "max_steps") {
        const double old = double(max_steps_);
        setMaxSteps(int64_t(value));
        return old;
    }
    const double old = knobValue(config_, k);
    setKnobValue(config_, k, value);
    return old;
}

void Trainer::setDataParallel(std::shared_ptr<dist::Group> group) {
    group_ = std::move(group);
    if (!group_) return;
    const int64_t g = config_.train.dp_sample_group, groups = (promptsPerStep() + g - 1) / g;
    XOPD_CHECK(groups >= group_->worldSize(),
               "train.batch_size: " << promptsPerStep() << " prompts per step in sampling groups of " << g
                                    << " (train.dp_sample_group) are " << groups << " groups, too few for "
                                    << group_->worldSize() << " ranks (each needs at least one)");
    dp::broadcastParameters(*group_, params_);
}

Rollouts Trainer::sampleStream(const std::vector<PromptItem>& batch, Stream stream, int64_t m, const SamplingOptions& so) {
    if (!group_) return student_->sample(batch, stream, m, so, generator_);
    return dp::sampleGroups(*student_, batch, shard_offset_, config_.train.dp_sample_group, stream, m, so,
                            config_.train.seed, step_);
}

double Trainer::nextLearningRate() const { return learningRateAt(config_.train, config_.train.lr, step_, max_steps_); }

std::vector<int64_t> Trainer::fixedResponses(int64_t prompt_index, bool from_teacher) {
    const auto& p = prompts_[size_t(prompt_index)];
    const int64_t stop = student_->stopIds().empty() ? 0 : student_->stopIds().front();
    if (!from_teacher) {
        const auto& reference = reference_tokens_[size_t(prompt_index)];
        XOPD_CHECK(!reference.empty(), "prompt '" << p.id << "' has no reference answer (needed by method "
                                                           << methodName(config_.loss.method) << ")");
        auto ids = reference;
        ids.push_back(stop);
        return ids;
    }
    auto it = teacher_answers_.find(prompt_index);
    if (it != teacher_answers_.end()) return it->second;
    // The teacher's own answer, reproducible per (seed, prompt): resume needs no cache.
    auto gen = at::detail::createCPUGenerator(config_.train.seed * 1000003ULL + uint64_t(prompt_index) + 17);
    SamplingOptions so;
    so.temperature = config_.rollout.temperature;
    so.top_p = config_.rollout.top_p;
    so.top_k = config_.rollout.top_k;
    so.max_new_tokens = config_.rollout.max_new_tokens;
    torch::NoGradGuard noGrad;
    const auto r = teacher_->sample({p}, Stream::Text, 1, so, gen);
    const int64_t len = r.mask[0].sum().item<int64_t>();
    std::vector<int64_t> ids;
    for (int64_t t = 0; t < len; ++t) ids.push_back(r.tokens[0][t].item<int64_t>());
    teacher_answers_[prompt_index] = ids;
    return ids;
}

void Trainer::buildStreams(const std::vector<PromptItem>& batch, std::vector<StreamData>& streams, double& rollout_s,
                           double& teacher_s, StepOutput& out) {
    const auto& L = config_.loss;
    const double lam = L.lambda;
    const bool wantText = lam > 0.0, wantSpeech = lam < 1.0;
    bool onPolicy = L.method == Method::XOpd;
    if (L.method == Method::Gkd) {
        const double u = torch::rand({1}, generator_).item<double>();
        onPolicy = u < L.gkd_lambda;
        out.metrics.scalars["gkd_on_policy"] = onPolicy ? 1.0 : 0.0;
    }
    auto t0 = Clock::now();
    if (onPolicy) {
        SamplingOptions so;
        so.temperature = config_.rollout.temperature;
        so.top_p = config_.rollout.top_p;
        so.top_k = config_.rollout.top_k;
        so.max_new_tokens = config_.rollout.max_new_tokens;
        const int64_t m = config_.rollout.rollouts_per_prompt;
        const bool reuse = L.im_stream == ImStream::ReuseSpeechRollouts;
        Rollouts speech, text;
        if (wantSpeech || (wantText && reuse)) speech = sampleStream(batch, Stream::Speech, m, so);
        if (wantText && !reuse) text = sampleStream(batch, Stream::Text, m, so);
        if (wantText) {
            StreamData s;
            s.stream = Stream::Text;
            s.weight = lam;
            s.r = reuse ? speech : text;
            streams.push_back(std::move(s));
        }
        if (wantSpeech) {
            StreamData s;
            s.stream = Stream::Speech;
            s.weight = 1.0 - lam;
            s.r = speech;
            streams.push_back(std::move(s));
        }
    } else {
        const bool fromTeacher = L.method == Method::OfflineKd || (L.method == Method::Gkd && L.seq_kd);
        std::vector<std::vector<int64_t>> answers;
        int64_t Lmax = 1;
        for (size_t i = 0; i < batch.size(); ++i) {
            answers.push_back(fixedResponses(batch_indices_[i], fromTeacher));
            Lmax = std::max<int64_t>(Lmax, int64_t(answers.back().size()));
        }
        Rollouts r;
        const int64_t N = int64_t(batch.size());
        r.tokens = torch::zeros({N, Lmax}, torch::kLong);
        r.logprobs = torch::zeros({N, Lmax}, torch::kFloat32);
        r.mask = torch::zeros({N, Lmax}, torch::kBool);
        for (int64_t n = 0; n < N; ++n) {
            const auto& a = answers[size_t(n)];
            for (size_t t = 0; t < a.size(); ++t) {
                r.tokens[n][int64_t(t)] = a[t];
                r.mask[n][int64_t(t)] = true;
            }
            r.prompt_index.push_back(n);
            r.eos.push_back(1);
            r.truncated.push_back(0);
        }
        if (wantText) {
            StreamData s;
            s.stream = Stream::Text;
            s.weight = lam;
            s.on_policy = false;
            s.r = r;
            streams.push_back(std::move(s));
        }
        if (wantSpeech) {
            StreamData s;
            s.stream = Stream::Speech;
            s.weight = 1.0 - lam;
            s.on_policy = false;
            s.r = r;
            streams.push_back(std::move(s));
        }
    }
    rollout_s = secondsSince(t0);
    // Which rows get per-token records: spread over the streams.
    const int64_t want = config_.train.log_token_samples;
    if (!streams.empty() && want > 0) {
        const int64_t per = (want + int64_t(streams.size()) - 1) / int64_t(streams.size());
        for (auto& s : streams)
            for (int64_t r = 0; r < std::min<int64_t>(per, s.r.rows()); ++r) s.logged_rows.insert(r);
    }
    for (auto& s : streams) scoreStream(batch, s, teacher_s);
}

void Trainer::scoreStream(const std::vector<PromptItem>& batch, StreamData& s, double& teacher_s) {
    const auto& L = config_.loss;
    ScoringRequest want;
    want.topk = config_.train.log_topk;
    want.topk_rows = s.logged_rows;
    want.other_modality = s.stream == Stream::Speech && config_.train.modality_gap;
    want.teacher_logits = L.method == Method::Gkd;
    static_cast<ScoredRollouts&>(s) = scorer_->score(batch, s.r, s.stream, L, want);
    teacher_s += s.teacher_seconds;
    torch::NoGradGuard noGrad;
    s.weights = cordWeights(s.adv, s.loss_mask, L);
    const int64_t N = s.r.tokens.size(0);
    s.global_count = (L.method == Method::XOpd && L.loss_agg == LossAgg::TokenMean) ? s.loss_mask.sum().item<double>()
                                                                                   : double(N);
}

StepOutput Trainer::step() {
    // The teacher is asked before anything is updated: an unreachable one leaves the state of
    // before the step, once the draws of the data order and the generator are undone.
    const int64_t epoch = order_->order.epoch(), cursor = order_->order.cursor();
    const auto generatorState = generator_.get_state();
    try {
        return stepOnce();
    } catch (const serve::TeacherUnreachable&) {
        order_->order.restore(epoch, cursor);
        generator_.set_state(generatorState);
        throw;
    }
}

StepOutput Trainer::stepOnce() {
    const auto tStep = Clock::now();
    StepOutput out;
    const auto& L = config_.loss;
    batch_indices_ = order_->order.next(promptsPerStep());
    if (group_) {  // every rank drew the same global batch; keep this rank's shard
        const auto [lo, hi] = dp::batchShard(int64_t(batch_indices_.size()), config_.train.dp_sample_group,
                                             group_->rank(), group_->worldSize());
        batch_indices_ = std::vector<int64_t>(batch_indices_.begin() + lo, batch_indices_.begin() + hi);
        shard_offset_ = lo;
    }
    std::vector<PromptItem> batch;
    for (int64_t i : batch_indices_) batch.push_back(prompts_[size_t(i)]);

    std::vector<StreamData> streams;
    double rollout_s = 0, teacher_s = 0;
    if (!group_ || config_.served_teacher.url.empty()) {
        buildStreams(batch, streams, rollout_s, teacher_s, out);
    } else {  // a served teacher unreachable from any rank rewinds the step on every rank (step())
        std::string unreachable;
        try {
            buildStreams(batch, streams, rollout_s, teacher_s, out);
        } catch (const serve::TeacherUnreachable& e) {
            unreachable = e.what();
        }
        unreachable = dp::teacherOutcome(*group_, unreachable, config_.served_teacher.url);
        if (!unreachable.empty()) throw serve::TeacherUnreachable(unreachable);
    }
    if (group_) {  // the normaliser is the whole job's sequence (or token) count
        std::vector<double> counts;
        for (auto& s : streams) counts.push_back(s.global_count);
        counts = dp::allreduceSum(*group_, counts);
        for (size_t i = 0; i < streams.size(); ++i) streams[i].global_count = counts[i];
    }

    // ---- Update: micro-batches by prompt; each stream's sum is divided by its GLOBAL count.
    const auto tUpdate = Clock::now();
    optimizer_->zero_grad();
    const int64_t B = int64_t(batch.size());
    const int64_t M = std::min<int64_t>(config_.train.micro_batches, B);
    double lossValue = 0.0;
    double teacherInUpdate = 0.0;
    const auto dev = student_->device();
    const auto excluded = comparable_.logical_not().to(dev);
    for (int64_t g = 0; g < M; ++g) {
        const int64_t lo = g * B / M, hi = (g + 1) * B / M;
        torch::Tensor total;
        for (auto& s : streams) {
            if (s.weight <= 0.0 || s.global_count <= 0.0) continue;
            std::vector<int64_t> rows, subIndex;
            for (int64_t r = 0; r < s.r.rows(); ++r)
                if (s.r.prompt_index[size_t(r)] >= lo && s.r.prompt_index[size_t(r)] < hi) {
                    rows.push_back(r);
                    subIndex.push_back(s.r.prompt_index[size_t(r)]);
                }
            if (rows.empty()) continue;
            const auto rowT = torch::tensor(rows, torch::kLong);
            const auto rowD = rowT.to(dev);
            const auto tokens = s.r.tokens.index_select(0, rowT);
            const auto mask = s.r.mask.index_select(0, rowT);
            const auto lossMask = s.loss_mask.index_select(0, rowD);
            const auto gatherIds = s.gather_ids.index_select(0, rowD);
            const int64_t n = tokens.size(0), Lr = tokens.size(1);
            auto logits = student_->responseLogits(batch, subIndex, s.stream, tokens.to(dev), mask.to(dev));
            logits = logits.slice(-1, 0, vocab_);
            torch::Tensor contrib;
            if (L.method == Method::Gkd) {
                const auto validIdx = lossMask.reshape({n * Lr}).nonzero().squeeze(1);
                DivergenceInput in;
                in.studentLogits = logits.reshape({n * Lr, vocab_}).index_select(0, validIdx);
                in.teacherLogits = s.teacher_logits.index_select(0, rowD).reshape({n * Lr, vocab_}).index_select(0, validIdx);
                in.vocabMask = excluded;
                DivergenceOptions o;
                o.kind = L.divergence == Divergence::ForwardKl   ? DivergenceKind::ForwardKl
                         : L.divergence == Divergence::ReverseKl ? DivergenceKind::ReverseKl
                                                                 : DivergenceKind::Jsd;
                o.jsdBeta = L.jsd_beta;
                o.topK = L.topk;
                o.temperature = L.loss_temperature;
                const auto d = computeDivergence(in, o).divergence;
                auto perTok = torch::zeros({n * Lr}, d.options()).index_put({validIdx}, d).reshape({n, Lr});
                const auto sum = sequenceMeanSum(perTok, lossMask);
                s.gkd_divergence += sum.item<double>() / s.global_count;
                contrib = s.weight * sum / s.global_count;
            } else {
                const auto lp = tokenLogProbs(logits.reshape({n * Lr, vocab_}), gatherIds.reshape({n * Lr}), excluded,
                                              L.loss_temperature)
                                    .logProb.reshape({n, Lr});
                if (L.method == Method::XOpd) {
                    const auto lpOld = s.lp_old.index_select(0, rowD);
                    const auto obj = policyGradientObjectiveSum(lp, lpOld, s.adv.index_select(0, rowD),
                                                                s.weights.index_select(0, rowD), lossMask, L.clip_eps,
                                                                L.loss_agg);
                    s.objective += obj.item<double>() / s.global_count;
                    contrib = -s.weight * obj / s.global_count;
                    s.ratios.push_back(torch::exp(lp.detach() - lpOld).masked_select(lossMask > 0).to(torch::kCPU));
                } else {  // SFT / offline KD: cross-entropy on the fixed answers
                    const auto sum = sequenceMeanSum(-lp, lossMask);
                    s.objective += sum.item<double>() / s.global_count;
                    contrib = s.weight * sum / s.global_count;
                }
            }
            total = total.defined() ? total + contrib : contrib;
        }
        if (total.defined()) {
            total.backward();
            lossValue += total.item<double>();
        }
    }
    (void)teacherInUpdate;
    if (group_) {  // each rank's loss is a share of the global one: sums make the one-process values
        lossValue = dp::allreduceSum(*group_, {lossValue})[0];
        dp::allreduceGradients(*group_, params_, kGradientBucketBytes);
    }

    // ---- Non-finite guard, clipping, optimizer step.
    if (!std::isfinite(lossValue)) {
        out.nonfinite = true;
        out.nonfinite_reason = std::string("loss is ") + (std::isnan(lossValue) ? "NaN" : "Inf");
    }
    double sq = 0.0;
    const auto named = student_->trainableState();
    for (size_t i = 0; i < params_.size(); ++i) {
        const auto& gr = params_[i].grad();
        if (!gr.defined()) continue;
        const double v = gr.detach().to(torch::kDouble).pow(2).sum().item<double>();
        if (!std::isfinite(v) && !out.nonfinite) {
            out.nonfinite = true;
            out.nonfinite_reason = "gradient of '" + (i < named.size() ? named[i].first : std::to_string(i)) + "' is " +
                                   (std::isnan(v) ? "NaN" : "Inf");
        }
        sq += v;
    }
    const double gradNorm = std::sqrt(sq);
    const double lr = nextLearningRate();
    if (out.nonfinite) {
        optimizer_->zero_grad();
    } else {
        if (config_.train.grad_clip > 0 && gradNorm > config_.train.grad_clip) {
            const double scale = config_.train.grad_clip / (gradNorm + 1e-6);
            torch::NoGradGuard noGrad;
            for (auto& p : params_)
                if (p.grad().defined()) p.grad().mul_(scale);
        }
        for (auto& group : optimizer_->param_groups())
            static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
        optimizer_->step();
        ++step_;
    }
    const double update_s = secondsSince(tUpdate);

    auto& sc = out.metrics.scalars;
    out.metrics.step = step_;
    sc["loss"] = lossValue;
    sc["grad_norm"] = gradNorm;
    sc["lr"] = lr;
    sc["lambda"] = L.lambda;
    sc["temperature"] = config_.rollout.temperature;
    sc["time/rollout_s"] = rollout_s;
    sc["time/teacher_s"] = teacher_s;
    sc["time/update_s"] = update_s;
    collectMetrics(batch, streams, out);
    const ModelStepStatistics model_stats = student_->takeStepStatistics();  // e.g. MoE routing ("moe/...")
    sc.insert(model_stats.scalars.begin(), model_stats.scalars.end());
    out.metrics.json.insert(model_stats.json.begin(), model_stats.json.end());
    const double step_s = secondsSince(tStep);
    sc["time/step_s"] = step_s;
    sc["time/rollout_share"] = step_s > 0 ? rollout_s / step_s : std::nan("");
    double tokens = 0;
    for (auto& s : streams) tokens += s.r.mask.sum().item<double>();
    sc["tokens_per_s"] = step_s > 0 ? tokens / step_s : std::nan("");
    if (group_) {  // rank 0 records the job's metrics, and the prompts every rank trained on
        dp::reduceScalars(*group_, sc);
        nlohmann::json ids = nlohmann::json::array();
        for (int64_t i : dp::gatherShards(*group_, batch_indices_, shard_offset_, promptsPerStep()))
            ids.push_back(prompts_[size_t(i)].id);
        out.metrics.json["dp/batch"] = ids.dump();
        out.metrics.json[kRankStepSecondsKey] = rankStepSecondsJson(dp::gatherValues(*group_, step_s));
    }
    return out;
}

void Trainer::collectMetrics(const std::vector<PromptItem>& batch, std::vector<StreamData>& streams, StepOutput& out) {
    auto& sc = out.metrics.scalars;
    int32_t sampleIndex = 0;
    for (auto& s : streams) {
        const std::string p = std::string(streamName(s.stream)) + "/";
        const auto lm = s.loss_mask.to(torch::kCPU) > 0;
        auto adv = maskedValues(s.adv_raw, lm);
        std::sort(adv.begin(), adv.end());
        const double advMean = mean(adv);
        sc[p + "adv_mean"] = advMean;
        sc[p + "divergence"] = -advMean;  // M1: mean(log π_old − log π_teacher)
        sc[p + "adv_p10"] = quantileSorted(adv, 0.10);
        sc[p + "adv_p50"] = quantileSorted(adv, 0.50);
        sc[p + "adv_p90"] = quantileSorted(adv, 0.90);
        sc[p + "adv_min"] = adv.empty() ? std::nan("") : adv.front();
        sc[p + "adv_max"] = adv.empty() ? std::nan("") : adv.back();
        sc[p + "adv_shaped_mean"] = mean(maskedValues(s.adv, lm));
        const auto tlp = maskedValues(s.lp_teacher, lm);
        sc[p + "teacher_lp_mean"] = mean(tlp);
        sc[p + "teacher_low_frac"] =
            tlp.empty() ? std::nan("") : double(std::count_if(tlp.begin(), tlp.end(), [](double v) { return v < -10; })) / double(tlp.size());
        sc[p + "student_lp_mean"] = mean(maskedValues(s.lp_old, lm));
        sc[p + "entropy_mean"] = mean(maskedValues(s.entropy, lm));
        sc[p + "tokens"] = double(adv.size());
        sc[p + "objective"] = s.objective;
        if (config_.loss.method == Method::Gkd) sc[p + "gkd_divergence"] = s.gkd_divergence;
        // Rollout statistics (M7).
        const auto lengths = s.r.mask.to(torch::kCPU).sum(1).to(torch::kDouble);
        std::vector<double> len(lengths.data_ptr<double>(), lengths.data_ptr<double>() + lengths.numel());
        std::sort(len.begin(), len.end());
        sc[p + "len_mean"] = mean(len);
        sc[p + "len_p95"] = quantileSorted(len, 0.95);
        double eos = 0, trunc = 0;
        for (size_t r = 0; r < s.r.eos.size(); ++r) {
            eos += s.r.eos[r];
            trunc += s.r.truncated[r];
        }
        const double rows = std::max<double>(1.0, double(s.r.rows()));
        sc[p + "eos_rate"] = eos / rows;
        sc[p + "trunc_rate"] = trunc / rows;
        {  // repetition: distinct bigrams / bigrams
            std::set<std::pair<int64_t, int64_t>> uniq;
            int64_t total = 0;
            const auto tok = s.r.tokens.to(torch::kCPU);
            for (int64_t r = 0; r < s.r.rows(); ++r) {
                const int64_t n = int64_t(lengths[r].item<double>());
                for (int64_t t = 1; t < n; ++t) {
                    uniq.insert({tok[r][t - 1].item<int64_t>(), tok[r][t].item<int64_t>()});
                    ++total;
                }
            }
            sc[p + "distinct2"] = total > 0 ? double(uniq.size()) / double(total) : std::nan("");
        }
        // Policy-update health (M6).
        if (!s.ratios.empty()) {
            const auto r = torch::cat(s.ratios).to(torch::kDouble);
            if (r.numel() > 0) {
                sc[p + "ratio_mean"] = r.mean().item<double>();
                sc[p + "ratio_max"] = r.max().item<double>();
                const double eps = config_.loss.clip_eps;
                sc[p + "clip_frac"] = eps > 0 ? ((r < 1 - eps).logical_or(r > 1 + eps)).to(torch::kDouble).mean().item<double>() : 0.0;
            }
        }
        if (s.on_policy) {
            const auto diff = (s.r.logprobs.to(s.lp_old.device()).to(torch::kFloat32) - s.lp_old).abs();
            sc[p + "sampler_lp_diff"] = mean(maskedValues(diff, lm));
        }
        // Position profile (M3): mean |A| per bucket.
        {
            const auto a = s.adv_raw.to(torch::kCPU).abs();
            const int64_t Lr = a.size(1);
            const std::vector<std::pair<const char*, std::pair<int64_t, int64_t>>> buckets{
                {"1_16", {0, 16}}, {"17_64", {16, 64}}, {"65_256", {64, 256}}, {"gt256", {256, INT64_MAX}}};
            nlohmann::json prof = nlohmann::json::object();
            for (const auto& [name, range] : buckets) {
                const int64_t lo = std::min(range.first, Lr), hi = std::min(range.second, Lr);
                double v = std::nan("");
                if (hi > lo) v = mean(maskedValues(a.slice(1, lo, hi), lm.slice(1, lo, hi)));
                sc[p + "pos_abs_adv_" + name] = v;
                prof[name] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
            }
            out.metrics.json[p + "position_profile"] = prof.dump();
        }
        // Modality gap (M2) on speech rollouts: log π(y|T) − log π(y|S).
        if (s.lp_other.defined()) sc["modality_gap_mean"] = mean(maskedValues(s.lp_other - s.lp_old, lm));

        // Samples and per-token records.
        const auto tok = s.r.tokens.to(torch::kCPU);
        const auto maskC = s.r.mask.to(torch::kCPU);
        const int64_t maxSamples = 64;
        for (int64_t r = 0; r < s.r.rows(); ++r, ++sampleIndex) {
            const auto& prompt = batch[size_t(s.r.prompt_index[size_t(r)])];
            const int64_t len = maskC[r].sum().item<int64_t>();
            if (r < maxSamples) {
                SampleRecord rec;
                rec.step = step_;
                rec.sample_index = sampleIndex;
                rec.stream = streamName(s.stream);
                rec.prompt_id = prompt.id;
                rec.prompt_text = prompt.transcript;
                for (int64_t t = 0; t < len; ++t) rec.response_text += student_->tokenText(tok[r][t].item<int64_t>());
                rec.length = int32_t(len);
                rec.eos = s.r.eos[size_t(r)] != 0;
                rec.truncated = s.r.truncated[size_t(r)] != 0;
                out.samples.push_back(std::move(rec));
            }
            if (!s.logged_rows.count(r)) continue;
            TokenDivergenceBatch b = tokenBatchOf(prompt, s.stream, step_, sampleIndex, s.r.truncated[size_t(r)] != 0);
            b.tokens = scorer_->tokenRecords(s, s.r, r);
            out.tokens.push_back(std::move(b));
        }
    }
}

void Trainer::saveState(const std::string& folder) {
    student_->saveCheckpoint(folder);
    std::vector<torch::Tensor> tensors;
    nlohmann::json names = nlohmann::json::array();
    for (auto& [name, t] : student_->trainableState()) {
        names.push_back(name);
        tensors.push_back(t.detach().to(torch::kCPU).clone());
    }
    tensors.push_back(generator_.get_state());
    // Through AtomicFile: a full disk is an xopd::Error naming the file, never a LibTorch abort.
    saveTorchArchive(tensors, folder + "/trainable.pt");
    saveTorchArchive(*optimizer_, folder + "/optimizer.pt");
    nlohmann::json j;
    j["step"] = step_;
    j["max_steps"] = config_.train.max_steps;
    j["data_epoch"] = order_->order.epoch();
    j["data_cursor"] = order_->order.cursor();
    j["lambda"] = config_.loss.lambda;
    j["lr"] = config_.train.lr;
    j["temperature"] = config_.rollout.temperature;
    j["seed"] = config_.train.seed;
    j["trainable"] = names;
    j["rng"] = "last tensor of trainable.pt (torch CPU generator state)";
    writeJsonFileAtomic(folder + "/trainer_state.json", j);
}

void Trainer::loadState(const std::string& folder) {
    const std::string statePath = folder + "/trainer_state.json";
    const auto j = readJsonFile(statePath);
    try {
        const auto tensors = loadTensorListArchive(folder + "/trainable.pt");
        const auto names = j.at("trainable");
        XOPD_CHECK(tensors.size() == names.size() + 1,
                   "'" << folder << "/trainable.pt': holds " << tensors.size() << " tensors, trainer_state.json names "
                       << names.size());
        std::vector<std::pair<std::string, torch::Tensor>> state;
        for (size_t i = 0; i < names.size(); ++i) state.emplace_back(names[i].get<std::string>(), tensors[i]);
        student_->loadTrainableState(state, folder + "/trainable.pt");
        generator_.set_state(tensors.back());
        torch::load(*optimizer_, folder + "/optimizer.pt");
        step_ = j.at("step").get<int64_t>();
        order_->order.restore(j.at("data_epoch").get<int64_t>(), j.at("data_cursor").get<int64_t>());
        config_.loss.lambda = j.at("lambda").get<double>();
        config_.train.lr = j.at("lr").get<double>();
        config_.rollout.temperature = j.at("temperature").get<double>();
        setMaxSteps(j.at("max_steps").get<int64_t>());
    } catch (const nlohmann::json::exception& e) {
        XOPD_FAIL("'" << statePath << "': " << e.what());
    } catch (const c10::Error& e) {
        XOPD_FAIL("'" << folder << "': cannot load trainer state (" << e.what_without_backtrace() << ")");
    }
}

}  // namespace xopd::distill
