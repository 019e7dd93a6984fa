// X-OPD, GKD and cross-entropy losses and their gradients against an independent float64 Python
// reference (tests/reference/distill/objectives_ref.py, Debian python3-torch). Tolerance: 2e-5
// absolute + 1e-4 relative (float32 vs float64 on values of order 1).
#include "core/common/Tensors.h"
#include "core/distill/Objectives.h"
#include "core/distill/divergence/Divergence.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace xopd::distill;

namespace {

nlohmann::json toJson(const torch::Tensor& t) {
    const auto d = t.detach().to(torch::kDouble).contiguous();
    if (d.dim() == 0) return d.item<double>();
    nlohmann::json j = nlohmann::json::array();
    for (int64_t i = 0; i < d.size(0); ++i) j.push_back(toJson(d[i]));
    return j;
}

torch::Tensor fromJson(const nlohmann::json& j) {
    if (j.is_number()) return torch::tensor(j.get<double>(), torch::kDouble);
    std::vector<torch::Tensor> rows;
    for (const auto& e : j) rows.push_back(fromJson(e));
    return torch::stack(rows);
}

struct Inputs {
    int64_t N = 6, L = 7, V = 11;
    torch::Tensor logits, teacher_logits, tokens, mask, lp_old, lp_teacher, comparable;
    std::vector<int64_t> stream;  // 0 text, 1 speech
};

Inputs makeInputs(uint64_t seed) {
    Inputs in;
    auto g = at::detail::createCPUGenerator(seed);
    in.logits = torch::randn({in.N, in.L, in.V}, g) * 2.0;
    in.teacher_logits = torch::randn({in.N, in.L, in.V}, g) * 2.0;
    in.comparable = torch::ones({in.V}, torch::kBool);
    in.comparable[0] = false;
    in.comparable[in.V - 1] = false;
    in.tokens = torch::randint(1, in.V - 1, {in.N, in.L}, g);  // comparable ids only
    in.mask = torch::zeros({in.N, in.L});
    const int64_t lengths[] = {7, 3, 0, 5, 1, 6};  // includes an empty row
    for (int64_t n = 0; n < in.N; ++n)
        for (int64_t t = 0; t < lengths[n]; ++t) in.mask[n][t] = 1.0;
    in.stream = {0, 1, 0, 1, 1, 0};
    // lp_old: the student's own log-probs plus noise (so ratio != 1 and clipping matters).
    const auto lp = torch::log_softmax(in.logits.masked_fill(in.comparable.logical_not(), -INFINITY), -1)
                        .gather(-1, in.tokens.unsqueeze(-1)).squeeze(-1);
    in.lp_old = lp + torch::randn({in.N, in.L}, g) * 0.3;
    in.lp_teacher = lp + torch::randn({in.N, in.L}, g) * 1.5 - 0.5;
    return in;
}

nlohmann::json runReference(const nlohmann::json& input) {
    const QString dir = QDir::tempPath() + "/xopd-distill-ref";
    QDir().mkpath(dir);
    const QString path = dir + QString("/in-%1.json").arg(QCoreApplication::applicationPid());
    std::ofstream(path.toStdString()) << input.dump();
    const auto r = xopd::test::runProgram("/usr/bin/python3",
                                          {xopd::test::sourceDir() + "/tests/reference/distill/objectives_ref.py", path});
    if (r.exitCode != 0) qFatal("reference failed: %s", qPrintable(r.err));
    return nlohmann::json::parse(r.out.toStdString());
}

void compare(double loss, const torch::Tensor& grad, const nlohmann::json& ref) {
    const double refLoss = ref["loss"].get<double>();
    QVERIFY2(std::abs(loss - refLoss) <= 2e-5 + 1e-4 * std::abs(refLoss),
             qPrintable(QString("loss %1 vs reference %2").arg(loss, 0, 'g', 10).arg(refLoss, 0, 'g', 10)));
    const auto refGrad = fromJson(ref["grad"]);
    QCOMPARE(refGrad.sizes(), grad.sizes());
    const auto diff = (grad.to(torch::kDouble) - refGrad).abs();
    const auto tol = 2e-6 + 1e-4 * refGrad.abs();
    QVERIFY2((diff <= tol).all().item<bool>(),
             qPrintable(QString("max gradient difference %1").arg(diff.max().item<double>())));
    QVERIFY2(refGrad.abs().max().item<double>() > 1e-4, "reference gradient is zero: the case tests nothing");
}

/// The loss of a stream mix as the trainer computes it: Σ_stream w_s · sum_s / count_s.
template <class F>
torch::Tensor mixStreams(const Inputs& in, double lambda, F&& streamSum) {
    torch::Tensor total = torch::zeros({});
    for (int s : {0, 1}) {
        std::vector<int64_t> rows;
        for (int64_t n = 0; n < in.N; ++n)
            if (in.stream[size_t(n)] == s) rows.push_back(n);
        const auto [sum, count] = streamSum(torch::tensor(rows, torch::kLong));
        const double w = s == 0 ? lambda : 1.0 - lambda;
        if (w > 0 && count > 0) total = total + w * sum / count;
    }
    return total;
}

torch::Tensor studentLogprobs(const Inputs& in, const torch::Tensor& logits, double temperature) {
    const auto ids = torch::where(in.mask > 0, in.tokens, torch::ones_like(in.tokens));
    return tokenLogProbs(logits.reshape({in.N * in.L, in.V}), ids.reshape({-1}), in.comparable.logical_not(), temperature)
        .logProb.reshape({in.N, in.L});
}

nlohmann::json baseJson(const Inputs& in, const char* mode, double lambda, double temperature) {
    nlohmann::json j;
    j["mode"] = mode;
    j["logits"] = toJson(in.logits);
    j["teacher_logits"] = toJson(in.teacher_logits);
    std::vector<std::vector<int64_t>> tok;
    for (int64_t n = 0; n < in.N; ++n) {
        tok.emplace_back();
        for (int64_t t = 0; t < in.L; ++t) tok.back().push_back(in.tokens[n][t].item<int64_t>());
    }
    j["tokens"] = tok;
    j["mask"] = toJson(in.mask);
    j["stream"] = in.stream;
    std::vector<bool> comp;
    for (int64_t v = 0; v < in.V; ++v) comp.push_back(in.comparable[v].item<bool>());
    j["comparable"] = comp;
    j["lambda"] = lambda;
    j["loss_temperature"] = temperature;
    return j;
}

}  // namespace

class TestDistillObjectives : public QObject {
    Q_OBJECT

private slots:
    void policyGradientMatchesReference_data() {
        QTest::addColumn<double>("lambda");
        QTest::addColumn<QString>("agg");
        QTest::addColumn<double>("clipEps");
        QTest::addColumn<QString>("transform");
        QTest::addColumn<double>("bound");
        QTest::addColumn<double>("advClip");
        QTest::addColumn<double>("scale");
        QTest::addColumn<int>("cordK");
        QTest::addColumn<double>("cordAlpha");
        QTest::addColumn<double>("posBeta");
        QTest::newRow("x-opd default (λ=0.5, seq-mean)") << 0.5 << "seq_mean_token_mean" << 0.0 << "log_ratio" << 5.0 << 0.0 << 1.0 << 0 << 1.0 << 1.0;
        QTest::newRow("text only (λ=1)") << 1.0 << "seq_mean_token_mean" << 0.0 << "log_ratio" << 5.0 << 0.0 << 1.0 << 0 << 1.0 << 1.0;
        QTest::newRow("speech only (λ=0)") << 0.0 << "seq_mean_token_mean" << 0.0 << "log_ratio" << 5.0 << 0.0 << 1.0 << 0 << 1.0 << 1.0;
        QTest::newRow("token mean, λ=0.3") << 0.3 << "token_mean" << 0.0 << "log_ratio" << 5.0 << 0.0 << 1.0 << 0 << 1.0 << 1.0;
        QTest::newRow("PPO clip 0.2") << 0.5 << "seq_mean_token_mean" << 0.2 << "log_ratio" << 5.0 << 0.0 << 1.0 << 0 << 1.0 << 1.0;
        QTest::newRow("tanh bound + clip + scale") << 0.6 << "seq_mean_token_mean" << 0.0 << "tanh" << 0.7 << 0.5 << 1.5 << 0 << 1.0 << 1.0;
        QTest::newRow("clip transform") << 0.4 << "seq_mean_token_mean" << 0.1 << "clip" << 0.6 << 0.0 << 1.0 << 0 << 1.0 << 1.0;
        QTest::newRow("CORD weights K=2 α=2 β=2") << 0.5 << "seq_mean_token_mean" << 0.0 << "log_ratio" << 5.0 << 0.0 << 1.0 << 2 << 2.0 << 2.0;
    }

    void policyGradientMatchesReference() {
        QFETCH(double, lambda);
        QFETCH(QString, agg);
        QFETCH(double, clipEps);
        QFETCH(QString, transform);
        QFETCH(double, bound);
        QFETCH(double, advClip);
        QFETCH(double, scale);
        QFETCH(int, cordK);
        QFETCH(double, cordAlpha);
        QFETCH(double, posBeta);
        const Inputs in = makeInputs(7);
        DistillLossConfig c;
        c.lambda = lambda;
        c.loss_agg = agg == "token_mean" ? LossAgg::TokenMean : LossAgg::SeqMeanTokenMean;
        c.clip_eps = clipEps;
        c.reward_transform = transform == "tanh" ? RewardTransform::Tanh : transform == "clip" ? RewardTransform::Clip : RewardTransform::LogRatio;
        c.reward_bound = bound;
        c.advantage_clip = advClip;
        c.reward_scale = scale;
        c.cord_topk = cordK;
        c.cord_alpha = cordAlpha;
        c.pos_decay_beta = posBeta;

        auto logits = in.logits.clone().requires_grad_(true);
        const auto lp = studentLogprobs(in, logits, 1.0);
        const auto raw = torch::where(in.mask > 0, in.lp_teacher - in.lp_old, torch::zeros_like(in.lp_old));
        const auto adv = shapeAdvantage(raw, in.mask, c);
        const auto w = cordWeights(adv, in.mask, c);
        const auto obj = mixStreams(in, lambda, [&](const torch::Tensor& rows) {
            const auto m = in.mask.index_select(0, rows);
            const auto sum = policyGradientObjectiveSum(lp.index_select(0, rows), in.lp_old.index_select(0, rows),
                                                        adv.index_select(0, rows), w.index_select(0, rows), m, clipEps,
                                                        c.loss_agg);
            const double count = c.loss_agg == LossAgg::TokenMean ? m.sum().item<double>() : double(rows.size(0));
            return std::make_pair(sum, count);
        });
        const auto loss = -obj;
        loss.backward();

        auto j = baseJson(in, "pg", lambda, 1.0);
        j["lp_old"] = toJson(in.lp_old);
        j["lp_teacher"] = toJson(in.lp_teacher);
        j["agg"] = agg.toStdString();
        j["clip_eps"] = clipEps;
        j["reward_transform"] = transform.toStdString();
        j["reward_bound"] = bound;
        j["advantage_clip"] = advClip;
        j["reward_scale"] = scale;
        j["cord_topk"] = cordK;
        j["cord_alpha"] = cordAlpha;
        j["pos_decay_beta"] = posBeta;
        compare(loss.item<double>(), logits.grad(), runReference(j));
    }

    void gkdMatchesReference_data() {
        QTest::addColumn<QString>("divergence");
        QTest::addColumn<double>("beta");
        QTest::addColumn<int>("topk");
        QTest::addColumn<double>("temperature");
        QTest::addColumn<double>("lambda");
        QTest::newRow("forward KL (paper's GKD baseline)") << "forward_kl" << 0.5 << 0 << 1.0 << 0.0;
        QTest::newRow("reverse KL") << "reverse_kl" << 0.5 << 0 << 1.0 << 0.5;
        QTest::newRow("JSD(0.5)") << "jsd" << 0.5 << 0 << 1.0 << 0.5;
        QTest::newRow("JSD(0.1), loss temperature 0.9") << "jsd" << 0.1 << 0 << 0.9 << 0.2;
        QTest::newRow("JSD(0) = forward KL") << "jsd" << 0.0 << 0 << 1.0 << 0.5;
        QTest::newRow("forward KL, teacher top-4") << "forward_kl" << 0.5 << 4 << 1.0 << 0.5;
    }

    void gkdMatchesReference() {
        QFETCH(QString, divergence);
        QFETCH(double, beta);
        QFETCH(int, topk);
        QFETCH(double, temperature);
        QFETCH(double, lambda);
        const Inputs in = makeInputs(11);
        auto logits = in.logits.clone().requires_grad_(true);
        DivergenceOptions o;
        o.kind = divergence == "forward_kl" ? DivergenceKind::ForwardKl
                 : divergence == "reverse_kl" ? DivergenceKind::ReverseKl
                                              : DivergenceKind::Jsd;
        o.jsdBeta = beta;
        o.topK = topk;
        o.temperature = temperature;
        const auto loss = mixStreams(in, lambda, [&](const torch::Tensor& rows) {
            const auto m = in.mask.index_select(0, rows);
            const int64_t n = rows.size(0);
            const auto valid = m.reshape({-1}).nonzero().squeeze(1);
            DivergenceInput di;
            di.studentLogits = logits.index_select(0, rows).reshape({n * in.L, in.V}).index_select(0, valid);
            di.teacherLogits = in.teacher_logits.index_select(0, rows).reshape({n * in.L, in.V}).index_select(0, valid);
            di.vocabMask = in.comparable.logical_not();
            const auto d = computeDivergence(di, o).divergence;
            const auto perTok = torch::zeros({n * in.L}, d.options()).index_put({valid}, d).reshape({n, in.L});
            return std::make_pair(sequenceMeanSum(perTok, m), double(n));
        });
        loss.backward();
        auto j = baseJson(in, "gkd", lambda, temperature);
        j["divergence"] = divergence.toStdString();
        j["jsd_beta"] = beta;
        j["topk"] = topk;
        compare(loss.item<double>(), logits.grad(), runReference(j));
    }

    void crossEntropyMatchesReference() {
        const Inputs in = makeInputs(5);
        auto logits = in.logits.clone().requires_grad_(true);
        const auto lp = studentLogprobs(in, logits, 1.0);
        const auto loss = mixStreams(in, 0.25, [&](const torch::Tensor& rows) {
            return std::make_pair(sequenceMeanSum(-lp.index_select(0, rows), in.mask.index_select(0, rows)),
                                  double(rows.size(0)));
        });
        loss.backward();
        compare(loss.item<double>(), logits.grad(), runReference(baseJson(in, "ce", 0.25, 1.0)));
    }

    void zeroAdvantageGivesZeroGradient() {
        // Teacher == student on the sampled tokens: A = 0 everywhere, so loss and gradient vanish.
        const Inputs in = makeInputs(3);
        auto logits = in.logits.clone().requires_grad_(true);
        const auto lp = studentLogprobs(in, logits, 1.0);
        const auto lpOld = lp.detach();
        const auto adv = shapeAdvantage(torch::where(in.mask > 0, lpOld - lpOld, torch::zeros_like(lpOld)), in.mask, {});
        const auto loss = -policyGradientObjectiveSum(lp, lpOld, adv, {}, in.mask, 0.0, LossAgg::SeqMeanTokenMean);
        loss.backward();
        QCOMPARE(loss.item<double>(), 0.0);
        QCOMPARE(logits.grad().abs().max().item<double>(), 0.0);
    }

    void cordWeightsByHand() {
        // One row of 3 valid tokens, β = 2: positional weights 2, 1.5, 1; K = 1, α = 3 on the most
        // negative advantage (largest divergence) at position 1.
        DistillLossConfig c;
        c.cord_topk = 1;
        c.cord_alpha = 3.0;
        c.pos_decay_beta = 2.0;
        const auto adv = torch::tensor({{0.5f, -2.0f, 0.1f, 0.0f}});
        const auto mask = torch::tensor({{1.f, 1.f, 1.f, 0.f}});
        const auto w = cordWeights(adv, mask, c);
        const auto expect = torch::tensor({{2.0f, 4.5f, 1.0f, 0.0f}});
        QVERIFY2(torch::allclose(w, expect), qPrintable(QString::fromStdString(torch::str(w))));
    }
};

QTEST_APPLESS_MAIN(TestDistillObjectives)
#include "test_distill_objectives.moc"
