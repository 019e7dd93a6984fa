// The window first (issue 16): a window opened without a demo kit shows the banner with a Build
// button and serves the toy models; the kit build (`xopd demo-kit build` in a child process,
// XOPD_CLI) runs with a progress bar; the
// toy models answer while it runs; Cancel stops it and leaves no kit (and no temporary folder);
// a build that completes is taken in without a restart: the kit's prompts fill the library, the
// set-up screen switches to the kit, and the Ask screen loads the kit's models. The completed build
// is a quick one (one voice per split, one training step per stage: seconds); the cancelled one
// has the full kit's 34 voices, so it is surely still running when Cancel is pressed.
#include "core/distill/DistillConfig.h"
#include "widgets/main/AskWidget.h"
#include "widgets/main/DemoKitBanner.h"
#include "widgets/main/MainWindow.h"
#include "widgets/main/RunSetupWidget.h"
#include "widgets/prompts/PromptLibraryModel.h"

#include <QApplication>
#include <QDir>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QToolBar>
#include <QtTest/QtTest>

#include <memory>

using namespace xopd;
using namespace xopd::widgets;

namespace {

/// A window on `ws` whose kit folder (ws/kit) is missing.
std::unique_ptr<MainWindow> windowWithoutKit(const QTemporaryDir& ws, const QStringList& buildArgs) {
    WorkbenchOptions o;
    o.workspace = ws.filePath("workspace");
    o.demoKit = ws.filePath("kit");
    o.restoreLayout = false;
    o.demoKitBuildArgs = buildArgs;
    auto w = std::make_unique<MainWindow>(o);
    w->show();
    return w;
}

/// One voice per split and one step per stage: seconds.
const QStringList kQuickBuild{"--train-voices", "en", "--eval-voices", "en-us", "--bpe-merges", "20", "--teacher-steps", "1",
                              "--tower-steps", "1", "--student-steps", "1", "--large-teacher-steps", "1", "--probe-clips", "1",
                              "--no-target-check"};

QPushButton* button(MainWindow& w, const char* name) { return w.demoKitBanner()->findChild<QPushButton*>(name); }

/// Folders in `root` (the kit and its temporary build folders would be here).
QStringList foldersIn(const QString& root) { return QDir(root).entryList(QDir::Dirs | QDir::NoDotAndDotDot); }

}  // namespace

class TestDemoKitBuild : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QApplication::setOrganizationName("xopd-tests");
        QApplication::setApplicationName("test_demo_kit_build");
        QSettings().clear();
    }

    void cancelStopsTheBuildAndLeavesNoKit() {
        QTemporaryDir ws;
        auto w = windowWithoutKit(ws, {});  // the full kit: minutes
        auto* banner = w->findChild<QToolBar*>("banner");
        QVERIFY(banner && banner->isVisible());
        QVERIFY(button(*w, "demoKitBuild")->isVisible());
        QVERIFY(!button(*w, "demoKitCancel")->isVisible());
        QCOMPARE(w->setupScreen()->source(), RunSetupWidget::Source::Toy);

        QTest::mouseClick(button(*w, "demoKitBuild"), Qt::LeftButton);
        QVERIFY(w->demoKitBuilding());
        QVERIFY(button(*w, "demoKitCancel")->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(w->demoKitBanner()->progressPermille() > 0, 60000);  // clips are being spoken

        // The toy models serve meanwhile: the Ask screen answers with them.
        AskWidget* ask = w->askScreen();
        QSignalSpy answered(ask, &AskWidget::answered);
        ask->choosePrompt(0);
        QVERIFY(ask->ask());
        QVERIFY(answered.wait(120000));
        QVERIFY(!ask->studentAnswer().isEmpty() || !ask->teacherAnswer().isEmpty());
        QVERIFY(w->demoKitBuilding());

        QSignalSpy ended(w.get(), &MainWindow::demoKitBuildEnded);
        QTest::mouseClick(button(*w, "demoKitCancel"), Qt::LeftButton);
        QVERIFY(ended.count() > 0 || ended.wait(60000));
        QCOMPARE(ended.at(0).at(0).toBool(), false);
        QVERIFY(!w->demoKitBuilding());
        QCOMPARE(foldersIn(ws.path()), QStringList{"workspace"});  // no kit, no kit.tmp-<pid>
        QVERIFY(button(*w, "demoKitBuild")->isVisible());
        QVERIFY(!w->demoKitProblem().isEmpty());
        QCOMPARE(w->setupScreen()->source(), RunSetupWidget::Source::Toy);
    }

    void aBuiltKitIsTakenInWithoutARestart() {
        QTemporaryDir ws;
        auto w = windowWithoutKit(ws, kQuickBuild);
        QCOMPARE(w->setupScreen()->source(), RunSetupWidget::Source::Toy);
        QCOMPARE(w->promptLibrary()->rowCount(), 0);
        QSignalSpy ended(w.get(), &MainWindow::demoKitBuildEnded);
        QSignalSpy prompts(w.get(), &MainWindow::demoKitLoaded);
        QSignalSpy loaded(w->askScreen(), &AskWidget::modelsLoaded);
        QVERIFY(w->buildDemoKit());
        QVERIFY(!w->buildDemoKit());  // one build at a time
        QVERIFY(ended.wait(240000));
        QVERIFY2(ended.at(0).at(0).toBool(), qPrintable(ended.at(0).at(1).toString()));
        QVERIFY(QFileInfo(ws.filePath("kit/kit.json")).isFile());
        QVERIFY2(w->demoKitProblem().isEmpty(), qPrintable(w->demoKitProblem()));
        QVERIFY(!w->findChild<QToolBar*>("banner")->isVisible());
        QCOMPARE(foldersIn(ws.path()), (QStringList{"kit", "workspace"}));

        // The kit's prompts (one voice per split: 157 training questions in train.jsonl, all 233 in
        // eval.jsonl) fill the library ...
        QVERIFY(prompts.count() > 0 || prompts.wait(60000));
        QCOMPARE(w->promptLibrary()->rowCount(), 157 + 233);
        // ... and its models are the set-up screen's and the Ask screen's.
        QCOMPARE(w->setupScreen()->source(), RunSetupWidget::Source::DemoKit);
        const distill::DistillConfig c = w->setupScreen()->config();
        QCOMPARE(QString::fromStdString(c.student.path), QDir(ws.filePath("kit")).absolutePath());
        loaded.clear();
        w->askScreen()->loadModels();
        QVERIFY(loaded.wait(120000));
        // The kit's student folder, a speech LM (the toy student is neither).
        const QString described = loaded.last().at(0).toString();
        QVERIFY2(described.contains("student: student (speech LM"), qPrintable(described));
    }
};

QTEST_MAIN(TestDemoKitBuild)
#include "test_demo_kit_build.moc"
