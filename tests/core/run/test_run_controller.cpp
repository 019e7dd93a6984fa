// RunController with the toy pair: pause takes effect at a step boundary, hot edits are applied
// between steps and recorded, stop checkpoints and resumes, cancel discards the folder, NaN pauses
// with the reason.
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/common/Tensors.h"
#include "core/common/TorchRuntime.h"
#include "core/distill/RunModels.h"
#include "core/distill/ToyPolicy.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunController.h"
#include "core/run/RunStore.h"
#include "tests/support/FailedStart.h"
#include "tests/support/TestHelpers.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

#include <fstream>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace xopd;
using namespace xopd::run;

namespace {

/// Records every event; lets a test wait for a condition.
class Recorder : public RunObserver {
public:
    void onStateChanged(RunState s, const std::string& reason) override {
        std::lock_guard<std::mutex> l(m);
        states.push_back(s);
        reasons.push_back(reason);
    }
    void onStep(const StepMetrics& metrics) override {
        std::lock_guard<std::mutex> l(m);
        steps.push_back(metrics);
    }
    void onTokens(const TokenDivergenceBatch&) override { ++tokenBatches; }
    void onCheckpoint(int64_t step, const std::string&) override {
        std::lock_guard<std::mutex> l(m);
        checkpoints.push_back(step);
    }
    size_t stepCount() {
        std::lock_guard<std::mutex> l(m);
        return steps.size();
    }
    std::mutex m;
    std::vector<RunState> states;
    std::vector<std::string> reasons;
    std::vector<StepMetrics> steps;
    std::vector<int64_t> checkpoints;
    std::atomic<int> tokenBatches{0};
};

template <class F>
bool waitFor(F&& cond, int timeout_ms = 60000) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < end) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return cond();
}

/// A student whose logits turn NaN from the `nan_after`-th scoring call on.
class NanPolicy : public distill::ToyPolicy {
public:
    NanPolicy(int nan_after) : ToyPolicy({}, true), nan_after_(nan_after) {}
    torch::Tensor responseLogits(const std::vector<distill::PromptItem>& p, const std::vector<int64_t>& i,
                                 distill::Stream s, const torch::Tensor& t, const torch::Tensor& m) override {
        auto out = ToyPolicy::responseLogits(p, i, s, t, m);
        if (++calls_ > nan_after_) out = out * std::nan("");
        return out;
    }

private:
    int nan_after_;
    int calls_ = 0;
};

}  // namespace

class TestRunController : public QObject {
    Q_OBJECT

private slots:
    void runsToTheEnd() {
        QTemporaryDir tmp;
        const std::string dir = tmp.filePath("run").toStdString();
        Recorder rec;
        RunOptions o;
        o.run_dir = dir;
        RunController c(test::toyRunConfig({6, 16, 10, 4, 2}), o);
        QVERIFY(QFile::exists(QString::fromStdString(dir + "/run.json")));
        c.addObserver(&rec);
        c.start();
        c.wait();
        QCOMPARE(c.state(), RunState::Finished);
        QCOMPARE(rec.steps.size(), size_t(6));
        QCOMPARE(rec.steps.back().step, int64_t(6));
        QVERIFY(rec.tokenBatches.load() >= 6);
        QCOMPARE(rec.checkpoints, (std::vector<int64_t>{4, 6}));
        QCOMPARE(QString::fromStdString(latestCheckpoint(dir)), QString::fromStdString(dir + "/checkpoints/step-000006"));
        RunReader r(dir);
        QCOMPARE(r.lastStep(), int64_t(6));
        QCOMPARE(QString::fromStdString(r.integrityCheck()), QString("ok"));
        const auto runs = RunReader::listRuns(tmp.path().toStdString());
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(QString::fromStdString(runs[0].state), QString("finished"));
        QCOMPARE(QString::fromStdString(runs[0].method), QString("x-opd"));
        QCOMPARE(runs[0].steps, int64_t(6));
        QVERIFY(std::isfinite(runs[0].last_loss));
    }

    void pauseHotEditResume() {
        QTemporaryDir tmp;
        const std::string dir = tmp.filePath("run").toStdString();
        Recorder rec;
        RunOptions o;
        o.run_dir = dir;
        RunController c(test::toyRunConfig({8, 16, 10, 4, 2}), o);
        c.addObserver(&rec);
        c.start();
        QVERIFY(waitFor([&] { return rec.stepCount() >= 2; }));
        c.pause();
        QVERIFY(waitFor([&] { return c.state() == RunState::Paused; }));
        const size_t atPause = rec.stepCount();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        QCOMPARE(rec.stepCount(), atPause);  // no step while paused
        c.setKnob("lambda", 0.25);
        c.setKnob("lr", 5e-3);
        QVERIFY_EXCEPTION_THROWN(c.setKnob("lambda", 2.0), xopd::Error);
        QVERIFY_EXCEPTION_THROWN(c.setKnob("beta", 0.1), xopd::Error);
        // Edits made while paused are applied (and recorded) before the next step.
        QVERIFY(waitFor([&] {
            RunReader r(dir);
            int knobs = 0;
            for (auto& e : r.eventsSince(0)) knobs += e.kind == "knob";
            return knobs == 2;
        }));
        c.resume();
        c.wait();
        QCOMPARE(c.state(), RunState::Finished);
        QCOMPARE(rec.steps.size(), size_t(8));
        for (size_t i = 0; i < rec.steps.size(); ++i) {
            const double lambda = rec.steps[i].scalars.at("lambda");
            QCOMPARE(lambda, i < atPause ? 0.5 : 0.25);
            if (i >= atPause) QCOMPARE(rec.steps[i].scalars.at("lr"), 5e-3);
        }
        bool sawPaused = false;
        for (auto s : rec.states) sawPaused |= s == RunState::Paused;
        QVERIFY(sawPaused);
        // The hot edits survive in the checkpoint: resuming would continue with λ = 0.25.
        const auto state = nlohmann::json::parse(readTextFile(latestCheckpoint(dir) + "/trainer_state.json"));
        QCOMPARE(state["lambda"].get<double>(), 0.25);
    }

    void stopCheckpointsAndResumes() {
        QTemporaryDir tmp;
        const std::string dir = tmp.filePath("run").toStdString();
        {
            Recorder rec;
            RunOptions o;
            o.run_dir = dir;
            auto cfg = test::toyRunConfig({40, 16, 10, 4, 2});
            cfg.train.checkpoint_every = 0;  // only the stop checkpoint
            RunController c(cfg, o);
            c.addObserver(&rec);
            c.start();
            QVERIFY(waitFor([&] { return rec.stepCount() >= 3; }));
            c.stop();
            c.wait();
            QCOMPARE(c.state(), RunState::Stopped);
            QVERIFY(c.completedSteps() >= 3 && c.completedSteps() < 40);
            QCOMPARE(rec.checkpoints.size(), size_t(1));
            QCOMPARE(rec.checkpoints.front(), c.completedSteps());
        }
        QVERIFY(!latestCheckpoint(dir).empty());
        RunOptions o;
        o.run_dir = dir;
        o.max_steps = 12;
        auto c = RunController::resume(o);
        Recorder rec;
        c->addObserver(&rec);
        c->start();
        c->wait();
        QCOMPARE(c->state(), RunState::Finished);
        QCOMPARE(c->completedSteps(), int64_t(12));
        RunReader r(dir);
        const auto steps = r.stepsSince(0);
        QCOMPARE(steps.size(), size_t(12));
        for (size_t i = 0; i < steps.size(); ++i) QCOMPARE(steps[i].step, int64_t(i + 1));
        // Creating a new run in a folder that holds one is refused.
        QVERIFY_EXCEPTION_THROWN(RunController(test::toyRunConfig({2, 16, 10, 4, 2}), o), xopd::Error);
    }

    // A corrupt optimizer.pt in the newest checkpoint falls back to the previous complete one with a
    // warning (issue 18.8); when none loads, the run fails naming the newest's problem.
    void aCorruptCheckpointFallsBackToThePreviousOne() {
        QTemporaryDir tmp;
        const std::string dir = tmp.filePath("run").toStdString();
        {
            RunOptions o;
            o.run_dir = dir;
            RunController c(test::toyRunConfig({8, 16, 10, 4, 2}), o);
            c.start();
            c.wait();
            QCOMPARE(c.state(), RunState::Finished);
        }
        QCOMPARE(listCheckpoints(dir).size(), size_t(2));  // steps 4 and 8
        const std::string bad = dir + "/checkpoints/step-000008/optimizer.pt";
        std::ofstream(bad, std::ios::trunc) << "not a torch archive";
        RunOptions o;
        o.run_dir = dir;
        o.max_steps = 10;
        {
            auto c = RunController::resume(o);
            c->start();
            c->wait();
            QVERIFY2(c->state() == RunState::Finished, c->lastReason().c_str());
            QCOMPARE(c->completedSteps(), int64_t(10));
            RunReader r(dir);
            QString resume;
            for (const auto& e : r.eventsSince(0))
                if (e.kind == "resume") resume = QString::fromStdString(e.message);
            QVERIFY2(resume.contains("step-000004") && resume.contains("cannot be loaded"), qPrintable(resume));
            QFile log(QString::fromStdString(dir + "/log.txt"));
            QVERIFY(log.open(QIODevice::ReadOnly));
            const QString text = QString::fromUtf8(log.readAll());
            QVERIFY2(text.contains("warning") && text.contains("step-000008"), qPrintable(text));
            const auto steps = r.stepsSince(0);
            QCOMPARE(steps.size(), size_t(10));
        }
        // Every checkpoint corrupt: the run fails with the reason, not a crash.
        for (const auto& cp : listCheckpoints(dir)) std::ofstream(cp + "/optimizer.pt", std::ios::trunc) << "x";
        o.max_steps = 12;
        auto c = RunController::resume(o);
        c->start();
        c->wait();
        QCOMPARE(c->state(), RunState::Failed);
        QVERIFY2(QString::fromStdString(c->lastReason()).contains("checkpoints can be loaded"), c->lastReason().c_str());
    }

    // train.device "cuda" without CUDA fails in one line that names the problem, not a C++
    // backtrace (issue 18.8).
    void cudaWithoutCudaIsOneClearLine() {
        if (xopd::cudaAvailable()) QSKIP("CUDA is available here");
        QTemporaryDir tmp;
        RunOptions o;
        o.run_dir = tmp.filePath("run").toStdString();
        for (const char* device : {"cuda", "cuda:1"}) {
            auto cfg = test::toyRunConfig({2, 16, 10, 4, 2});
            cfg.train.device = device;
            RunController c(cfg, o);
            c.start();
            c.wait();
            QCOMPARE(c.state(), RunState::Failed);
            const QString reason = QString::fromStdString(c.lastReason());
            QVERIFY2(reason.contains("train.device") && reason.contains("CUDA is not available in this build/machine"),
                     qPrintable(reason));
            QVERIFY2(!reason.contains('\n') && !reason.contains("Exception raised from"), qPrintable(reason));
        }
    }

    void cancelDiscardsTheFolder() {
        QTemporaryDir tmp;
        const std::string dir = tmp.filePath("run").toStdString();
        Recorder rec;
        RunOptions o;
        o.run_dir = dir;
        RunController c(test::toyRunConfig({200, 16, 10, 4, 2}), o);
        c.addObserver(&rec);
        c.start();
        QVERIFY(waitFor([&] { return rec.stepCount() >= 1; }));
        c.cancel();
        c.wait();
        QCOMPARE(c.state(), RunState::Cancelled);
        QVERIFY(!std::filesystem::exists(dir));
    }

    void nanPausesWithReason() {
        QTemporaryDir tmp;
        RunOptions o;
        o.run_dir = tmp.filePath("run").toStdString();
        o.factory = [](const distill::DistillConfig& c) {
            auto m = std::make_shared<distill::RunModels>();
            m->student = std::make_shared<NanPolicy>(8);
            m->teacher = std::make_shared<distill::ToyPolicy>(distill::ToyPolicyOptions{}, false);
            m->prompts = distill::toyPrompts(c.data.toy_prompts);
            return m;
        };
        Recorder rec;
        RunController c(test::toyRunConfig({20, 16, 10, 4, 2}), o);
        c.addObserver(&rec);
        c.start();
        QVERIFY(waitFor([&] { return c.state() == RunState::Paused; }));
        QVERIFY2(QString::fromStdString(c.lastReason()).contains("NaN"), c.lastReason().c_str());
        const int64_t done = c.completedSteps();
        c.stop();
        c.wait();
        QCOMPARE(c.state(), RunState::Stopped);
        RunReader r(o.run_dir);
        QCOMPARE(r.lastStep(), done);  // the NaN step was not recorded as a step
        bool sawNan = false;
        for (auto& e : r.eventsSince(0)) sawNan |= e.kind == "nan";
        QVERIFY(sawNan);
    }

    void failureIsReported() {
        QTemporaryDir tmp;
        RunOptions o;
        o.run_dir = tmp.filePath("run").toStdString();
        Recorder rec;
        RunController c(test::toyRunConfig({3, 16, 10, 4, 2}), test::withFailingModels(o));
        c.addObserver(&rec);
        c.start();
        c.wait();
        QCOMPARE(c.state(), RunState::Failed);
        QVERIFY(QString::fromStdString(c.lastReason()).contains("config.json is missing"));
    }

    // A run that fails while its models load is recorded as failed with the reason, and a corrected
    // run may take the folder, which holds no step (issue 18.8).
    void aRunThatFailedToStartIsRecordedAndReplaceable() {
        QTemporaryDir tmp;
        RunOptions o;
        o.run_dir = tmp.filePath("run").toStdString();
        QCOMPARE(test::runFailedStart(o.run_dir, {3, 16, 10, 4, 2}), RunState::Failed);
        const auto summary = RunReader::summarize(o.run_dir);
        QCOMPARE(QString::fromStdString(summary.state), QString("failed"));
        RunController fixed(test::toyRunConfig({2, 16, 10, 4, 2}), o);  // no "already holds a run"
        fixed.start();
        fixed.wait();
        QCOMPARE(fixed.state(), RunState::Finished);
        QCOMPARE(RunReader(o.run_dir).lastStep(), int64_t(2));
        // A folder with steps is still never replaced.
        QVERIFY_EXCEPTION_THROWN(RunController(test::toyRunConfig({2, 16, 10, 4, 2}), o), xopd::Error);
    }

    // Limits before allocations (issue 18.4): a run whose estimate exceeds this machine's memory is
    // refused with the numbers before its first rollout; a batch larger than the prompt set too.
    void runsThatCannotFitAreRefusedWithTheNumbers() {
        QTemporaryDir tmp;
        {
            RunOptions o;
            o.run_dir = tmp.filePath("huge").toStdString();
            RunController c(test::toyRunConfig({3, 16, int64_t(1e12), 4, 2}), o);  // 10^12 tokens per response
            c.start();
            c.wait();
            QCOMPARE(c.state(), RunState::Failed);
            const QString why = QString::fromStdString(c.lastReason());
            QVERIFY2(why.contains("GiB of memory") && why.contains("rollout.max_new_tokens 1000000000000"), qPrintable(why));
            QCOMPARE(RunReader(o.run_dir).lastStep(), int64_t(0));
        }
        {
            RunOptions o;
            o.run_dir = tmp.filePath("batch").toStdString();
            auto config = test::toyRunConfig({3, 16, 10, 4, 2});
            config.train.batch_size = 40;  // prompts per step, from a set of 16
            RunController c(config, o);
            c.start();
            c.wait();
            QCOMPARE(c.state(), RunState::Failed);
            const QString why = QString::fromStdString(c.lastReason());
            QVERIFY2(why.contains("train.batch_size") && why.contains("prompt set has 16"), qPrintable(why));
        }
    }

    // A run folder has one writer: a second controller (a second resume, here or in another
    // process) is refused with the folder and the holder's pid, until the first run has ended.
    void aRunFolderHasOneWriter() {
        QTemporaryDir tmp;
        RunOptions o;
        o.run_dir = tmp.filePath("run").toStdString();
        auto first = std::make_unique<RunController>(test::toyRunConfig({3, 16, 10, 4, 2}), o);
        QString refusal;
        try {
            RunController::resume(o);
        } catch (const xopd::Error& e) {
            refusal = e.what();
        }
        QVERIFY2(refusal.contains(QString::fromStdString(o.run_dir)) && refusal.contains("in use by process " + QString::number(::getpid())),
                 qPrintable(refusal));
        first->start();
        first->wait();
        QCOMPARE(first->state(), RunState::Finished);
        auto second = RunController::resume(o);  // the first run ended: its lock is released
        second.reset();
        first.reset();
        // A kill leaves the lock file behind, never the lock: a stale file does not block.
        QVERIFY(QFile::exists(QString::fromStdString(o.run_dir) + "/.lock"));
        QVERIFY(RunController::resume(o) != nullptr);
    }
};

QTEST_APPLESS_MAIN(TestRunController)
#include "test_run_controller.moc"
