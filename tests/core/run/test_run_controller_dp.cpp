// Two RunControllers as the two ranks of a data-parallel job (threads of this process; TCPStore +
// Gloo over 127.0.0.1), toy models: commands given to rank 0 — a hot edit, pause, resume, stop —
// reach rank 1 at the same step boundary (RankControl.h), and rank 1 writes nothing.
#include "core/dist/Group.h"
#include "core/distill/DistillConfig.h"
#include "core/run/RunController.h"
#include "core/run/RunStore.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

using namespace xopd;
using namespace xopd::run;

namespace {

class Recorder : public RunObserver {
public:
    void onStateChanged(RunState s, const std::string&) override {
        std::lock_guard<std::mutex> l(m);
        states.push_back(s);
    }
    void onStep(const StepMetrics& metrics) override {
        std::lock_guard<std::mutex> l(m);
        lambda[metrics.step] = metrics.scalars.at("lambda");
        loss[metrics.step] = metrics.scalars.at("loss");
    }
    int count(RunState s) {
        std::lock_guard<std::mutex> l(m);
        return int(std::count(states.begin(), states.end(), s));
    }
    std::mutex m;
    std::vector<RunState> states;
    std::map<int64_t, double> lambda, loss;
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

}  // namespace

class TestRunControllerDp : public QObject {
    Q_OBJECT

private slots:
    void commandsReachEveryRankAtTheSameStep() {
        QTemporaryDir tmp;
        const std::string dir = tmp.filePath("run").toStdString();
        auto config = distill::toyDistillConfig();
        config.train.max_steps = 100000;
        config.train.checkpoint_every = 0;
        const int port = test::freeLoopbackPort();
        std::shared_ptr<dist::Group> groups[2];
        std::thread joins[2];
        for (int r = 0; r < 2; ++r)
            joins[r] = std::thread([&, r] {
                dist::LaunchEnv e;
                e.launcher = dist::Launcher::Torchrun;
                e.rank = e.local_rank = r;
                e.world_size = 2;
                e.master_addr = "127.0.0.1";
                e.master_port = port;
                groups[r] = dist::Group::join(e, std::chrono::seconds(60));
            });
        for (auto& j : joins) j.join();
        QVERIFY(groups[0] && groups[1]);

        Recorder rec[2];
        std::unique_ptr<RunController> c[2];
        for (int r = 0; r < 2; ++r) {
            RunOptions o;
            o.run_dir = dir;
            o.group = groups[r];
            c[r] = std::make_unique<RunController>(config, o);
            c[r]->addObserver(&rec[r]);
        }
        for (auto& x : c) x->start();
        QVERIFY(waitFor([&] { return c[1]->completedSteps() >= 3; }));
        c[0]->setKnob("lambda", 0.25);
        c[0]->pause();
        QVERIFY2(waitFor([&] { return c[0]->state() == RunState::Paused && c[1]->state() == RunState::Paused; }),
                 qPrintable(QString("states %1 (%2), %3 (%4)")
                                .arg(runStateName(c[0]->state()), QString::fromStdString(c[0]->lastReason()),
                                     runStateName(c[1]->state()), QString::fromStdString(c[1]->lastReason()))));
        const int64_t pausedAt = c[0]->completedSteps();
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // rank 0 repeats the pause each second
        QCOMPARE(c[1]->completedSteps(), pausedAt);
        QCOMPARE(c[1]->state(), RunState::Paused);
        c[0]->resume();
        QVERIFY(waitFor([&] { return c[1]->completedSteps() >= pausedAt + 3; }));
        c[0]->stop();
        for (auto& x : c) x->wait();
        QCOMPARE(c[0]->state(), RunState::Stopped);
        QCOMPARE(c[1]->state(), RunState::Stopped);
        QCOMPARE(c[1]->completedSteps(), c[0]->completedSteps());
        QCOMPARE(rec[1].count(RunState::Paused), 1);

        // The hot edit took effect on both ranks before the same step.
        for (int r = 0; r < 2; ++r) {
            std::lock_guard<std::mutex> l(rec[r].m);
            int64_t first = -1;
            for (const auto& [step, lam] : rec[r].lambda)
                if (lam == 0.25 && first < 0) first = step;
            QVERIFY2(first > 0 && first <= pausedAt + 1, qPrintable(QString("rank %1: lambda 0.25 from step %2").arg(r).arg(first)));
            QCOMPARE(rec[r].lambda.at(first - 1), distill::toyDistillConfig().loss.lambda);
        }
        QCOMPARE(rec[1].lambda, rec[0].lambda);
        QCOMPARE(rec[1].loss, rec[0].loss);  // reduced metrics: the same numbers on every rank

        // Rank 0 alone wrote: the store has each step once, and the pause and knob events once.
        RunReader reader(dir);
        QCOMPARE(reader.lastStep(), c[0]->completedSteps());
        QCOMPARE(int64_t(reader.stepsSince(0).size()), c[0]->completedSteps());
        int knobs = 0;
        for (const auto& e : reader.eventsSince(0)) knobs += e.kind == "knob";
        QCOMPARE(knobs, 1);
    }
};

QTEST_APPLESS_MAIN(TestRunControllerDp)
#include "test_run_controller_dp.moc"
