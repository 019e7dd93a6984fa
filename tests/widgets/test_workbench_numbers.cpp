// Issue 17, point 5 (numbers that are right), offscreen, with the built-in toy models: the monitor's
// hot-edit fields show the values in force (the run's config, then each applied edit, also after a
// resume); the run comparison includes hot edits; the set-up screen's step time is calibrated on a
// run's first measured steps; changing Source keeps max steps; Start with a missing model refuses
// before a run folder exists; a run that fails while loading its models shows "failed" in the
// history; the token view shows one sample number. Waits use QSignalSpy / QTRY_*; no timings.
#include "tests/support/FakeKit.h"
#include "tests/support/WidgetTestHelpers.h"
#include "core/audio/AudioFile.h"
#include "core/distill/Knobs.h"
#include "widgets/main/MainWindow.h"
#include "widgets/main/RunConfigDiff.h"
#include "widgets/main/RunHistoryModel.h"
#include "widgets/main/RunSetupWidget.h"
#include "widgets/run/RunMonitorWidget.h"
#include "widgets/tokens/TokenStore.h"
#include "widgets/tokens/TokenView.h"

#include <QApplication>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QGroupBox>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <memory>

using namespace xopd;
using namespace xopd::widgets;

namespace {

std::unique_ptr<MainWindow> makeWindow(const QString& workspace, const QString& kit = {}) {
    return test::makeTestWindow(workspace, kit);
}

/// The monitor's hot-edit spin boxes (λ, lr, temperature) and its Apply button.
struct HotEdits {
    QList<QDoubleSpinBox*> fields;
    QPushButton* apply = nullptr;
};
HotEdits hotEdits(RunMonitorWidget* m) {
    HotEdits h;
    for (auto* box : m->findChildren<QGroupBox*>())
        if (box->title().startsWith("Hot edits")) {
            h.fields = box->findChildren<QDoubleSpinBox*>();
            for (auto* b : box->findChildren<QPushButton*>())
                if (b->text() == "Apply") h.apply = b;
        }
    return h;
}

TokenDivergenceBatch batch(int64_t step, const std::string& stream, int sampleIndex) {
    TokenDivergenceBatch b;
    b.step = step;
    b.stream = stream;
    b.sample_index = sampleIndex;
    TokenRecord t;
    t.token_id = 3;
    t.text = " two";
    t.teacher_logprob = -0.5;
    t.student_logprob = -1.0;
    t.advantage = 0.5;
    b.tokens = {t};
    return b;
}

}  // namespace

class TestWorkbenchNumbers : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QApplication::setOrganizationName("xopd-tests");
        QApplication::setApplicationName("test_workbench_numbers");
        QSettings().clear();
    }

    void hotEditFieldsShowTheValuesInForce() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        RunSetupWidget* setup = w->setupScreen();
        QCOMPARE(setup->source(), RunSetupWidget::Source::Toy);
        setup->setMaxSteps(100000);  // it runs until stopped
        const auto cfg = setup->config();
        QVERIFY(std::abs(cfg.train.lr - distill::knob("lr").defaultValue()) > 1e-9);  // not the preset's lr
        QVERIFY(w->startNewRun());
        RunMonitorWidget* m = w->monitor();
        // From the start: the run's own values, not the knob table's presets.
        QCOMPARE(m->knobFieldValue("lr"), cfg.train.lr);
        QCOMPARE(m->knobFieldValue("lambda"), cfg.loss.lambda);
        QCOMPARE(m->knobFieldValue("temperature"), cfg.rollout.temperature);
        QVERIFY(test::waitForRunState(m, RunState::Running));
        m->pauseAction()->trigger();
        QVERIFY(test::waitForRunState(m, RunState::Paused));
        QCOMPARE(m->knobFieldValue("lr"), cfg.train.lr);
        // Apply λ 0.8 and lr 5e-3; pause again: the fields show what was applied.
        HotEdits h = hotEdits(m);
        QCOMPARE(h.fields.size(), 3);
        QVERIFY(h.apply);
        h.fields[0]->setValue(0.8);
        h.fields[1]->setValue(5e-3);
        h.apply->click();
        m->resumeAction()->trigger();
        QVERIFY(test::waitForRunState(m, RunState::Running));
        m->pauseAction()->trigger();
        QVERIFY(test::waitForRunState(m, RunState::Paused));
        QCOMPARE(m->knobFieldValue("lambda"), 0.8);
        QCOMPARE(m->knobFieldValue("lr"), 5e-3);
        // Stop and resume the run: still the edited values (run.json + its knob events).
        const QString id = m->runId();
        const QString dir = QDir(w->runsFolder()).filePath(id);
        m->stopAction()->trigger();
        QVERIFY(test::waitForRunState(m, RunState::Stopped));
        // The comparison shows them too.
        const auto flat = flattenRunConfig(dir);
        QVERIFY2(flat.at("loss.lambda").startsWith("0.8 (hot edit"), qPrintable(flat.at("loss.lambda")));
        QVERIFY2(flat.at("train.lr").startsWith("0.005 (hot edit"), qPrintable(flat.at("train.lr")));
        QVERIFY(w->resumeRun(dir));
        QCOMPARE(m->knobFieldValue("lambda"), 0.8);
        QCOMPARE(m->knobFieldValue("lr"), 5e-3);
        QVERIFY(test::waitForRunState(m, RunState::Running));
        // The first measured steps calibrate the set-up screen's step time for these models.
        QTRY_VERIFY_WITH_TIMEOUT(setup->estimateText().contains("measured:"), 60000);
        m->stopAction()->trigger();
        QVERIFY(test::waitForRunState(m, RunState::Stopped));
    }

    void sourceChangeKeepsMaxSteps() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        RunSetupWidget* setup = w->setupScreen();
        setup->setMaxSteps(123);
        setup->setSource(RunSetupWidget::Source::Folders);
        QCOMPARE(setup->config().train.max_steps, int64_t(123));
        setup->setSource(RunSetupWidget::Source::Toy);
        QCOMPARE(setup->config().train.max_steps, int64_t(123));
        // The run-size preset is an explicit choice: it still sets them.
        setup->setSource(RunSetupWidget::Source::Folders);
        setup->setSize(RunSetupWidget::Size::Paper);
        setup->setSize(RunSetupWidget::Size::CpuDemo);
        QCOMPARE(setup->config().train.max_steps, int64_t(40));
    }

    void stepTimeIsUnknownBeforeItCanBeKnown() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        RunSetupWidget* setup = w->setupScreen();
        setup->setSource(RunSetupWidget::Source::Folders);
        setup->setFolders(ws.filePath("t"), ws.filePath("s"), ws.filePath("p.jsonl"));
        QVERIFY2(setup->estimateText().contains("time: unknown"), qPrintable(setup->estimateText()));
        QVERIFY2(!setup->estimateText().contains("≈ 0 s"), qPrintable(setup->estimateText()));
    }

    void startWithAMissingModelRefusesBeforeMakingARunFolder() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        RunSetupWidget* setup = w->setupScreen();
        setup->setSource(RunSetupWidget::Source::Folders);
        setup->setFolders("/nonexistent/teacher-folder", "/nonexistent/student-folder", "/nonexistent/prompts.jsonl");
        QVERIFY(!w->startNewRun());
        QVERIFY2(w->lastError().contains("/nonexistent/"), qPrintable(w->lastError()));
        QCOMPARE(QDir(w->runsFolder()).entryList(QDir::Dirs | QDir::NoDotAndDotDot), QStringList());
    }

    void aRunThatFailsShowsFailed() {
        // A kit whose parts are there but whose weights are not: the run starts and fails loading.
        QTemporaryDir ws;
        QDir kit(ws.filePath("kit"));
        test::writeFakeKit(kit.absolutePath(),
                           "{\"id\":\"q1\",\"audio\":\"audio/q.wav\",\"transcript\":\"hi\",\"split\":\"train\"}\n",
                           "{\"id\":\"q2\",\"audio\":\"audio/q.wav\",\"transcript\":\"hi\",\"split\":\"eval\"}\n",
                           {{"audio/q.wav", test::sineClip(200, 1600, 0.1f)}});
        auto w = makeWindow(ws.filePath("workspace"), kit.absolutePath());
        QCOMPARE(w->setupScreen()->source(), RunSetupWidget::Source::DemoKit);
        QVERIFY(w->startNewRun());
        QVERIFY(test::waitForRunState(w->monitor(), RunState::Failed));
        const QString id = w->monitor()->runId();
        RunHistoryModel* h = w->historyModel();
        QTRY_VERIFY_WITH_TIMEOUT(h->rowOf(id) >= 0 && !h->refreshing() && h->row(h->rowOf(id)).state == "failed", 30000);
        QCOMPARE(h->data(h->index(h->rowOf(id), RunHistoryModel::Status)).toString(), QString("failed"));
    }

    void theTokenViewShowsOneSampleNumber() {
        TokenStore store;
        TokenView view(&store);
        // Two samples per stream at step 1, their own sample indices not 0 and 1.
        store.add(batch(1, "speech", 3));
        store.add(batch(1, "speech", 5));
        store.add(batch(1, "text", 4));
        store.add(batch(1, "text", 6));
        view.showStep(1);
        QCOMPARE(view.sampleText(), QString("sample 1 of 2"));
        auto* box = view.findChild<QSpinBox*>();
        QVERIFY(box);
        box->setValue(2);
        QCOMPARE(view.sampleText(), QString("sample 2 of 2"));
        view.lockToken(0, 0);
        QVERIFY2(view.detailHtml().contains("sample 2 "), qPrintable(view.detailHtml()));
    }
};

QTEST_MAIN(TestWorkbenchNumbers)
#include "test_workbench_numbers.moc"
