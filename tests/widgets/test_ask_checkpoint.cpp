// The Ask screen answers with a run's checkpoint. The test builds a quick demo kit and trains its
// student for one X-OPD step with the CLI (a real trainer checkpoint in Hugging Face format), then:
// choosing the checkpoint in the student picker loads that folder as the student (the description
// names it) and the same question, seed and prompt score the student's tokens differently from the
// base student (the weights really changed); a toy run's checkpoint is refused with a reason; and
// the main window offers the workspace's real-model runs (not toy ones) once its run history has
// been read.
#include "widgets/main/AskWidget.h"
#include "widgets/main/MainWindow.h"
#include "widgets/main/WorkbenchOptions.h"

#include "core/distill/DistillConfig.h"
#include "tests/support/TestSupport.h"

#include <QDir>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <vector>

using namespace xopd;
using namespace xopd::widgets;

namespace {
std::vector<float> studentLogprobs(const session::AskAnswer& a) {
    std::vector<float> out;
    for (const auto& t : a.speech.tokens) out.push_back(t.student_logprob);
    return out;
}
}  // namespace

class TestAskCheckpoint : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    QString kit_, demoRun_, toyRun_;

    distill::DistillConfig kitConfig() const {
        auto c = distill::demoDistillConfig();
        c.student = {distill::ModelSourceKind::Demo, kit_.toStdString()};
        c.teacher = {distill::ModelSourceKind::Demo, kit_.toStdString()};
        return c;
    }

    /// Asks the first model-set prompt with a fixed seed and returns the answer.
    static bool askFirst(AskWidget& ask, session::AskAnswer& out) {
        QSignalSpy answered(&ask, &AskWidget::answered);
        ask.choosePrompt(0);
        if (!ask.ask() || !answered.wait(120000)) return false;
        out = ask.lastAnswer();
        return true;
    }

private slots:
    void initTestCase() {
        QVERIFY(tmp_.isValid());
        kit_ = tmp_.filePath("kit");
        // A quick kit (seconds): barely trained models, but real Hugging Face folders.
        auto r = xopd::test::runCli({"demo-kit", "build", "--out", kit_, "--tower-steps", "1", "--student-steps", "1", "--teacher-steps", "1", "--large-teacher-steps", "1",
                                     "--probe-clips", "1",
                                     "--bpe-merges", "20", "--no-target-check", "--train-voices", "en", "--eval-voices", "en-us"},
                                    300000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        // Runs read the kit from XOPD_DEMO_KIT (their run.json names the default kit); so does Ask.
        qputenv("XOPD_DEMO_KIT", kit_.toUtf8());
        demoRun_ = tmp_.filePath("ws/runs/demo-run");
        r = xopd::test::runProgram(xopd::test::cliPath(), {"distill", "--demo", "--run-dir", demoRun_, "--max-steps", "1"},
                                   300000, {"XOPD_DEMO_KIT=" + kit_});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        toyRun_ = tmp_.filePath("ws/runs/toy-run");
        r = xopd::test::runCli({"distill", "--toy", "--run-dir", toyRun_, "--max-steps", "1"}, 300000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(QFileInfo(demoRun_ + "/checkpoints/step-000001/config.json").isFile());
    }

    void choosingACheckpointLoadsIt() {
        AskWidget ask(nullptr);
        QSignalSpy loaded(&ask, &AskWidget::modelsLoaded);
        QSignalSpy failed(&ask, &AskWidget::failed);
        ask.setModelConfig(kitConfig(), "demo kit");
        QCOMPARE(ask.studentChoiceCount(), 1);  // the base student only
        ask.loadModels();
        QVERIFY(loaded.wait(120000));
        QCOMPARE(failed.count(), 0);
        const QString baseDescription = loaded.last().at(0).toString();
        QVERIFY2(baseDescription.contains("student: student"), qPrintable(baseDescription));  // the kit's folder
        QVERIFY(ask.promptCount() > 0);
        session::AskAnswer base;
        QVERIFY(askFirst(ask, base));
        QVERIFY(!base.speech.tokens.empty());

        const QString ckpt = QDir(demoRun_).filePath("checkpoints/step-000001");
        ask.setRunCheckpoints({{"run demo-run · step-000001", demoRun_, ckpt}});
        QCOMPARE(ask.studentChoiceCount(), 2);
        QCOMPARE(ask.studentChoiceText(1), QString("run demo-run · step-000001"));
        QCOMPARE(ask.studentChoice(), 0);  // offering a checkpoint does not switch to it
        ask.chooseStudent(1);
        QVERIFY(!ask.hasModels());  // the base student's models were dropped
        ask.loadModels();
        QVERIFY(loaded.wait(120000));
        QCOMPARE(failed.count(), 0);
        const QString ckptDescription = loaded.last().at(0).toString();
        QVERIFY2(ckptDescription.contains("student: step-000001"), qPrintable(ckptDescription));
        QVERIFY2(ckptDescription.contains("teacher: teacher"), qPrintable(ckptDescription));  // the run's teacher
        session::AskAnswer trained;
        QVERIFY(askFirst(ask, trained));
        QVERIFY(!trained.speech.tokens.empty());
        // Same prompt, seed and teacher: the student's scores differ, so its weights are the checkpoint's.
        QVERIFY2(studentLogprobs(trained) != studentLogprobs(base), "the checkpoint scored exactly like the base student");
        QCOMPARE(trained.teacher_answer, base.teacher_answer);

        // Back to the base student: its scores again.
        ask.chooseStudent(0);
        ask.loadModels();
        QVERIFY(loaded.wait(120000));
        session::AskAnswer again;
        QVERIFY(askFirst(ask, again));
        QCOMPARE(studentLogprobs(again), studentLogprobs(base));

        // A list without the chosen checkpoint falls back to the base student.
        ask.chooseStudent(1);
        ask.setRunCheckpoints({});
        QCOMPARE(ask.studentChoice(), 0);
        QCOMPARE(ask.studentChoiceCount(), 1);
    }

    void toyCheckpointsAreRefusedWithAReason() {
        AskWidget ask(nullptr);
        QSignalSpy failed(&ask, &AskWidget::failed);
        ask.setModelConfig(kitConfig(), "demo kit");
        ask.setRunCheckpoints({{"run toy-run · step-000001", toyRun_, QDir(toyRun_).filePath("checkpoints/step-000001")}});
        ask.chooseStudent(1);
        QVERIFY(failed.wait(30000));
        QVERIFY2(failed.at(0).at(0).toString().contains("toy"), qPrintable(failed.at(0).at(0).toString()));
        // Asking says the same, instead of "no models chosen".
        failed.clear();
        ask.loadModels();
        QVERIFY(failed.wait(30000));
        QVERIFY2(failed.at(0).at(0).toString().contains("toy"), qPrintable(failed.at(0).at(0).toString()));
    }

    void mainWindowOffersTheWorkspacesRuns() {
        WorkbenchOptions o;
        o.workspace = tmp_.filePath("ws");
        o.demoKit = kit_;
        o.restoreLayout = false;
        MainWindow w(o);
        // The run history is read on a worker thread; the picker fills when it arrives.
        QTRY_COMPARE_WITH_TIMEOUT(w.askScreen()->studentChoiceCount(), 2, 30000);
        QCOMPARE(w.askScreen()->studentChoiceText(1), QString("run demo-run · step-000001"));  // no toy run
    }
};

QTEST_MAIN(TestAskCheckpoint)
#include "test_ask_checkpoint.moc"
