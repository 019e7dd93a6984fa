#include "widgets/main/ScreenshotTour.h"

#include "widgets/ab/AbListeningWidget.h"
#include "widgets/charts/MetricStore.h"
#include "widgets/gaps/GapExplorerWidget.h"
#include "widgets/main/AskWidget.h"
#include "widgets/main/KeyReferenceDialog.h"
#include "widgets/main/MainWindow.h"
#include "widgets/main/RunHistoryWidget.h"
#include "widgets/main/RunSetupWidget.h"
#include "widgets/prompts/PromptLibraryModel.h"
#include "widgets/prompts/PromptLibraryWidget.h"
#include "widgets/run/RunMonitorWidget.h"
#include "widgets/tokens/TokenStore.h"
#include "widgets/tokens/TokenView.h"

#include "core/audio/Tts.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPixmap>
#include <QTableWidget>
#include <QTimer>

#include <exception>
#include <functional>
#include <memory>

namespace xopd::widgets {

ScreenshotTour::ScreenshotTour(MainWindow* window, QString folder, int steps)
    : QObject(window), window_(window), folder_(std::move(folder)), steps_(steps) {}

void ScreenshotTour::start() {
    QDir().mkpath(folder_);
    // Tall enough that the set-up screen shows its Launch script box and Start run without
    // scrolling; the screens get the height, the log panel below them keeps its own.
    window_->resize(1480, 1140);
    settle(300);  // the window manager's resize arrives through the event loop
    window_->resizeDocks({window_->dock(MainWindow::Screen::Prompts), window_->dock(MainWindow::Screen::Log)}, {920, 150},
                         Qt::Vertical);
    RunSetupWidget* setup = window_->setupScreen();
    if (window_->demoKitProblem().isEmpty() && setup->source() == RunSetupWidget::Source::DemoKit) {
        // The set-up screen on the demo kit, with its inspect report; the run and the Ask screen then
        // use the toy models so the tour takes seconds on a CPU.
        window_->showScreen(MainWindow::Screen::Setup);
        connect(setup, &RunSetupWidget::reportChanged, this, [this] {
            QTimer::singleShot(300, this, [this] {
                if (!capture("03-run-setup")) return;
                setupCaptured_ = true;
                askDemoKit();
            });
        }, Qt::SingleShotConnection);
        setup->inspect();
        return;
    }
    setup->inspect();
    startRun();
}

void ScreenshotTour::askDemoKit() {
    // Ask the demo kit's own models one spoken question; on any failure the toy models answer later.
    AskWidget* ask = window_->askScreen();
    auto toToy = [this] {
        window_->setupScreen()->setSource(RunSetupWidget::Source::Toy);
        startRun();
    };
    auto onKit = [this] { startRun(); };  // the kit's models answered: the run trains them too
    auto* done = new QObject(this);
    connect(ask, &AskWidget::answered, done, [this, done, onKit] {
        delete done;
        window_->showScreen(MainWindow::Screen::Ask);
        QTimer::singleShot(400, this, [this, onKit] {
            if (!capture("02-ask")) return;
            askCaptured_ = true;
            onKit();
        });
    });
    connect(ask, &AskWidget::failed, done, [done, toToy](const QString&) {
        delete done;
        toToy();
    });
    connect(ask, &AskWidget::modelsLoaded, done, [ask] {
        ask->choosePrompt(0);
        ask->ask();
    });
    QTimer::singleShot(180000, done, [done, toToy] {  // never stall the tour on a slow model
        delete done;
        toToy();
    });
    window_->showScreen(MainWindow::Screen::Ask);
    if (ask->hasModels()) {
        ask->choosePrompt(0);
        ask->ask();
    } else {
        ask->loadModels();
    }
}

void ScreenshotTour::startRun() {
    // Long enough that the run is still live (and paused) when the screens are captured.
    window_->setupScreen()->setMaxSteps(400);
    kitRun_ = window_->setupScreen()->source() == RunSetupWidget::Source::DemoKit;
    window_->showScreen(MainWindow::Screen::Monitor);
    if (!window_->startNewRun()) {
        emit failed("could not start a run: " + window_->lastError());
        return;
    }
    // Ask while the run trains: the Ask screen's worker is independent of the run's worker.
    AskWidget* ask = window_->askScreen();
    if (askCaptured_) {
        // The Ask screen already shows the demo kit's answer.
    } else if (ask->hasModels()) {
        ask->ask();
    } else {
        connect(ask, &AskWidget::modelsLoaded, this, [ask] { ask->ask(); }, Qt::SingleShotConnection);
        window_->showScreen(MainWindow::Screen::Ask);
        ask->loadModels();
    }
    window_->showScreen(MainWindow::Screen::Monitor);
    QTimer::singleShot(500, this, &ScreenshotTour::waitForSteps);
}

void ScreenshotTour::waitForSteps() {
    RunMonitorWidget* m = window_->monitor();
    const double step = window_->metrics()->lastStep(m->runId());
    waited_ms_ += 500;
    const bool asked = askCaptured_ || !window_->askScreen()->lastAnswer().speech.tokens.empty() || waited_ms_ > 120000;
    const bool kitRead = !window_->demoKitProblem().isEmpty() || window_->promptLibrary()->rowCount() > 0 || waited_ms_ > 120000;
    if ((step >= steps_ && asked && kitRead) || waited_ms_ > 240000 || m->bridge()->state() == RunState::Finished) {
        m->pauseAction()->trigger();
        QTimer::singleShot(1500, this, &ScreenshotTour::capturePhase);
        return;
    }
    QTimer::singleShot(500, this, &ScreenshotTour::waitForSteps);
}

bool ScreenshotTour::capture(const QString& name) {
    QApplication::processEvents();
    window_->monitor()->redrawNow();
    QApplication::processEvents();
    // QWidget::grab renders the whole window even where it extends past the (virtual) screen.
    const QPixmap pix = window_->grab();
    const QString path = QDir(folder_).filePath(name + ".png");
    if (!pix.save(path)) {
        emit failed("cannot write " + path);
        return false;
    }
    written_ << path;
    return true;
}

void ScreenshotTour::capturePhase() {
    // A/B: two prompts of the library (or two synthesized voices when it is empty).
    AbListeningWidget* ab = window_->listeningScreen();
    try {
        if (ab->candidateNames().size() < 2) {
            audio::TtsOptions o;
            ab->addCandidate("teacher answer (TTS)", audio::synthesizeSpeech("The answer is seven.", o));
            o.voice = "en+f3";
            ab->addCandidate("student answer (TTS)", audio::synthesizeSpeech("The answer is seven.", o));
        }
    } catch (const std::exception&) {
    }
    const QStringList names = ab->candidateNames();
    if (names.size() >= 2) {
        ab->chooseConditions(names[0], names[1]);
        ab->startTest(AbMode::Abx, 42, 10);
    }
    // Token view: latest step, first speech token locked so the detail panel shows top-k.
    TokenView* tv = window_->tokenView();
    if (!window_->tokens()->steps().empty()) tv->showStep(window_->tokens()->steps().back());
    tv->lockToken(0, 0);
    if (window_->promptLibrary()->rowCount() > 0) window_->promptScreen()->selectRow(0);

    struct Shot {
        MainWindow::Screen screen;
        const char* name;
    };
    const Shot shots[] = {{MainWindow::Screen::Prompts, "01-prompt-library"}, {MainWindow::Screen::Ask, "02-ask"},
                          {MainWindow::Screen::Setup, "03-run-setup"},      {MainWindow::Screen::Monitor, "04-live-monitor"},
                          {MainWindow::Screen::Tokens, "05-token-view"},    {MainWindow::Screen::Listening, "06-ab-listening"},
                          {MainWindow::Screen::History, "07-run-history"}};
    for (const auto& s : shots) {
        if (s.screen == MainWindow::Screen::Setup && setupCaptured_) continue;
        if (s.screen == MainWindow::Screen::Ask && askCaptured_) continue;
        window_->showScreen(s.screen);
        if (s.screen == MainWindow::Screen::History) window_->historyScreen()->selectRun(window_->monitor()->runId());
        QApplication::processEvents();
        // Give layouts and the chart timer a moment (the event loop keeps running).
        QEventLoop loop;
        QTimer::singleShot(400, &loop, &QEventLoop::quit);
        loop.exec();
        if (!capture(s.name)) return;
    }
    overlayRecordedRuns();
    window_->setDarkTheme(true);
    window_->showScreen(MainWindow::Screen::Monitor);
    {
        QEventLoop loop;
        QTimer::singleShot(500, &loop, &QEventLoop::quit);
        loop.exec();
    }
    if (!capture("08-live-monitor-dark")) return;
    window_->setDarkTheme(false);
    KeyReferenceDialog* keys = window_->keyReference();
    keys->resize(900, 760);
    keys->show();
    {
        QEventLoop loop;
        QTimer::singleShot(500, &loop, &QEventLoop::quit);
        loop.exec();
    }
    const QPixmap pix = keys->grab();
    const QString path = QDir(folder_).filePath("09-key-reference.png");
    if (!pix.save(path)) {
        emit failed("cannot write " + path);
        return;
    }
    written_ << path;
    keys->close();
    gapPhase();
}

void ScreenshotTour::overlayRecordedRuns() {
    // Runs already in the workspace (packaging/screenshots.sh records a two-rank data-parallel toy
    // run there when it can) join the live run on the monitor: the dark shot shows them and, for a
    // data-parallel run, the Data parallel panel.
    const QString live = window_->monitor()->runId();
    QStringList ids{live}, dirs{QDir(window_->runsFolder()).filePath(live)};
    for (const auto& d : QDir(window_->runsFolder()).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
        if (d.fileName() != live && QFileInfo::exists(d.filePath() + "/run.json")) {
            ids << d.fileName();
            dirs << d.filePath();
        }
    if (ids.size() < 2) return;
    QEventLoop loop;
    connect(window_, &MainWindow::runsOverlaid, &loop, &QEventLoop::quit);
    QTimer::singleShot(20000, &loop, &QEventLoop::quit);
    window_->overlayRuns(ids, dirs);
    loop.exec();
}

void ScreenshotTour::gapPhase() {
    // The gap explorer needs the run's before and after models: a run on the demo kit's models,
    // stopped with a checkpoint (every other screen is captured by now, with the run paused).
    if (!kitRun_) {
        window_->showScreen(MainWindow::Screen::Gaps);
        settle(400);
        if (capture("10-gap-explorer")) emit finished();
        return;
    }
    RunMonitorWidget* m = window_->monitor();
    runDir_ = QDir(window_->runsFolder()).filePath(m->runId());
    m->stopAction()->trigger();
    waited_ms_ = 0;
    QTimer::singleShot(500, this, &ScreenshotTour::waitForCheckpoint);
}

void ScreenshotTour::waitForCheckpoint() {
    const RunState s = window_->monitor()->bridge()->state();
    waited_ms_ += 500;
    if (s == RunState::Stopped || s == RunState::Finished) {
        computeGaps();
        return;
    }
    if (s == RunState::Failed || s == RunState::Cancelled || waited_ms_ > 120000) {
        emit failed(QString("the run did not stop with a checkpoint (state %1)").arg(runStateName(s)));
        return;
    }
    QTimer::singleShot(500, this, &ScreenshotTour::waitForCheckpoint);
}

void ScreenshotTour::computeGaps() {
    // Before (the kit's student) and after (the run's checkpoint) on the kit's held-out prompts,
    // grouped by question category; a larger manifest is thinned to a subset that keeps every
    // question, so the two evaluations take about a minute on a CPU.
    GapExplorerWidget* gaps = window_->gapExplorer();
    const QString manifest = gapManifest(gaps->manifest());
    if (manifest.isEmpty()) return;  // failed() was emitted
    gaps->setManifest(manifest);
    gaps->setGrouping("category");
    gaps->setModelFolders({});
    gaps->setRunFolder(runDir_);
    window_->showScreen(MainWindow::Screen::Gaps);
    auto* done = new QObject(this);
    connect(gaps, &GapExplorerWidget::computed, done, [this, done, gaps] {
        delete done;
        gaps->selectCell(0, int(gaps->table().checkpoints.size()) - 1);
        gaps->clipTable()->selectRow(0);
        settle(600);
        if (!capture("10-gap-explorer")) return;
        listenPhase();
    });
    connect(gaps, &GapExplorerWidget::failed, done, [this, done](const QString& error) {
        delete done;
        emit failed("gap explorer: " + error);
    });
    if (!gaps->compute()) {
        delete done;
        emit failed("gap explorer: " + gaps->statusText());
    }
}

QString ScreenshotTour::gapManifest(const QString& kitManifest) {
    QFile in(kitManifest);
    if (!in.open(QIODevice::ReadOnly)) {
        emit failed("cannot read " + kitManifest);
        return {};
    }
    const QList<QByteArray> lines = in.readAll().split('\n');
    QList<QJsonObject> rows;
    for (const auto& line : lines)
        if (!line.trimmed().isEmpty()) rows << QJsonDocument::fromJson(line).object();
    constexpr int kMaxClips = 240;
    if (rows.size() <= kMaxClips) return kitManifest;
    // One rendition (voice) of each question, the voices taken in turn; audio paths made absolute.
    const QDir kitDir = QFileInfo(kitManifest).absoluteDir();
    const QString path = QDir(window_->workspace()).filePath("gap-explorer-subset.jsonl");
    QFile out(path);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        emit failed("cannot write " + path);
        return {};
    }
    QHash<QString, int> renditions, order, seen;
    for (const auto& r : rows) {
        const QString t = r.value("transcript").toString();
        if (!order.contains(t)) {
            const int n = int(order.size());
            order.insert(t, n);
        }
        ++renditions[t];
    }
    int written = 0;
    for (auto r : rows) {
        const QString t = r.value("transcript").toString();
        if (seen[t]++ != order[t] % renditions[t]) continue;
        r["audio"] = kitDir.absoluteFilePath(r.value("audio").toString());
        out.write(QJsonDocument(r).toJson(QJsonDocument::Compact) + '\n');
        ++written;
    }
    out.close();
    return written > 0 ? path : kitManifest;
}

void ScreenshotTour::listenPhase() {
    // Listen A/B: the cell's two largest-gap clips on the A/B screen, an A/B test with a loop set.
    GapExplorerWidget* gaps = window_->gapExplorer();
    AbListeningWidget* ab = window_->listeningScreen();
    auto names = std::make_shared<QStringList>();
    connect(gaps, &GapExplorerWidget::listenRequested, this,
            [names](const QString& a, const QString&, const QString& b, const QString&) { *names = {a, b}; },
            Qt::SingleShotConnection);
    if (!gaps->listen(0, gaps->listedClipIds().size() > 1 ? 1 : -1)) {
        emit finished();  // nothing to compare (a one-clip cell): the gap explorer shot is enough
        return;
    }
    waited_ms_ = 0;
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [this, ab, names, poll] {
        waited_ms_ += 200;
        const QStringList have = ab->candidateNames();
        if (names->size() == 2 && have.contains((*names)[0]) && have.contains((*names)[1])) {
            ab->setNewSeedEachTest(false);
            ab->startTest(AbMode::Ab, 7, 10);
            ab->setLoop(0.3, 1.1, true);
            window_->showScreen(MainWindow::Screen::Listening);
            settle(500);
            if (capture("11-ab-loop")) emit finished();
            return;
        }
        if (waited_ms_ > 30000) {
            emit failed("Listen A/B did not bring the clips to the A/B screen");
            return;
        }
        QTimer::singleShot(200, this, *poll);
    };
    QTimer::singleShot(200, this, *poll);
}

void ScreenshotTour::settle(int ms) {
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

}  // namespace xopd::widgets
