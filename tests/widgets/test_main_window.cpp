// The workbench main window, end to end and offscreen: a real toy distillation run started from
// the window (core RunController on its worker thread, toy teacher and student), its charts
// filling, pause / resume / stop through the monitor's actions, the token view, the run history
// (QAbstractItemModelTester), resume and fork from the history, chart export (PNG, SVG, CSV);
// the Ask screen's worker-thread generation; the set-up screen's method defaults; the generated
// F2 key reference (every action has a shortcut and a status tip, no two window-wide actions share
// a key); docks saved and restored through QSettings and Ctrl+Z undo; the dark palette; a missing
// demo kit reported in a banner that names `xopd demo-kit build`. Waits use QSignalSpy::wait /
// QTRY_*; nothing asserts a duration.
#include "tests/support/FakeKit.h"
#include "tests/support/WidgetTestHelpers.h"
#include "core/audio/AudioFile.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunFork.h"
#include "core/run/RunStore.h"
#include "widgets/charts/MetricChart.h"
#include "widgets/charts/MetricStore.h"
#include "widgets/common/Theme.h"
#include "widgets/ab/AbListeningWidget.h"
#include "widgets/main/AskWidget.h"
#include "widgets/main/KeyReference.h"
#include "widgets/main/KeyReferenceDialog.h"
#include "widgets/main/MainWindow.h"
#include "widgets/main/RunConfigDiff.h"
#include "widgets/main/RunHistoryModel.h"
#include "widgets/main/RunHistoryWidget.h"
#include "widgets/main/RunSetupWidget.h"
#include "widgets/main/UserMessage.h"
#include "widgets/prompts/PromptLibraryModel.h"
#include "widgets/run/RunMonitorWidget.h"
#include "widgets/tokens/TokenStore.h"
#include "widgets/tokens/TokenView.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStyle>
#include <QTemporaryDir>
#include <QToolBar>
#include <QtTest/QtTest>

#include <cmath>
#include <exception>
#include <memory>

using namespace xopd;
using namespace xopd::widgets;

namespace {

/// A window on a fresh workspace with no demo kit (toy models), saved layout ignored.
std::unique_ptr<MainWindow> makeWindow(const QString& workspace, bool restore = false) {
    return test::makeTestWindow(workspace, {}, true, restore);
}

}  // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QApplication::setOrganizationName("xopd-tests");
        QApplication::setApplicationName("test_main_window");
        QSettings().clear();
    }

    void missingDemoKitIsExplained() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        QVERIFY(!w->demoKitProblem().isEmpty());
        QVERIFY2(w->demoKitProblem().contains("no-demo-kit-here"), qPrintable(w->demoKitProblem()));
        auto* banner = w->findChild<QToolBar*>("banner");
        QVERIFY(banner && banner->isVisible());
        bool named = false;
        for (auto* l : banner->findChildren<QLabel*>()) named = named || l->text().contains("xopd demo-kit build");
        QVERIFY(named);
        QCOMPARE(w->setupScreen()->source(), RunSetupWidget::Source::Toy);
    }

    void opensOnTheDemoKit() {
        // A kit folder with the parts openDemoKit checks and a two-clip prompt set.
        QTemporaryDir ws;
        QDir kit(ws.filePath("kit"));
        test::writeFakeKit(kit.absolutePath(),
              "{\"id\":\"q1\",\"audio\":\"audio/q.wav\",\"transcript\":\"what is one plus one\",\"reference\":\"two\",\"split\":\"train\"}\n"
              "{\"id\":\"q2\",\"audio\":\"audio/q.wav\",\"transcript\":\"what is two plus two\",\"reference\":\"four\",\"split\":\"train\"}\n",
              "{\"id\":\"q3\",\"audio\":\"audio/q.wav\",\"transcript\":\"what is one plus two\",\"reference\":\"three\",\"split\":\"eval\"}\n",
              {{"audio/q.wav", test::sineClip(127.3, 8000, 0.3f)}});
        WorkbenchOptions o;
        o.workspace = ws.filePath("workspace");
        o.demoKit = kit.absolutePath();
        o.restoreLayout = false;
        MainWindow w(o);
        QSignalSpy kitLoaded(&w, &MainWindow::demoKitLoaded);
        w.show();
        QVERIFY2(w.demoKitProblem().isEmpty(), qPrintable(w.demoKitProblem()));
        QVERIFY(!w.findChild<QToolBar*>("banner")->isVisible());
        QVERIFY(kitLoaded.count() > 0 || kitLoaded.wait(30000));  // prompts are read off the GUI thread
        QCOMPARE(w.promptLibrary()->rowCount(), 3);
        QCOMPARE(w.setupScreen()->source(), RunSetupWidget::Source::DemoKit);
        const auto c = w.setupScreen()->config();
        QCOMPARE(c.student.kind, distill::ModelSourceKind::Demo);
        QCOMPARE(QString::fromStdString(c.student.path), kit.absolutePath());
        QCOMPARE(w.listeningScreen()->candidateNames().size(), 2);
        QVERIFY(QDir(w.runsFolder()).exists());
    }

    void keyReferenceIsGeneratedFromTheActions() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        const auto groups = w->keyGroups();
        QVERIFY(groups.size() >= 8);
        QMap<QString, QString> windowKeys;  // key -> action, for window-wide shortcuts
        int count = 0;
        for (const auto& g : groups)
            for (QAction* a : g.actions) {
                ++count;
                QVERIFY2(!a->shortcut().isEmpty(), qPrintable(g.title + ": " + a->text() + " has no shortcut"));
                QVERIFY2(!a->statusTip().isEmpty(), qPrintable(g.title + ": " + a->text() + " has no status tip"));
                if (a->shortcutContext() == Qt::WindowShortcut || a->shortcutContext() == Qt::ApplicationShortcut) {
                    const QString k = a->shortcut().toString();
                    QVERIFY2(!windowKeys.contains(k) || windowKeys[k] == a->text(),
                             qPrintable(k + " is bound to both " + windowKeys[k] + " and " + a->text()));
                    windowKeys[k] = a->text();
                }
            }
        QVERIFY(count >= 40);
        auto* dlg = w->keyReference();
        dlg->show();
        const QString html = dlg->html();
        for (QAction* a : actionsWithShortcuts(groups)) {
            QVERIFY2(html.contains(plainActionText(a->text()).toHtmlEscaped()), qPrintable(a->text()));
            QVERIFY2(html.contains(a->shortcut().toString(QKeySequence::NativeText).toHtmlEscaped()), qPrintable(a->text()));
        }
        // An action added later appears on the next refresh (generated, not hand-written).
        auto* extra = new QAction("Brand-new command", w->monitor());
        extra->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_F12));
        QVERIFY(!keyReferenceHtml({{"x", {extra}}}).isEmpty());
        QVERIFY(keyReferenceHtml({{"x", {extra}}}).contains("Brand-new command"));
        QCOMPARE(plainActionText("&Export chart as &PNG…"), QString("Export chart as PNG"));
    }

    void docksAreSavedRestoredAndUndone() {
        QTemporaryDir ws;
        QSettings().clear();
        {
            auto w = makeWindow(ws.path());
            QDockWidget* log = w->dock(MainWindow::Screen::Log);
            QCOMPARE(w->dockWidgetArea(log), Qt::BottomDockWidgetArea);
            w->addDockWidget(Qt::LeftDockWidgetArea, log);
            QTRY_COMPARE(w->dockWidgetArea(log), Qt::LeftDockWidgetArea);
            QTest::qWait(50);  // the layout change is recorded from the event loop
            // Undo puts it back; redo the move and close: the state is saved.
            QAction* undo = nullptr;
            for (const auto& g : w->keyGroups())
                for (QAction* a : g.actions)
                    if (a->shortcut() == QKeySequence(QKeySequence::Undo)) undo = a;
            QVERIFY(undo && undo->isEnabled());
            undo->trigger();
            QCOMPARE(w->dockWidgetArea(log), Qt::BottomDockWidgetArea);
            w->addDockWidget(Qt::RightDockWidgetArea, log);
            w->close();
        }
        auto w2 = makeWindow(ws.path(), /*restore=*/true);
        QCOMPARE(w2->dockWidgetArea(w2->dock(MainWindow::Screen::Log)), Qt::RightDockWidgetArea);
        QSettings().remove("window/state");
    }

    void darkPaletteAndBack() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        w->setDarkTheme(true);
        QCOMPARE(currentTheme(), ThemeKind::Dark);
        QVERIFY(QApplication::palette().color(QPalette::Window).lightness() < 100);
        QCOMPARE(QApplication::style()->name().toLower(), QString("fusion"));
        w->setDarkTheme(false);
        QVERIFY(QApplication::palette().color(QPalette::Window).lightness() > 150);
    }

    void setupScreenUsesTheMethodDefaults() {
        RunSetupWidget s;
        s.setSource(RunSetupWidget::Source::Folders);
        s.setSize(RunSetupWidget::Size::Paper);
        s.setMethod(distill::Method::XOpd);
        auto c = s.config();
        QCOMPARE(c.loss.lambda, 0.5);
        QCOMPARE(c.train.lr, 2e-6);
        QCOMPARE(c.rollout.rollouts_per_prompt, int64_t(4));
        QCOMPARE(c.loss.divergence, distill::Divergence::SampledK1);
        s.setMethod(distill::Method::Gkd);
        c = s.config();
        QCOMPARE(c.loss.method, distill::Method::Gkd);
        QCOMPARE(c.loss.divergence, distill::Divergence::ForwardKl);
        QCOMPARE(c.loss.lambda, distill::defaultDistillConfig(distill::Method::Gkd).loss.lambda);
        QVERIFY(s.estimateText().contains("GiB"));
        // A folder that is not a model: the report names it.
        s.setFolders("/nonexistent/teacher-folder", "/nonexistent/student-folder");
        QSignalSpy spy(&s, &RunSetupWidget::reportChanged);
        s.inspect();
        QVERIFY(spy.wait(30000));
        QVERIFY2(s.reportText().contains("/nonexistent/teacher-folder"), qPrintable(s.reportText()));
        QVERIFY(s.reportText().contains("error"));
    }

    void askRunsOnAWorkerThread() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        AskWidget* ask = w->askScreen();
        QSignalSpy loaded(ask, &AskWidget::modelsLoaded);
        QSignalSpy failed(ask, &AskWidget::failed);
        w->showScreen(MainWindow::Screen::Ask);  // showing the screen loads the models
        QVERIFY(loaded.count() > 0 || loaded.wait(60000));
        QCOMPARE(failed.count(), 0);
        QVERIFY(ask->promptCount() > 0);
        ask->choosePrompt(0);
        QVERIFY(!ask->transcript().isEmpty());
        QSignalSpy answered(ask, &AskWidget::answered);
        QVERIFY(ask->ask());
        QVERIFY(ask->busy());  // the GUI thread returned before the answer
        QVERIFY(answered.wait(60000));
        const auto& a = ask->lastAnswer();
        QVERIFY(!a.speech.tokens.empty());
        QCOMPARE(a.speech.stream, std::string("speech"));
        QCOMPARE(a.text.stream, std::string("text"));
        for (const auto& t : a.speech.tokens)
            if (!t.masked) QCOMPARE(t.advantage, t.teacher_logprob - t.student_logprob);
        QCOMPARE(ask->tokens()->steps().size(), size_t(1));
        QVERIFY(!ask->tokenView()->shownBatches().empty());
        // An empty transcript is refused with a message.
        ask->setTranscript("   ");
        QVERIFY(!ask->ask());
    }

    void configComparisonShowsTheDifferences() {
        QTemporaryDir ws;
        auto write = [&](const QString& name, const QByteArray& json) {
            QDir().mkpath(ws.filePath(name));
            QFile f(ws.filePath(name + "/run.json"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(json);
        };
        write("a", R"({"run_id":"a","config":{"loss":{"lambda":0.5,"method":"x-opd"},"train":{"lr":2e-6,"lora_targets":["q_proj"]}}})");
        write("b", R"({"run_id":"b","config":{"loss":{"lambda":0.3,"method":"x-opd"},"train":{"lr":2e-6,"lora_targets":["q_proj","v_proj"]}}})");
        const QStringList dirs{ws.filePath("a"), ws.filePath("b")};
        const auto all = configDiff(dirs, false);
        QCOMPARE(int(all.size()), 4);
        const auto diff = configDiff(dirs, true);
        QCOMPARE(int(diff.size()), 2);
        QCOMPARE(diff[0].key, QString("loss.lambda"));
        QCOMPARE(diff[0].values, (QStringList{"0.5", "0.3"}));
        QCOMPARE(diff[1].key, QString("train.lora_targets"));
        RunCompareDialog dlg({"a", "b"}, dirs);
        QCOMPARE(dlg.shownRows(), 2);
        dlg.setDiffOnly(false);
        QCOMPARE(dlg.shownRows(), 4);
        // A folder without run.json is named.
        try {
            configDiff({ws.filePath("a"), ws.filePath("missing")}, true);
            QFAIL("no error for a folder without run.json");
        } catch (const std::exception& e) {
            QVERIFY2(QString(e.what()).contains("missing/run.json"), e.what());
        }
    }

    void torchBacktracesAreCutFromMessages() {
        QCOMPARE(userMessage("probability tensor contains nan\nException raised from multinomial_out at x.cpp:594\nframe #0: foo"),
                 QString("probability tensor contains nan"));
        QCOMPARE(userMessage("  'a.wav': no such file \n"), QString("'a.wav': no such file"));
    }

    void askErrorsNameTheFile() {
        AskWidget ask(nullptr);
        auto c = distill::defaultDistillConfig(distill::Method::XOpd);
        c.student.kind = c.teacher.kind = distill::ModelSourceKind::Hf;
        c.student.path = "/nonexistent/student";
        c.teacher.path = "/nonexistent/teacher";
        c.data.manifest = "/nonexistent/prompts.jsonl";
        ask.setModelConfig(c, "two folders");
        QSignalSpy failed(&ask, &AskWidget::failed);
        ask.setTranscript("what is one plus one");
        QVERIFY(ask.ask());
        QVERIFY(failed.wait(30000));
        // No audio was chosen: the student has nothing to hear.
        QVERIFY2(failed.front().front().toString().contains("audio"), qPrintable(failed.front().front().toString()));
        QTRY_VERIFY(!ask.busy());
        // A missing clip is named (checked before any model is loaded).
        session::AskService service(c);
        session::AskRequest q;
        q.prompt.transcript = "what is one plus one";
        q.prompt.audio_path = "/nonexistent/clip.wav";
        try {
            service.ask(q);
            QFAIL("ask() accepted a missing audio file");
        } catch (const std::exception& e) {
            QVERIFY2(QString(e.what()).contains("/nonexistent/clip.wav"), e.what());
        }
    }

    void endToEndToyRunFromTheWindow() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        RunSetupWidget* setup = w->setupScreen();
        setup->setSource(RunSetupWidget::Source::Toy);
        setup->setMaxSteps(400);
        RunMonitorWidget* mon = w->monitor();
        mon->setRedrawInterval(20);
        w->showScreen(MainWindow::Screen::Monitor);

        // Start: there is no run yet, so the monitor's Start asks the window for a new one.
        mon->startAction()->trigger();
        QVERIFY2(mon->run() != nullptr, qPrintable(w->lastError()));
        const QString id = mon->runId();
        const QString dir = QString::fromStdString(mon->run()->runDir());
        QVERIFY(dir.startsWith(w->runsFolder()));
        QVERIFY(QFile::exists(dir + "/run.json"));
        QVERIFY(test::waitForRunState(mon, RunState::Running));

        // The charts fill.
        QTRY_VERIFY_WITH_TIMEOUT(w->metrics()->lastStep(id) >= 3, 120000);
        mon->redrawNow();
        QVERIFY(!mon->charts().isEmpty());
        int points = 0;
        for (auto* c : mon->charts())
            for (const auto& k : c->group().keys) points += c->pointCount(id, k);
        QVERIFY(points > 0);
        QVERIFY(mon->progressText().contains("/400"));

        // A second run is refused while this one is live (replacing it would block the GUI).
        QVERIFY(!w->startNewRun());
        QVERIFY(w->lastError().contains("still"));
        QCOMPARE(mon->runId(), id);

        // Pause: no further steps while paused.
        mon->pauseAction()->trigger();
        QVERIFY(test::waitForRunState(mon, RunState::Paused));
        QCOMPARE(mon->badgeText(), QString("paused"));
        const double pausedAt = w->metrics()->lastStep(id);
        QTest::qWait(300);
        QCOMPARE(w->metrics()->lastStep(id), pausedAt);
        QVERIFY(!mon->pauseAction()->isEnabled());
        QVERIFY(mon->resumeAction()->isEnabled());

        // Hot edit while paused: λ of the next steps is the edited one; a bad value is refused.
        QVERIFY(mon->bridge()->setKnob("lambda", 0.25));
        QVERIFY(!mon->bridge()->setKnob("lambda", 7.0));

        // Resume: steps continue, with the edited λ.
        mon->resumeAction()->trigger();
        QVERIFY(test::waitForRunState(mon, RunState::Running));
        QTRY_VERIFY_WITH_TIMEOUT(w->metrics()->lastStep(id) > pausedAt, 60000);
        const MetricSeries* lambda = w->metrics()->series(id, "lambda");
        QVERIFY(lambda && !lambda->value.empty());
        QCOMPARE(lambda->value.back(), 0.25);
        QCOMPARE(lambda->value.front(), 0.5);

        // Stop: checkpoint kept, run resumable.
        mon->stopAction()->trigger();
        QVERIFY(test::waitForRunState(mon, RunState::Stopped));
        QCOMPARE(mon->badgeText(), QString("stopped"));
        QVERIFY(!run::latestCheckpoint(dir.toStdString()).empty());

        // The token view shows the run's tokens, speech and text rows.
        w->showScreen(MainWindow::Screen::Tokens);
        QVERIFY(w->dock(MainWindow::Screen::Tokens)->isVisible());
        QVERIFY(!w->tokens()->steps().empty());
        w->tokenView()->showStep(w->tokens()->steps().back());
        const auto shown = w->tokenView()->shownBatches();
        QVERIFY(!shown.empty());
        bool speech = false, text = false;
        for (const auto& b : shown) {
            speech = speech || b.stream == "speech";
            text = text || b.stream == "text";
        }
        QVERIFY2(speech && text, "the token view must show both the speech and the text row");

        // History: the run is listed; the model passes the tester.
        QVERIFY(test::refreshAndWait(*w->historyModel()).finished);
        QAbstractItemModelTester tester(w->historyModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        const int row = w->historyModel()->rowOf(id);
        QVERIFY(row >= 0);
        QCOMPARE(w->historyModel()->row(row).state, QString("stopped"));
        QVERIFY(w->historyModel()->row(row).steps >= 3);
        QCOMPARE(w->historyModel()->row(row).method, QString("x-opd"));

        // Export a chart as PNG, SVG and CSV; a bad extension is refused naming the file.
        const QString title = mon->charts().front()->group().title;
        QVERIFY(w->exportChart(title, ws.filePath("chart.png")));
        QImage img(ws.filePath("chart.png"));
        QCOMPARE(img.size(), QSize(1200, 600));
        QCOMPARE(img.pixelColor(2, 2), QColor(Qt::white));
        QVERIFY(w->exportChart(title, ws.filePath("chart.svg")));
        QFile svg(ws.filePath("chart.svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        QVERIFY(svg.readAll().contains("<svg"));
        QVERIFY(w->exportChart(title, ws.filePath("chart.csv")));
        QVERIFY(QFileInfo(ws.filePath("chart.csv")).size() > 20);
        QVERIFY(!w->exportChart(title, ws.filePath("chart.bmpx")));
        QVERIFY(w->lastError().contains("chart.bmpx"));

        // Resume from the history: same run id, continues after the checkpoint.
        const double stoppedAt = w->metrics()->lastStep(id);
        QVERIFY(w->resumeRun(dir));
        QCOMPARE(mon->runId(), id);
        QVERIFY(test::waitForRunState(mon, RunState::Running));
        QTRY_VERIFY_WITH_TIMEOUT(w->metrics()->lastStep(id) > stoppedAt, 60000);
        mon->stopAction()->trigger();
        QVERIFY(test::waitForRunState(mon, RunState::Stopped));

        // Fork from the first checkpoint: a new run that records its parent.
        const auto steps = run::checkpointSteps(dir.toStdString());
        QVERIFY(!steps.empty());
        const QString child = w->forkRun(dir, steps.front());
        QVERIFY2(!child.isEmpty(), qPrintable(w->lastError()));
        QVERIFY(test::waitForRunState(mon, RunState::Running));
        mon->stopAction()->trigger();
        QVERIFY(test::waitForRunState(mon, RunState::Stopped));
        QVERIFY(test::refreshAndWait(*w->historyModel()).finished);
        const int crow = w->historyModel()->rowOf(QFileInfo(child).fileName());
        QVERIFY(crow >= 0);
        QVERIFY2(w->historyModel()->row(crow).parent.startsWith(id + "@"), qPrintable(w->historyModel()->row(crow).parent));
        QVERIFY(w->forkRun(dir, 999999).isEmpty());
        // The fork has its parent's configuration: nothing differs, everything is listed.
        QVERIFY(configDiff({dir, child}, true).empty());
        QVERIFY(configDiff({dir, child}, false).size() > 20);
        QVERIFY(w->lastError().contains("no checkpoint at step 999999"));

        // Overlay both runs: each keeps its colour on the charts.
        QSignalSpy overlaid(w.get(), &MainWindow::runsOverlaid);
        w->overlayRuns({id, QFileInfo(child).fileName()}, {dir, child});
        QVERIFY(overlaid.count() > 0 || overlaid.wait(30000));  // the child's steps are read off the GUI thread
        QCOMPARE(overlaid.last().at(0).toStringList(), (QStringList{id, QFileInfo(child).fileName()}));
        mon->redrawNow();
        int childPoints = 0;
        for (auto* c : mon->charts())
            for (const auto& k : c->group().keys) childPoints += c->pointCount(QFileInfo(child).fileName(), k);
        QVERIFY(childPoints > 0);

        // Open the finished run folder as a headless run's would be: metrics and tokens come from disk.
        w->metrics()->clear();
        w->tokens()->clear();
        QSignalSpy opened(w.get(), &MainWindow::runFolderLoaded);
        QVERIFY(w->openRunFolder(dir));
        // The folder is read on a worker thread: nothing is in the stores until the event loop
        // delivers the read.
        QCOMPARE(w->metrics()->lastStep(id), 0.0);
        QVERIFY(w->pendingRunReads() > 0);
        QVERIFY(opened.wait(30000));
        QCOMPARE(opened.at(0).at(1).toBool(), true);
        QVERIFY(w->metrics()->lastStep(id) >= 3);
        QVERIFY(!w->tokens()->steps().empty());
    }

    void simulatedRunsNeedNoModels() {
        QTemporaryDir ws;
        WorkbenchOptions o;
        o.workspace = ws.path();
        o.demoKit = ws.filePath("none");
        o.restoreLayout = false;
        o.simulate = true;
        MainWindow w(o);
        w.show();
        w.setupScreen()->setMaxSteps(10000);
        QVERIFY(w.startNewRun());
        const QString id = w.monitor()->runId();
        QVERIFY(test::waitForRunState(w.monitor(), RunState::Running));
        QTRY_VERIFY_WITH_TIMEOUT(w.metrics()->lastStep(id) >= 2, 30000);
        w.monitor()->stopAction()->trigger();
        QVERIFY(test::waitForRunState(w.monitor(), RunState::Stopped));
        // Simulated runs write no folder.
        QVERIFY(!QFileInfo::exists(QString::fromStdString(w.monitor()->run()->runDir()) + "/run.json"));
        // A second run joins the first on the charts (issue 17 point 6): both stay shown, each line
        // named by its run, and "Fit charts" keeps them.
        QTest::qWait(1100);  // run folders are named by the second
        QVERIFY(w.startNewRun());
        const QString second = w.monitor()->runId();
        QVERIFY(second != id);
        QCOMPARE(w.monitor()->shownRuns(), (QStringList{id, second}));
        QVERIFY(test::waitForRunState(w.monitor(), RunState::Running));
        QTRY_VERIFY_WITH_TIMEOUT(w.metrics()->lastStep(second) >= 2, 30000);
        w.monitor()->stopAction()->trigger();
        QVERIFY(test::waitForRunState(w.monitor(), RunState::Stopped));
        for (QAction* a : w.monitor()->screenActions())
            if (a->text() == "&Fit charts") a->trigger();
        MetricChart* loss = nullptr;
        for (auto* c : w.monitor()->charts())
            if (c->group().title == "loss") loss = c;
        QVERIFY(loss);
        QVERIFY(loss->pointCount(id, "loss") >= 2);
        QVERIFY(loss->pointCount(second, "loss") >= 2);
        QCOMPARE(loss->lineName(id, "loss"), id);
    }

    void openRunFolderErrorsNameTheFolder() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        QVERIFY(!w->openRunFolder(ws.filePath("not-a-run")));
        QVERIFY2(w->lastError().contains("not-a-run"), qPrintable(w->lastError()));
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
