#include "widgets/main/ScreenshotTour.h"

#include "widgets/ab/AbListeningWidget.h"
#include "widgets/charts/MetricStore.h"
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
#include <QPixmap>
#include <QTimer>

#include <exception>

namespace xopd::widgets {

ScreenshotTour::ScreenshotTour(MainWindow* window, QString folder, int steps)
    : QObject(window), window_(window), folder_(std::move(folder)), steps_(steps) {}

void ScreenshotTour::start() {
    QDir().mkpath(folder_);
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
    emit finished();
}

}  // namespace xopd::widgets
