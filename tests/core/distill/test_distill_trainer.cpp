// The trainer on the toy teacher/student pair: loss scale invariant to gradient-accumulation splits,
// student == teacher gives zero advantage and zero gradient, λ endpoints reduce to one stream,
// baselines learn, and save/load resumes bit-identically.
#include "core/common/Error.h"
#include "core/common/Tensors.h"
#include "core/distill/ToyPolicy.h"
#include "core/distill/Trainer.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

#include <cmath>

using namespace xopd::distill;

namespace {

DistillConfig smallConfig(Method method = Method::XOpd) {
    auto c = defaultDistillConfig(method);
    c.student.kind = c.teacher.kind = ModelSourceKind::Toy;
    c.rollout.rollouts_per_prompt = 2;
    c.rollout.max_new_tokens = 12;
    c.train.batch_size = 6;
    c.train.lr = 1e-2;
    c.train.max_steps = 10;
    c.train.log_token_samples = 2;
    c.train.seed = 42;
    return c;
}

struct Setup {
    std::shared_ptr<ToyPolicy> student, teacher;
    std::unique_ptr<Trainer> trainer;
};

Setup make(const DistillConfig& c, ToyPolicyOptions o = {}, int64_t prompts = 24) {
    Setup s;
    s.student = std::make_shared<ToyPolicy>(o, true);
    s.teacher = std::make_shared<ToyPolicy>(o, false);
    s.trainer = std::make_unique<Trainer>(c, s.student, s.teacher, toyPrompts(prompts));
    return s;
}

std::vector<torch::Tensor> grads(ToyPolicy& p) {
    std::vector<torch::Tensor> g;
    for (auto& t : p.trainableParameters()) g.push_back(t.grad().defined() ? t.grad().clone() : torch::zeros_like(t));
    return g;
}

double metric(const StepOutput& o, const std::string& k) {
    auto it = o.metrics.scalars.find(k);
    return it == o.metrics.scalars.end() ? std::nan("") : it->second;
}

}  // namespace

class TestDistillTrainer : public QObject {
    Q_OBJECT

private slots:
    void lossAndGradientDoNotDependOnAccumulationSplit_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("agg");
        QTest::newRow("x-opd seq-mean") << "x-opd" << "seq_mean_token_mean";
        QTest::newRow("x-opd token-mean") << "x-opd" << "token_mean";
        QTest::newRow("gkd forward KL") << "gkd" << "seq_mean_token_mean";
        QTest::newRow("sft") << "sft" << "seq_mean_token_mean";
    }
    void lossAndGradientDoNotDependOnAccumulationSplit() {
        QFETCH(QString, method);
        QFETCH(QString, agg);
        const Method m = method == "gkd" ? Method::Gkd : method == "sft" ? Method::Sft : Method::XOpd;
        auto c = smallConfig(m);
        c.loss.loss_agg = agg == "token_mean" ? LossAgg::TokenMean : LossAgg::SeqMeanTokenMean;
        c.loss.gkd_lambda = 1.0;
        c.train.grad_clip = 0.0;  // compare raw gradients
        if (m != Method::XOpd) c.loss.lambda = 0.5;
        std::vector<double> losses;
        std::vector<std::vector<torch::Tensor>> all;
        for (int64_t split : {1, 2, 3, 6}) {
            c.train.micro_batches = split;
            auto s = make(c);
            const auto out = s.trainer->step();
            QVERIFY(!out.nonfinite);
            losses.push_back(metric(out, "loss"));
            all.push_back(grads(*s.student));
        }
        QVERIFY2(std::abs(losses[0]) > 1e-6, "loss is zero: the case tests nothing");
        for (size_t i = 1; i < losses.size(); ++i) {
            QVERIFY2(std::abs(losses[i] - losses[0]) <= 1e-5 * std::abs(losses[0]) + 1e-7,
                     qPrintable(QString("split %1: loss %2 vs %3").arg(i).arg(losses[i], 0, 'g', 12).arg(losses[0], 0, 'g', 12)));
            for (size_t p = 0; p < all[0].size(); ++p) {
                const double scale = all[0][p].abs().max().item<double>();
                const double diff = (all[i][p] - all[0][p]).abs().max().item<double>();
                QVERIFY2(diff <= 1e-5 * scale + 1e-8, qPrintable(QString("param %1 grad differs by %2 (scale %3)").arg(p).arg(diff).arg(scale)));
            }
        }
    }

    void studentEqualsTeacherGivesZeroAdvantageAndGradient() {
        ToyPolicyOptions o;
        o.student_noise = 0.0;
        o.speech_distortion = 0.0;  // the student's speech path equals its text path
        auto s = make(smallConfig(), o);
        const auto out = s.trainer->step();
        QCOMPARE(metric(out, "loss"), 0.0);
        QCOMPARE(metric(out, "speech/adv_mean"), 0.0);
        QCOMPARE(metric(out, "text/adv_mean"), 0.0);
        QCOMPARE(metric(out, "grad_norm"), 0.0);
        QCOMPARE(metric(out, "modality_gap_mean"), 0.0);
        // ... while the perturbed default pair has a non-zero divergence (the check can fail).
        auto d = make(smallConfig());
        const auto out2 = d.trainer->step();
        QVERIFY(metric(out2, "speech/divergence") > 0.01);
        QVERIFY(metric(out2, "grad_norm") > 0.0);
    }

    void lambdaEndpointsUseOneStream() {
        for (double lambda : {0.0, 1.0, 0.5}) {
            auto c = smallConfig();
            c.loss.lambda = lambda;
            auto s = make(c);
            const auto out = s.trainer->step();
            const bool hasText = out.metrics.scalars.count("text/objective") > 0;
            const bool hasSpeech = out.metrics.scalars.count("speech/objective") > 0;
            QCOMPARE(hasText, lambda > 0);
            QCOMPARE(hasSpeech, lambda < 1);
            const double im = hasText ? metric(out, "text/objective") : 0.0;
            const double cm = hasSpeech ? metric(out, "speech/objective") : 0.0;
            const double expect = -(lambda * im + (1 - lambda) * cm);
            QVERIFY2(std::abs(metric(out, "loss") - expect) < 1e-6,
                     qPrintable(QString("λ=%1: loss %2, expected %3").arg(lambda).arg(metric(out, "loss")).arg(expect)));
        }
    }

    void xopdReducesDivergence() {
        // Mean divergence (text + speech) of the first and the last 5 of 30 steps. At the toy's lr
        // (1e-2, as in toyDistillConfig) it falls to 0.33-0.54x over seeds 0-9 and 42. Adam moves
        // every weight by about lr per step whatever the gradient's size, so lr 3e-2 overshoots on
        // this noisy single-sample estimator (the divergence rises after the first step) and then
        // only just reaches 0.8x in 30 steps.
        auto run = [](double reward_scale) {
            auto c = smallConfig();
            c.loss.reward_scale = reward_scale;
            auto s = make(c);
            double first = 0, last = 0;
            const int steps = 30;
            for (int i = 0; i < steps; ++i) {
                const auto out = s.trainer->step();
                const double d = metric(out, "speech/divergence") + metric(out, "text/divergence");
                if (i < 5) first += d / 5;
                if (i >= steps - 5) last += d / 5;
            }
            return std::make_pair(first, last);
        };
        const auto [first, last] = run(1.0);
        QVERIFY2(last < first * 0.8, qPrintable(QString("divergence %1 -> %2").arg(first).arg(last)));
        // Control: with the advantage's sign flipped (method.md §3.4 violated) the same run must
        // drive the divergence up, so the check above measures the objective, not drift.
        const auto [wrongFirst, wrongLast] = run(-1.0);
        QVERIFY2(wrongLast > wrongFirst, qPrintable(QString("flipped sign: divergence %1 -> %2").arg(wrongFirst).arg(wrongLast)));
    }

    void baselinesLearn_data() {
        QTest::addColumn<QString>("method");
        QTest::newRow("sft") << "sft";
        QTest::newRow("offline-kd") << "offline-kd";
        QTest::newRow("gkd reverse KL off-policy") << "gkd";
    }
    void baselinesLearn() {
        QFETCH(QString, method);
        const Method m = method == "sft" ? Method::Sft : method == "gkd" ? Method::Gkd : Method::OfflineKd;
        auto c = smallConfig(m);
        c.train.lr = 3e-2;
        if (m == Method::Gkd) {
            c.loss.divergence = Divergence::ReverseKl;
            c.loss.gkd_lambda = 0.0;  // always on the reference answers
        }
        // Few prompts, many steps: the same answers come back, so the loss must fall.
        auto s = make(c, {}, 6);
        double first = 0, last = 0;
        for (int i = 0; i < 25; ++i) {
            const auto out = s.trainer->step();
            QVERIFY(!out.nonfinite);
            if (i == 0) first = metric(out, "loss");
            last = metric(out, "loss");
        }
        QVERIFY2(last < 0.7 * first, qPrintable(QString("%1 loss %2 -> %3").arg(method).arg(first).arg(last)));
    }

    void saveAndLoadResumeIdentically() {
        auto c = smallConfig();
        c.loss.gkd_lambda = 0.5;
        auto a = make(c);
        std::vector<StepOutput> ref;
        for (int i = 0; i < 4; ++i) ref.push_back(a.trainer->step());

        auto b = make(c);
        b.trainer->step();
        b.trainer->setLambda(0.5);  // a no-op edit still round-trips
        b.trainer->step();
        QTemporaryDir dir;
        b.trainer->saveState(dir.path().toStdString());
        QVERIFY(QFile::exists(dir.filePath("model.safetensors")));
        QVERIFY(QFile::exists(dir.filePath("config.json")));
        QVERIFY(QFile::exists(dir.filePath("optimizer.pt")));

        auto r = make(c);
        r.trainer->loadState(dir.path().toStdString());
        QCOMPARE(r.trainer->completedSteps(), int64_t(2));
        for (int i = 2; i < 4; ++i) {
            const auto out = r.trainer->step();
            for (const char* k : {"loss", "grad_norm", "speech/adv_mean", "text/adv_mean", "speech/len_mean"})
                QVERIFY2(metric(out, k) == metric(ref[size_t(i)], k),
                         qPrintable(QString("step %1 %2: %3 vs %4").arg(i + 1).arg(k).arg(metric(out, k), 0, 'g', 17).arg(metric(ref[size_t(i)], k), 0, 'g', 17)));
            QCOMPARE(out.samples.front().prompt_id, ref[size_t(i)].samples.front().prompt_id);
        }
        const auto pa = a.student->trainableParameters(), pr = r.student->trainableParameters();
        for (size_t i = 0; i < pa.size(); ++i) QVERIFY(torch::equal(pa[i], pr[i]));
    }

    void loadStateRejectsAForeignFolder() {
        auto s = make(smallConfig());
        QTemporaryDir dir;
        try {
            s.trainer->loadState(dir.path().toStdString());
            QFAIL("expected an error");
        } catch (const xopd::Error& e) {
            QVERIFY2(QString(e.what()).contains("trainer_state.json"), e.what());
        }
    }


    void tokenRecordsAreConsistent() {
        auto s = make(smallConfig());
        const auto out = s.trainer->step();
        QVERIFY(!out.tokens.empty());
        for (const auto& b : out.tokens)
            for (const auto& t : b.tokens) {
                if (t.masked) continue;
                QVERIFY(std::abs(t.advantage - (t.teacher_logprob - t.student_logprob)) < 1e-5);
                QVERIFY(!t.student_topk.empty() && !t.teacher_topk.empty());
                QVERIFY(t.student_topk.front().second >= t.student_logprob - 1e-5);
                if (b.stream == "speech") QVERIFY(std::isfinite(t.student_other_logprob));
            }
    }
};

QTEST_APPLESS_MAIN(TestDistillTrainer)
#include "test_distill_trainer.moc"
