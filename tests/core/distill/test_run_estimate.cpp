// The set-up screen's run estimate (issue 17.5): an unknown teacher size is reported unknown, not
// the student's; the step time is "unknown" rather than ≈0 s before the sizes are known; and steps
// a run measured calibrate the estimate of runs with the same models on the same device (scaled
// by sampled tokens per step), but not of other models or devices. Reference values are worked by
// hand from the documented formula (tokens per step = prompts · m · streams · max_new_tokens / 2).
#include "core/distill/DistillConfig.h"
#include "core/distill/RunEstimate.h"

#include <QtTest/QtTest>

#include <cmath>

using namespace xopd::distill;

namespace {
DistillConfig demoConfig() {
    DistillConfig c = defaultDistillConfig(Method::XOpd);
    c.student.kind = c.teacher.kind = ModelSourceKind::Demo;
    c.student.path = c.teacher.path = "/kits/demo";
    c.train.device = "cpu";
    c.train.batch_size = 8;
    c.rollout.rollouts_per_prompt = 2;
    c.rollout.max_new_tokens = 32;
    c.loss.lambda = 0.5;  // both streams
    return c;
}
}  // namespace

class TestRunEstimate : public QObject {
    Q_OBJECT
private slots:
    void theTeachersCountIsTheTeachers() {
        const auto c = demoConfig();
        const auto e = estimateRun(c, 123456789, 0);
        const std::string text = e.text;
        QVERIFY2(text.find("student 123456789 parameters, teacher ? parameters") != std::string::npos, text.c_str());
        const auto both = estimateRun(c, 123456789, 2000);
        QVERIFY2(both.text.find("teacher 2000 parameters") != std::string::npos, both.text.c_str());
    }

    void stepTimeIsUnknownUntilItCanBeKnown() {
        const auto c = demoConfig();
        const auto e = estimateRun(c, 0, 0);
        QVERIFY(std::isnan(e.step_seconds));
        QVERIFY2(e.text.find("time: unknown") != std::string::npos, e.text.c_str());
        QVERIFY2(e.text.find("≈ 0 s") == std::string::npos, e.text.c_str());
        // Sizes known: the rough figure.
        const auto rough = estimateRun(c, 1000000, 1000000);
        QVERIFY(rough.step_seconds > 0);
        QVERIFY(!rough.step_time_measured);
    }

    void measuredStepsCalibrateTheSameModels() {
        const auto c = demoConfig();
        // 8 prompts · m 2 · 2 streams · 32 tokens / 2 = 512 sampled tokens per step.
        QCOMPARE(estimateRun(c, 0, 0).tokens_per_step, 512.0);
        // Median of 0.30, 0.24, 0.25 = 0.25 s (a first step's warm-up does not drag it).
        const auto cal = calibrateStepTime(c, {0.30, 0.24, 0.25, std::nan("")}, "run r1");
        QCOMPARE(cal.steps, int64_t(3));
        QCOMPARE(cal.seconds_per_token, 0.25 / 512.0);
        const auto same = estimateRun(c, 0, 0, {}, cal);
        QVERIFY(same.step_time_measured);
        QCOMPARE(same.step_seconds, 0.25);
        QVERIFY2(same.text.find("measured: 3 step(s) of run r1") != std::string::npos, same.text.c_str());
        // Twice the batch: twice the tokens, twice the time.
        auto bigger = c;
        bigger.train.batch_size = 16;
        QCOMPARE(estimateRun(bigger, 0, 0, {}, cal).step_seconds, 0.5);
        // Other models, or another device: not calibrated by it.
        auto other = c;
        other.student.path = other.teacher.path = "/kits/other";
        QVERIFY(!estimateRun(other, 0, 0, {}, cal).step_time_measured);
        auto gpu = c;
        gpu.train.device = "cuda";
        QVERIFY(!estimateRun(gpu, 0, 0, {}, cal).step_time_measured);
        // Nothing measured: no calibration.
        QCOMPARE(calibrateStepTime(c, {std::nan(""), 0.0}, "run r2").steps, int64_t(0));
    }
};

QTEST_APPLESS_MAIN(TestRunEstimate)
#include "test_run_estimate.moc"
