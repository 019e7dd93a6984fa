// RunBridge + ScriptedRunControl: every worker event reaches the GUI thread as a typed signal, in
// order, none lost (also under a burst that outruns the event loop); commands pause, resume, stop
// and cancel at step boundaries; hot knob edits apply to the next step; bad commands come back as
// commandFailed. Signals are watched with QSignalSpy; nothing is timed.
#include "widgets/run/LogPanel.h"
#include "widgets/run/RunBridge.h"
#include "widgets/run/ScriptedRunControl.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QSignalSpy>
#include <QThread>
#include <QtTest/QtTest>

#include <thread>

using namespace xopd;
using namespace xopd::widgets;

namespace {
ScriptedRunOptions quickRun(int64_t steps, int interval_ms = 2) {
    ScriptedRunOptions o;
    o.maxSteps = steps;
    o.stepInterval_ms = interval_ms;
    o.samplesPerStep = 2;
    o.tokensPerSample = 6;
    o.nanAtStep = 0;
    o.runDir = "/tmp/scripted-run";
    return o;
}

/// Everything the bridge emitted, in arrival order, with the thread it arrived on.
struct Journal {
    QStringList kinds;
    std::vector<int64_t> steps, tokenSteps, checkpoints;
    std::vector<RunState> states;
    QStringList reasons, logs;
    bool allOnGuiThread = true;
    void attach(RunBridge& b, QObject* ctx) {
        auto gui = [this] {
            if (QThread::currentThread() != qApp->thread()) allOnGuiThread = false;
        };
        QObject::connect(&b, &RunBridge::stateChanged, ctx, [=](RunState s, const QString& r) {
            gui();
            kinds << QString("state:%1").arg(runStateName(s));
            states.push_back(s);
            reasons << r;
        });
        QObject::connect(&b, &RunBridge::stepReceived, ctx, [=](const StepMetrics& m) {
            gui();
            kinds << "step";
            steps.push_back(m.step);
        });
        QObject::connect(&b, &RunBridge::tokensReceived, ctx, [=](const TokenDivergenceBatch& t) {
            gui();
            kinds << "tokens";
            tokenSteps.push_back(t.step);
        });
        QObject::connect(&b, &RunBridge::logReceived, ctx, [=](LogLevel, const QString& m) {
            gui();
            kinds << "log";
            logs << m;
        });
        QObject::connect(&b, &RunBridge::checkpointSaved, ctx, [=](qint64 s, const QString&) {
            gui();
            kinds << "checkpoint";
            checkpoints.push_back(s);
        });
        QObject::connect(&b, &RunBridge::planChanged, ctx, [=](qint64) {
            gui();
            kinds << "plan";
        });
    }
};
}  // namespace

class TestRunBridge : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { registerRunMetaTypes(); }

    void wholeRunArrivesOnTheGuiThreadInOrder() {
        ScriptedRunControl run(quickRun(20));
        RunBridge bridge;
        Journal j;
        j.attach(bridge, this);
        QSignalSpy steps(&bridge, &RunBridge::stepReceived);
        QSignalSpy tokens(&bridge, &RunBridge::tokensReceived);
        QSignalSpy states(&bridge, &RunBridge::stateChanged);
        QSignalSpy plan(&bridge, &RunBridge::planChanged);
        QSignalSpy failed(&bridge, &RunBridge::commandFailed);
        // eventsQueued is the only signal emitted on the worker thread.
        std::atomic<int> queuedOnWorker{0}, queuedOnGui{0};
        connect(&bridge, &RunBridge::eventsQueued, this, [&] {
            (QThread::currentThread() == qApp->thread() ? queuedOnGui : queuedOnWorker)++;
        }, Qt::DirectConnection);
        bridge.attach(&run);
        QCOMPARE(bridge.state(), RunState::Idle);
        bridge.start();
        QTRY_COMPARE_WITH_TIMEOUT(bridge.state(), RunState::Finished, 30000);
        run.wait();
        QCoreApplication::processEvents();

        QVERIFY(j.allOnGuiThread);
        QVERIFY(queuedOnWorker > 0);
        QCOMPARE(queuedOnGui.load(), 0);
        QCOMPARE(failed.count(), 0);
        // None lost, in order.
        QCOMPARE(steps.count(), 20);
        std::vector<int64_t> want;
        for (int64_t s = 1; s <= 20; ++s) want.push_back(s);
        QCOMPARE(j.steps, want);
        QCOMPARE(tokens.count(), 20 * 2 * 2);  // two streams × two samples per step
        QVERIFY(std::is_sorted(j.tokenSteps.begin(), j.tokenSteps.end()));
        QCOMPARE(j.checkpoints, (std::vector<int64_t>{10, 20}));
        QCOMPARE(plan.count(), 1);
        QCOMPARE(plan.at(0).at(0).toLongLong(), 20);
        QCOMPARE(j.states, (std::vector<RunState>{RunState::Running, RunState::Finished}));
        QCOMPARE(j.reasons.last(), QString("reached max steps"));
        QCOMPARE(j.logs.size(), 4);  // started, checkpoints at 10 and 20, the grad_norm spike at 17
        // Sequence: state first, then the plan; each step's token batches follow that step.
        QCOMPARE(j.kinds.first(), QString("state:running"));
        QCOMPARE(j.kinds.at(1), QString("plan"));
        QCOMPARE(j.kinds.last(), QString("state:finished"));
        int lastStep = 0;
        int tokensSinceStep = 0;
        for (const QString& k : j.kinds) {
            if (k == "step") {
                QVERIFY(lastStep == 0 || tokensSinceStep == 4);
                ++lastStep;
                tokensSinceStep = 0;
            } else if (k == "tokens") {
                QVERIFY(lastStep > 0);
                ++tokensSinceStep;
            }
        }
        QCOMPARE(bridge.drainedEvents(), quint64(j.kinds.size()));
        QCOMPARE(states.count(), 2);
    }

    void burstIsBufferedNotLost() {
        // A producer thread that outruns the GUI: 20000 events while the event loop does not run.
        RunBridge bridge;
        QSignalSpy queued(&bridge, &RunBridge::eventsQueued);
        std::vector<int64_t> got;
        connect(&bridge, &RunBridge::stepReceived, this, [&](const StepMetrics& m) { got.push_back(m.step); });
        std::thread producer([&] {
            for (int64_t s = 1; s <= 20000; ++s) {
                StepMetrics m;
                m.step = s;
                m.scalars["loss"] = double(s);
                bridge.onStep(m);
            }
        });
        producer.join();
        QCOMPARE(got.size(), size_t(0));  // nothing is delivered on the worker
        QTRY_COMPARE(got.size(), size_t(20000));
        for (size_t i = 0; i < got.size(); ++i) QCOMPARE(got[i], int64_t(i + 1));
        // One wake-up for the whole burst: the buffer went from empty to non-empty once.
        QCOMPARE(queued.count(), 1);
        QCOMPARE(bridge.largestDrain(), 20000);
        QCOMPARE(bridge.drainedEvents(), quint64(20000));
    }

    void pauseResumeKnobsAndStop() {
        ScriptedRunControl run(quickRun(100000, 5));
        RunBridge bridge;
        Journal j;
        j.attach(bridge, this);
        QSignalSpy failed(&bridge, &RunBridge::commandFailed);
        QSignalSpy checkpoints(&bridge, &RunBridge::checkpointSaved);
        StepMetrics last;
        connect(&bridge, &RunBridge::stepReceived, this, [&](const StepMetrics& m) { last = m; });
        bridge.attach(&run);
        bridge.start();
        QTRY_VERIFY_WITH_TIMEOUT(j.steps.size() >= 3, 30000);

        bridge.pause();
        QTRY_COMPARE_WITH_TIMEOUT(bridge.state(), RunState::Paused, 30000);
        QCoreApplication::processEvents();
        const size_t atPause = j.steps.size();
        // Paused between steps: while the GUI keeps running, no step arrives.
        for (int i = 0; i < 10; ++i) {
            QTest::qWait(20);
            QCOMPARE(j.steps.size(), atPause);
        }
        // Hot edits while paused apply to the next step.
        QVERIFY(bridge.setKnob("lambda", 0.25));
        QVERIFY(bridge.setKnob("lr", 1e-4));
        QCOMPARE(run.knob("lambda"), 0.25);
        QCOMPARE(failed.count(), 0);
        QVERIFY(!bridge.setKnob("lambda", 3.0));  // out of range: reported, not thrown
        QVERIFY(!bridge.setKnob("warp", 1.0));    // unknown knob
        QCOMPARE(failed.count(), 2);
        QVERIFY(failed.at(0).at(0).toString().contains("lambda"));
        QVERIFY(failed.at(1).at(0).toString().contains("warp"));
        QCOMPARE(run.knob("lambda"), 0.25);

        bridge.resume();
        QTRY_VERIFY_WITH_TIMEOUT(j.steps.size() >= atPause + 2, 30000);
        QCOMPARE(last.scalars.at("lambda"), 0.25);
        QCOMPARE(last.scalars.at("lr"), 1e-4);
        QVERIFY(std::find(j.states.begin(), j.states.end(), RunState::Paused) != j.states.end());
        QCOMPARE(j.states.back(), RunState::Running);  // "resumed"

        const int cpBefore = checkpoints.count();
        bridge.stop();
        QTRY_COMPARE_WITH_TIMEOUT(bridge.state(), RunState::Stopped, 30000);
        run.wait();
        QCoreApplication::processEvents();
        // Stop checkpoints the last completed step (a step that ended meanwhile may add its own).
        QVERIFY(checkpoints.count() >= cpBefore + 1);
        QCOMPARE(checkpoints.last().at(0).toLongLong(), qint64(j.steps.back()));
        // The steps are contiguous through the pause.
        for (size_t i = 0; i < j.steps.size(); ++i) QCOMPARE(j.steps[i], int64_t(i + 1));
        QVERIFY(j.allOnGuiThread);
    }

    void cancelAndFailure() {
        {
            ScriptedRunControl run(quickRun(100000, 5));
            RunBridge bridge;
            bridge.attach(&run);
            QSignalSpy states(&bridge, &RunBridge::stateChanged);
            bridge.start();
            QTRY_COMPARE_WITH_TIMEOUT(bridge.state(), RunState::Running, 30000);
            bridge.cancel();
            QTRY_COMPARE_WITH_TIMEOUT(bridge.state(), RunState::Cancelled, 30000);
            QCOMPARE(states.last().at(1).toString(), QString("cancelled by the user"));
        }
        {
            auto o = quickRun(50);
            o.failAtStep = 4;
            ScriptedRunControl run(o);
            RunBridge bridge;
            bridge.attach(&run);
            QSignalSpy steps(&bridge, &RunBridge::stepReceived);
            QSignalSpy states(&bridge, &RunBridge::stateChanged);
            bridge.start();
            QTRY_COMPARE_WITH_TIMEOUT(bridge.state(), RunState::Failed, 30000);
            QCOMPARE(steps.count(), 3);
            QVERIFY(states.last().at(1).toString().contains("step 4"));
        }
    }

    void commandsWithoutARunAndDetach() {
        RunBridge bridge;
        QSignalSpy failed(&bridge, &RunBridge::commandFailed);
        bridge.start();
        bridge.pause();
        QVERIFY(!bridge.setKnob("lambda", 0.1));
        QCOMPARE(failed.count(), 3);
        QVERIFY(failed.at(0).at(0).toString().contains("no run is open"));

        // After detach, the run's events no longer reach the bridge.
        ScriptedRunControl run(quickRun(100000, 5));
        QSignalSpy steps(&bridge, &RunBridge::stepReceived);
        bridge.attach(&run);
        bridge.start();
        QTRY_VERIFY_WITH_TIMEOUT(steps.count() >= 2, 30000);
        bridge.detach();
        QCoreApplication::processEvents();
        const int n = steps.count();
        QTest::qWait(100);
        QCOMPARE(steps.count(), n);
        QVERIFY(bridge.control() == nullptr);
        run.cancel();
        run.wait();
    }

    void logPanelFiltersAndPauses() {
        LogPanel panel;
        panel.append(LogLevel::Debug, "debug line");
        panel.append(LogLevel::Info, "step 10: checkpoint");
        panel.append(LogLevel::Warning, "grad_norm spike at step 17");
        panel.append(LogLevel::Error, "simulated failure");
        QCOMPARE(panel.totalLines(), 4);
        QCOMPARE(panel.shownLines(), 3);  // Info and above by default
        auto* level = panel.findChild<QComboBox*>();
        auto* filter = panel.findChild<QLineEdit*>();
        auto* pause = panel.findChild<QCheckBox*>();
        QVERIFY(level && filter && pause);
        pause->setChecked(true);  // paused: lines are kept, not shown
        panel.append(LogLevel::Info, "while paused");
        QCOMPARE(panel.totalLines(), 5);
        QCOMPARE(panel.shownLines(), 3);
        pause->setChecked(false);
        QCOMPARE(panel.shownLines(), 4);
        filter->setText("STEP");  // case-insensitive text filter
        QCOMPARE(panel.shownLines(), 2);
        filter->clear();
        level->setCurrentIndex(level->count() - 1);  // the highest minimum level
        QCOMPARE(panel.shownLines(), 1);
    }
};

QTEST_MAIN(TestRunBridge)
#include "test_run_bridge.moc"
