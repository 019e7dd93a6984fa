#include "widgets/main/MainWindow.h"

#include "core/audio/AudioFile.h"
#include "core/demokit/DemoKit.h"
#include "core/distill/DistillConfig.h"
#include "core/run/RunController.h"
#include "core/run/RunFork.h"
#include "core/run/RunKnobs.h"
#include "core/run/RunStore.h"
#include "core/session/Session.h"
#include "widgets/ab/AbListeningWidget.h"
#include "widgets/charts/MetricChart.h"
#include "widgets/charts/MetricStore.h"
#include "widgets/common/Background.h"
#include "widgets/common/RunColors.h"
#include "widgets/common/Theme.h"
#include "widgets/gaps/GapExplorerWidget.h"
#include "widgets/main/AskWidget.h"
#include "widgets/main/DemoKitBanner.h"
#include "widgets/main/DemoKitBuildProcess.h"
#include "widgets/main/KeyReferenceDialog.h"
#include "widgets/main/RunFolderLoader.h"
#include "widgets/main/RunHistoryModel.h"
#include "widgets/main/RunHistoryWidget.h"
#include "widgets/main/RunSetupWidget.h"
#include "widgets/main/UserMessage.h"
#include "widgets/prompts/LibraryKeeper.h"
#include "widgets/prompts/PromptLibraryModel.h"
#include "widgets/prompts/PromptLibraryWidget.h"
#include "widgets/run/LogPanel.h"
#include "widgets/run/RunMonitorWidget.h"
#include "widgets/run/ScriptedRunControl.h"
#include "widgets/tokens/TokenStore.h"
#include "widgets/tokens/TokenView.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QScreen>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QRegularExpression>
#include <QScrollArea>
#include <QToolButton>

#include <algorithm>
#include <cmath>
#include <exception>
#include <iterator>
#include <utility>
#include <limits>
#include <stdexcept>

namespace xopd::widgets {

namespace {

constexpr int kStateVersion = 3;
/// Widest the status bar's permanent labels get (longer text is elided, full text in the tooltip).
constexpr int kStatusLabelWidth = 360;

/// The demo kit's prompts, read off the GUI thread.
struct KitPrompts {
    std::vector<PromptEntry> entries;
    QStringList problems;
    double seconds = 0;
};

/// The prompts of the kit's manifests (worker thread: headers probed, loudness measured).
KitPrompts readKitPrompts(const QStringList& manifests) {
    KitPrompts r;
    QElapsedTimer t;
    t.start();
    for (const auto& m : manifests) {
        try {
            auto e = PromptLibraryModel::readManifest(m);
            for (auto& entry : e) entry.kit = true;  // read from the kit each start: only edits are kept
            r.entries.insert(r.entries.end(), std::make_move_iterator(e.begin()), std::make_move_iterator(e.end()));
        } catch (const std::exception& e) {
            r.problems << QString::fromUtf8(e.what());
        }
    }
    r.seconds = t.elapsed() / 1000.0;
    return r;
}
/// Runs drawn on one chart at most (W&B's default); more selected runs get a notice.
constexpr int kMaxOverlaidRuns = 10;

QAction* makeAction(QObject* parent, const QString& text, const QKeySequence& key, const QString& tip) {
    auto* a = new QAction(text, parent);
    a->setShortcut(key);
    a->setStatusTip(tip);
    a->setToolTip(QString("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
    return a;
}

QString defaultWorkspace() {
    const QString saved = QSettings().value("workspace").toString();
    return saved.isEmpty() ? QDir::home().filePath("xopd-workspace") : saved;
}

}  // namespace

QString MainWindow::screenTitle(Screen s) {
    switch (s) {
        case Screen::Prompts: return "Prompt library";
        case Screen::Ask: return "Ask";
        case Screen::Setup: return "Models and run set-up";
        case Screen::Monitor: return "Live run monitor";
        case Screen::Tokens: return "Token view";
        case Screen::Listening: return "A/B listening";
        case Screen::History: return "Run history";
        case Screen::Gaps: return "Gap explorer";
        case Screen::Log: return "Log";
        default: return {};
    }
}

MainWindow::MainWindow(WorkbenchOptions options, QWidget* parent)
    : QMainWindow(parent),
      options_(std::move(options)),
      metrics_(new MetricStore(this)),
      tokens_(new TokenStore(this)),
      library_(new PromptLibraryModel(this)),
      keeper_(new LibraryKeeper(library_, this)),
      historyModel_(new RunHistoryModel(this)) {
    setWindowTitle("X-OPD Workbench");
    setObjectName("MainWindow");
    registerRunMetaTypes();
    const QString theme = QSettings().value("view/theme", "light").toString();
    applyTheme(theme == "dark" ? ThemeKind::Dark : ThemeKind::Light);
    for (const QString& key : [] {
             QSettings s;
             s.beginGroup("runColors");
             return s.childKeys();
         }())
        RunColors::setOverride(key, QSettings().value("runColors/" + key).value<QColor>());

    buildScreens();
    buildActions();
    buildMenus();
    defaultLayout();

    stateLabel_ = new QLabel("no run", this);
    workspaceLabel_ = new QLabel(this);
    stateLabel_->setMaximumWidth(kStatusLabelWidth);
    statusBar()->addPermanentWidget(stateLabel_);
    statusBar()->addPermanentWidget(workspaceLabel_);

    followTimer_ = new QTimer(this);
    followTimer_->setInterval(1000);
    connect(followTimer_, &QTimer::timeout, this, &MainWindow::followTick);
    loader_ = new RunFolderLoader(this);
    connect(loader_, &RunFolderLoader::loaded, this, &MainWindow::onRunFolderLoaded);
    connect(historyModel_, &RunHistoryModel::refreshed, this, [this](const QStringList& problems) {
        for (const auto& p : problems) log_->append(LogLevel::Warning, p);
        if (!historySelect_.isEmpty()) history_->selectRun(std::exchange(historySelect_, QString()));
        // The Ask screen can answer with any real-model run's latest checkpoint (a toy run's
        // checkpoints hold toy weights, not a model folder).
        QList<AskCheckpoint> checkpoints;
        for (int i = 0; i < historyModel_->rowCount(); ++i) {
            const RunRow& r = historyModel_->row(i);
            if (r.checkpoint.isEmpty() || r.toyStudent) continue;
            checkpoints.push_back({QString("run %1 · %2").arg(r.id, r.checkpoint), r.dir,
                                   QDir(r.dir).filePath("checkpoints/" + r.checkpoint)});
        }
        ask_->setRunCheckpoints(checkpoints);
    });

    setWorkspace(options_.workspace.isEmpty() ? defaultWorkspace() : options_.workspace);
    openDemoKit(options_.demoKit.isEmpty() ? QString::fromStdString(demokit::defaultDemoKitPath()) : options_.demoKit);
    modelsChanged();

    // First start: 1400×900 where the screen has room, else the screen's available area (a window
    // larger than the screen hides its status bar and right-hand controls).
    fitToScreen(QSize(1400, 900));
    if (options_.restoreLayout) {
        QSettings s;
        if (restoreGeometry(s.value("window/geometry").toByteArray())) fitToScreen(size());  // saved on a larger screen
        restoreState(s.value("window/state").toByteArray(), kStateVersion);
    }
    lastState_ = saveState(kStateVersion);
    if (!options_.runDir.isEmpty()) openRunFolder(options_.runDir);
    showScreen(kitProblem_.isEmpty() ? Screen::Prompts : Screen::Setup);
    status("Ready. F2 lists every key.");
    if (options_.buildDemoKit && !kitProblem_.isEmpty()) buildDemoKit();
}

// A change made just before is not lost; a kit build still running is cancelled by its
// DemoKitBuildProcess (within one step, leaving nothing).
MainWindow::~MainWindow() { keeper_->flush(); }

bool MainWindow::buildDemoKit() {
    if (kitBuilding_ || kitProblem_.isEmpty()) return false;
    if (!kitBuild_) {
        kitBuild_ = new DemoKitBuildProcess(this);
        connect(kitBuild_, &DemoKitBuildProcess::progress, kitBanner_, &DemoKitBanner::setProgress);
        connect(kitBuild_, &DemoKitBuildProcess::line, this, [this](const QString& l) { log_->append(LogLevel::Info, "demo kit: " + l); });
        connect(kitBuild_, &DemoKitBuildProcess::built, this, [this](const QString& folder) {
            kitBuilding_ = false;
            log_->append(LogLevel::Info, "demo kit: built " + folder);
            openDemoKit(folder);
            modelsChanged();
            emit demoKitBuildEnded(true, {});
        });
        connect(kitBuild_, &DemoKitBuildProcess::cancelled, this, [this] {
            kitBuilding_ = false;
            kitBanner_->showStopped("its build was cancelled (nothing of it was kept).");
            log_->append(LogLevel::Warning, "demo kit: build cancelled");
            status("Demo kit build cancelled");
            emit demoKitBuildEnded(false, "cancelled");
        });
        connect(kitBuild_, &DemoKitBuildProcess::failed, this, [this](const QString& message) {
            kitBuilding_ = false;
            kitBanner_->showStopped("its build failed: " + message);
            showError("Demo kit", message);
            emit demoKitBuildEnded(false, message);
        });
    }
    kitBuilding_ = true;  // before start(): a CLI that cannot start reports failed() at once
    kitBanner_->showBuilding(kitTarget_);
    log_->append(LogLevel::Info, "demo kit: building into " + kitTarget_);
    status("Building the demo kit in the background…");
    return kitBuild_->start(kitTarget_, options_.demoKitBuildArgs);
}

void MainWindow::cancelDemoKitBuild() {
    if (kitBuilding_) kitBuild_->cancel();
}

void MainWindow::buildScreens() {
    log_ = new LogPanel(this);
    prompts_ = new PromptLibraryWidget(library_, this);
    ask_ = new AskWidget(library_, this);
    setup_ = new RunSetupWidget(this);
    monitor_ = new RunMonitorWidget(metrics_, tokens_, log_, this);
    tokenView_ = new TokenView(tokens_, this);
    listening_ = new AbListeningWidget(this);
    history_ = new RunHistoryWidget(historyModel_, this);
    gaps_ = new GapExplorerWidget(this);

    QWidget* widgets[] = {prompts_, ask_, setup_, monitor_, tokenView_, listening_, history_, gaps_, log_};
    static const char* names[] = {"dock-prompts", "dock-ask", "dock-setup", "dock-monitor", "dock-tokens", "dock-listening",
                                  "dock-history", "dock-gaps", "dock-log"};
    for (int i = 0; i < int(Screen::Count); ++i) {
        auto* d = new QDockWidget(screenTitle(Screen(i)), this);
        d->setObjectName(names[i]);
        screenWidgets_[i] = widgets[i];
        if (Screen(i) != Screen::Log) {
            // Screens scroll rather than set the window's minimum size: on a small screen the
            // window still fits, status bar and right-hand controls included.
            auto* scroll = new QScrollArea(d);
            scroll->setWidgetResizable(true);
            scroll->setFrameShape(QFrame::NoFrame);
            scroll->setWidget(widgets[i]);
            d->setWidget(scroll);
        } else {
            d->setWidget(widgets[i]);
        }
        d->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable | QDockWidget::DockWidgetClosable);
        connect(d, &QDockWidget::dockLocationChanged, this, &MainWindow::recordLayout);
        connect(d, &QDockWidget::topLevelChanged, this, &MainWindow::recordLayout);
        docks_[i] = d;
    }
    // The screens fill the window: a zero-size central widget leaves all the room to the docks.
    auto* central = new QWidget(this);
    central->setMaximumSize(0, 0);
    setCentralWidget(central);
    setDockNestingEnabled(true);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks | QMainWindow::AllowNestedDocks |
                   QMainWindow::GroupedDragging);
    setTabPosition(Qt::AllDockWidgetAreas, QTabWidget::North);

    // Banner for a missing demo kit, with its build's progress.
    banner_ = new QToolBar("Notice", this);
    banner_->setObjectName("banner");
    banner_->setMovable(false);
    kitBanner_ = new DemoKitBanner(banner_);
    banner_->addWidget(kitBanner_);
    addToolBar(Qt::TopToolBarArea, banner_);
    banner_->hide();
    connect(kitBanner_, &DemoKitBanner::buildRequested, this, [this] { buildDemoKit(); });
    connect(kitBanner_, &DemoKitBanner::cancelRequested, this, &MainWindow::cancelDemoKitBuild);

    // Wiring between screens.
    connect(prompts_, &PromptLibraryWidget::statusMessage, this, &MainWindow::status);
    connect(prompts_, &PromptLibraryWidget::promptActivated, this, [this](int row) {
        // By the prompt's id: the kit says each question in several voices, so its text names no one clip.
        showScreen(Screen::Ask);
        ask_->chooseLibraryPrompt(library_->entry(row).id);
    });
    connect(prompts_, &PromptLibraryWidget::importProblems, this, [this](const QStringList& problems) {
        for (const auto& p : problems) log_->append(LogLevel::Error, "import: " + p);
    });
    connect(keeper_, &LibraryKeeper::failed, this, [this](const QString& m) { showError("Prompt library", m); });
    connect(ask_, &AskWidget::statusMessage, this, &MainWindow::status);
    connect(ask_, &AskWidget::failed, this, [this](const QString& m) { log_->append(LogLevel::Error, "ask: " + m); });
    connect(ask_, &AskWidget::modelsLoaded, this, [this](const QString& d) { log_->append(LogLevel::Info, "ask: loaded " + d); });
    connect(ask_, &AskWidget::recordRequested, this, [this] {
        if (prompts_->isRecording()) {
            const int row = prompts_->stopRecording();
            if (row >= 0) status("Recorded " + library_->entry(row).id + ": type its transcript, then Ask (Ctrl+J)");
        } else if (prompts_->startRecording()) {
            status("Recording… press Ctrl+Shift+J (or Ctrl+R) again to stop");
        }
    });
    connect(ask_, &AskWidget::answersForListening, this, &MainWindow::speakAnswers);
    connect(setup_, &RunSetupWidget::startRequested, this, [this] { startNewRun(); });
    connect(setup_, &RunSetupWidget::modelsChanged, this, &MainWindow::modelsChanged);
    connect(monitor_, &RunMonitorWidget::newRunRequested, this, [this] { startNewRun(); });
    connect(monitor_->bridge(), &RunBridge::stateChanged, this, [this](RunState s, const QString& reason) {
        if (s == RunState::Failed) showError("Run failed", QString("run %1 failed: %2").arg(monitor_->runId(), reason));
    });
    connect(monitor_, &RunMonitorWidget::runStateChanged, this, [this](RunState s) {
        stateLabel_->setText(QString("run %1: %2").arg(monitor_->runId(), runStateName(s)));
        refreshHistory(monitor_->runId());
    });
    connect(monitor_->bridge(), &RunBridge::checkpointSaved, this, [this] { refreshHistory(); });
    connect(monitor_->bridge(), &RunBridge::stepReceived, this, &MainWindow::onLiveStep);
    connect(listening_, &AbListeningWidget::statusMessage, this, &MainWindow::status);
    connect(gaps_, &GapExplorerWidget::statusMessage, this, &MainWindow::status);
    connect(gaps_, &GapExplorerWidget::failed, this, [this](const QString& m) { log_->append(LogLevel::Error, "gap explorer: " + m); });
    connect(gaps_, &GapExplorerWidget::listenRequested, this, &MainWindow::listenToClips);
    connect(history_, &RunHistoryWidget::statusMessage, this, &MainWindow::status);
    connect(history_, &RunHistoryWidget::overlayRequested, this, &MainWindow::overlayRuns);
    connect(history_, &RunHistoryWidget::openRequested, this, [this](const QString& d) { openRunFolder(d); });
    connect(history_, &RunHistoryWidget::resumeRequested, this, [this](const QString& d) { resumeRun(d); });
    connect(history_, &RunHistoryWidget::forkRequested, this, [this](const QString& dir) {
        const auto steps = run::checkpointSteps(dir.toStdString());
        if (steps.empty()) {
            showError("Fork run", QString("'%1' has no checkpoint to fork from").arg(dir));
            return;
        }
        QStringList items;
        for (auto s : steps) items << QString::number(s);
        bool ok = false;
        const QString pick = QInputDialog::getItem(this, "Fork run", "Fork from the checkpoint at step:", items,
                                                   int(items.size()) - 1, false, &ok);
        if (ok) forkRun(dir, pick.toLongLong());
    });
    connect(history_, &RunHistoryWidget::colourChanged, this, [this](const QString& id) {
        QSettings().setValue("runColors/" + id, RunColors::color(id));
        for (auto* c : monitor_->charts()) c->refresh(true);
    });
}

void MainWindow::buildActions() {
    auto* quit = makeAction(this, "&Quit", QKeySequence(Qt::CTRL | Qt::Key_Q), "Quit the workbench (a live run is stopped with a checkpoint)");
    connect(quit, &QAction::triggered, this, &QWidget::close);
    auto* openWs = makeAction(this, "Open &workspace…", QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_W),
                              "Choose the workspace folder (runs and recordings live there)");
    connect(openWs, &QAction::triggered, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, "Workspace folder", workspace_);
        if (!d.isEmpty()) setWorkspace(d);
    });
    auto* openRun = makeAction(this, "Open run &folder…", QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_R),
                               "Open a run folder (also one written by a headless run) and follow it live");
    connect(openRun, &QAction::triggered, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, "Run folder", runsFolder());
        if (!d.isEmpty()) openRunFolder(d);
    });
    auto* png = makeAction(this, "Export chart as &PNG…", QKeySequence(Qt::CTRL | Qt::Key_E),
                           "Export a chart of the live monitor as PNG (white background, 1200×600)");
    auto* svg = makeAction(this, "Export chart as S&VG…", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E),
                           "Export a chart of the live monitor as SVG (white background, 1200×600)");
    auto* csv = makeAction(this, "Export chart &data as CSV…", QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_E),
                           "Export the plotted data of a chart as CSV");
    connect(png, &QAction::triggered, this, [this] { exportDialog("png"); });
    connect(svg, &QAction::triggered, this, [this] { exportDialog("svg"); });
    connect(csv, &QAction::triggered, this, [this] { exportDialog("csv"); });
    auto* toAb = makeAction(this, "Send selected prompt to &A/B listening", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A),
                            "Add the prompt selected in the library as a condition of the A/B listening screen");
    connect(toAb, &QAction::triggered, this, &MainWindow::sendPromptToListening);
    fileActions_ = {openWs, openRun, png, svg, csv, toAb, quit};

    for (int i = 0; i < int(Screen::Count); ++i) {
        auto* a = makeAction(this, screenTitle(Screen(i)), QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)),
                             QString("Show the %1 screen").arg(i == int(Screen::Listening) ? screenTitle(Screen(i)) : screenTitle(Screen(i)).toLower()));
        connect(a, &QAction::triggered, this, [this, i] { showScreen(Screen(i)); });
        viewActions_ << a;
    }
    darkAction_ = makeAction(this, "&Dark theme", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D),
                             "Switch between the light and the dark palette (exports stay on white)");
    darkAction_->setCheckable(true);
    darkAction_->setChecked(currentTheme() == ThemeKind::Dark);
    connect(darkAction_, &QAction::toggled, this, &MainWindow::setDarkTheme);
    undoLayout_ = makeAction(this, "&Undo layout change", QKeySequence::Undo, "Undo the last move of a screen or panel");
    undoLayout_->setEnabled(false);
    connect(undoLayout_, &QAction::triggered, this, &MainWindow::undoLayout);
    auto* reset = makeAction(this, "&Reset layout", QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_0),
                             "Put every screen back in its default place");
    connect(reset, &QAction::triggered, this, [this] {
        layoutUndo_ << saveState(kStateVersion);
        restoringLayout_ = true;
        restoreState(defaultState_, kStateVersion);
        restoringLayout_ = false;
        lastState_ = saveState(kStateVersion);
        undoLayout_->setEnabled(true);
    });
    viewActions_ << darkAction_ << undoLayout_ << reset;

    auto* help = makeAction(this, "&Help", QKeySequence(Qt::Key_F1), "What each screen does and where to start");
    connect(help, &QAction::triggered, this, [this] {
        auto* box = new QMessageBox(QMessageBox::Information, "X-OPD Workbench",
                                    "<p><b>X-OPD Workbench</b> — cross-modal on-policy distillation of speech LLMs.</p>"
                                    "<ol><li><b>Prompt library</b> (Ctrl+1): import or record spoken prompts (Ctrl+R).</li>"
                                    "<li><b>Ask</b> (Ctrl+2): the student hears the audio, the teacher reads the transcript (Ctrl+J).</li>"
                                    "<li><b>Models and run set-up</b> (Ctrl+3): models, objective, knobs; Ctrl+N starts a run.</li>"
                                    "<li><b>Live run monitor</b> (Ctrl+4): pause Ctrl+P, resume Ctrl+Shift+P, stop Ctrl+.</li>"
                                    "<li><b>Token view</b> (Ctrl+5): per-token teacher − student log-ratio.</li>"
                                    "<li><b>A/B listening</b> (Ctrl+6): blind A/B and ABX.</li>"
                                    "<li><b>Run history</b> (Ctrl+7): overlay, resume, fork, export.</li></ol>"
                                    "<p>F2 lists every key. The README has the full guide.</p>",
                                    QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setModal(false);
        box->show();
    });
    auto* keys = makeAction(this, "&Key reference", QKeySequence(Qt::Key_F2), "List every key of the workbench (generated from the actions)");
    connect(keys, &QAction::triggered, this, [this] {
        auto* k = keyReference();
        k->show();
        k->raise();
    });
    auto* about = makeAction(this, "&About", QKeySequence(Qt::CTRL | Qt::Key_F1), "Version and licence");
    connect(about, &QAction::triggered, this, [this] {
        QMessageBox::about(this, "About X-OPD Workbench",
                           QString("X-OPD Workbench %1\nQt %2").arg(QApplication::applicationVersion(), qVersion()));
    });
    helpActions_ = {help, keys, about};
    globalActions_ = fileActions_ + viewActions_ + helpActions_;
    addActions(globalActions_);
}

QList<KeyGroup> MainWindow::keyGroups() const {
    return {
        {"File", fileActions_},
        {"View and screens", viewActions_},
        {"Help", helpActions_},
        {screenTitle(Screen::Prompts), prompts_->screenActions()},
        {screenTitle(Screen::Ask), ask_->screenActions()},
        {screenTitle(Screen::Setup), setup_->screenActions()},
        {screenTitle(Screen::Monitor), monitor_->screenActions()},
        {screenTitle(Screen::Tokens), tokenView_->actions()},
        {screenTitle(Screen::Listening), listening_->screenActions()},
        {screenTitle(Screen::History), history_->screenActions()},
    };
}

void MainWindow::buildMenus() {
    for (const auto& g : keyGroups()) {
        QString title = g.title;
        if (title == "View and screens") title = "View";
        QMenu* m = menuBar()->addMenu(title == screenTitle(Screen::Setup) ? "Set-up" : title);
        for (QAction* a : g.actions) m->addAction(a);
        if (title == "View") {
            m->insertSeparator(darkAction_);
        }
    }
    // Keep Help last.
    for (QAction* a : menuBar()->actions())
        if (a->text() == "Help") {
            menuBar()->removeAction(a);
            menuBar()->addAction(a);
        }
}

void MainWindow::defaultLayout() {
    for (int i = 0; i < int(Screen::Log); ++i) addDockWidget(Qt::TopDockWidgetArea, docks_[i]);
    for (int i = 1; i < int(Screen::Log); ++i) tabifyDockWidget(docks_[0], docks_[i]);
    addDockWidget(Qt::BottomDockWidgetArea, docks_[int(Screen::Log)]);
    resizeDocks({docks_[0], docks_[int(Screen::Log)]}, {720, 140}, Qt::Vertical);
    docks_[int(Screen::Prompts)]->raise();
    defaultState_ = saveState(kStateVersion);
}

void MainWindow::fitToScreen(QSize wanted) {
    const QScreen* sc = screen() ? screen() : QGuiApplication::primaryScreen();
    if (!sc) {
        resize(wanted);
        return;
    }
    const QRect avail = sc->availableGeometry();
    // Leave room for the window frame (not part of size()).
    const QSize room(std::max(640, avail.width() - 16), std::max(480, avail.height() - 48));
    resize(wanted.boundedTo(room));
    if (frameGeometry().width() > avail.width() || frameGeometry().height() > avail.height() || !avail.contains(frameGeometry()))
        move(avail.topLeft());
}

void MainWindow::showScreen(Screen s) {
    QDockWidget* d = docks_[int(s)];
    d->show();
    d->raise();
    screenWidgets_[int(s)]->setFocus();
}

QString MainWindow::runsFolder() const { return QString::fromStdString(session_.runsFolder()); }

void MainWindow::setWorkspace(const QString& folder) {
    workspace_ = QDir(folder).absolutePath();
    session_.setWorkspace(workspace_.toStdString());
    QDir().mkpath(runsFolder());
    QDir().mkpath(QDir(workspace_).filePath("prompts"));
    prompts_->setWorkspaceFolder(QDir(workspace_).filePath("prompts"));
    ask_->setRecordingFolder(QDir(workspace_).filePath("prompts/recordings"));  // beside the library's recordings
    try {
        for (const auto& p : keeper_->open(workspace_)) log_->append(LogLevel::Warning, "prompt library: " + p);
    } catch (const std::exception& e) {
        showError("Prompt library", QString::fromUtf8(e.what()) +
                                        " — the file is kept as it is, and library changes are not saved until it is "
                                        "fixed or moved away and the workspace is opened again");
    }
    QSettings().setValue("workspace", workspace_);
    // Elided in the middle: a long path never pushes the status bar's message off the window.
    const QString full = "workspace: " + workspace_;
    workspaceLabel_->setText(workspaceLabel_->fontMetrics().elidedText(full, Qt::ElideMiddle, kStatusLabelWidth));
    workspaceLabel_->setToolTip(full);
    historyModel_->setRoot(runsFolder());
    refreshHistory();  // problems are logged when the read comes back
}

void MainWindow::refreshHistory(const QString& select) {
    if (!select.isEmpty()) historySelect_ = select;
    historyModel_->refresh();
}

void MainWindow::openDemoKit(const QString& folder) {
    try {
        const auto kit = demokit::openDemoKit(folder.toStdString());
        kitFolder_ = QString::fromStdString(kit.root);
        kitProblem_.clear();
        setup_->setDemoKit(kitFolder_, true);
        // A kit that arrives later (built in the background) does not override model folders chosen meanwhile.
        if (setup_->source() != RunSetupWidget::Source::Folders) setup_->setSource(RunSetupWidget::Source::DemoKit);
        banner_->hide();
        // The prompts (headers probed, loudness measured: seconds for a thousand clips) are read on
        // a worker thread and added in one insertion; the window is usable meanwhile.
        const QStringList manifests{QString::fromStdString(kit.train_manifest), QString::fromStdString(kit.eval_manifest)};
        if (gaps_->manifest().isEmpty()) {  // the kit's held-out clips and its student, ready to compute
            gaps_->setManifest(QString::fromStdString(kit.eval_manifest));
            gaps_->setModelFolders({QString::fromStdString(kit.student_dir)});
        }
        prompts_->setLoading(QString("Loading the demo kit's prompts from %1 (files probed, loudness measured)…").arg(kitFolder_));
        runInBackground(this, [manifests] { return readKitPrompts(manifests); },
                        [this](KitPrompts r) {
            prompts_->setLoading({});
            for (const auto& p : r.problems) log_->append(LogLevel::Warning, p);
            const int first = library_->addEntries(std::move(r.entries));
            // Two clips of the kit as ready-made A/B conditions.
            for (int row = first; row < std::min(first + 2, library_->rowCount()); ++row) {
                try {
                    listening_->addCandidate(library_->entry(row).id, library_->loadClip(row));
                } catch (const std::exception& e) {
                    log_->append(LogLevel::Warning, QString::fromUtf8(e.what()));
                }
            }
            log_->append(LogLevel::Info, QString("opened the demo kit %1 (%2 prompts, read in %3 s)")
                                             .arg(kitFolder_)
                                             .arg(library_->rowCount() - first)
                                             .arg(r.seconds, 0, 'f', 2));
            emit demoKitLoaded();
        },
                        [this](const QString& error) {
                            prompts_->setLoading({});
                            log_->append(LogLevel::Warning, error);
                        });
        status("Reading the demo kit's prompts…");
    } catch (const std::exception& e) {
        kitFolder_.clear();
        kitTarget_ = QDir(folder).absolutePath();
        kitProblem_ = QString::fromUtf8(e.what());
        setup_->setDemoKit(folder, false, kitProblem_);
        setup_->setSource(RunSetupWidget::Source::Toy);
        kitBanner_->showMissing(kitProblem_);
        banner_->show();
        log_->append(LogLevel::Warning, "demo kit: " + kitProblem_ + " — run `xopd demo-kit build`");
    }
}

void MainWindow::modelsChanged() { ask_->setModelConfig(setup_->config(), setup_->modelDescription()); }

void MainWindow::status(const QString& message) { statusBar()->showMessage(message, 8000); }

void MainWindow::showError(const QString& title, const QString& fullMessage) {
    const QString message = userMessage(fullMessage);
    lastError_ = message;
    log_->append(LogLevel::Error, title + ": " + fullMessage);
    status(title + ": " + message);
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setModal(false);
    box->show();
}

bool MainWindow::refuseIfLive(const QString& what) {
    RunControl* live = monitor_->run();
    const RunState s = live ? live->state() : RunState::Idle;
    if (s == RunState::Running || s == RunState::Pausing || s == RunState::Paused || s == RunState::Stopping) {
        // Replacing a live run would block the GUI until its step and checkpoint finish.
        showError(what, QString("run %1 is still %2: stop it (Ctrl+.) or cancel it first").arg(monitor_->runId(), runStateName(s)));
        return true;
    }
    return false;
}

bool MainWindow::startNewRun() {
    if (refuseIfLive("New run")) return false;
    distill::DistillConfig cfg = setup_->config();
    const QString method = distill::methodName(cfg.loss.method);
    QString dir;
    std::unique_ptr<RunControl> control;
    try {
        if (options_.simulate) {
            cfg.validate("run set-up");
            ScriptedRunOptions so;
            so.maxSteps = cfg.train.max_steps > 0 ? cfg.train.max_steps : 60;
            dir = QString::fromStdString(session_.newRunFolder(method.toStdString()));
            so.runDir = dir.toStdString();
            control = std::make_unique<ScriptedRunControl>(so);
        } else {
            std::string made;
            control = session_.newRun(cfg, &made);
            dir = QString::fromStdString(made);
        }
    } catch (const std::exception& e) {
        showError("New run", QString::fromUtf8(e.what()));
        return false;
    }
    const QString id = QFileInfo(dir).fileName();
    stopFollowing();
    resumeTicket_ = 0;
    metrics_->clearRun(id);
    tokens_->clear();
    monitor_->setRun(std::move(control), id);
    liveRunStarted(id, cfg);
    monitor_->addShownRun(id);
    monitor_->bridge()->start();
    log_->append(LogLevel::Info, QString("new %1 run %2 (%3)").arg(method, dir, setup_->modelDescription()));
    showScreen(Screen::Monitor);
    refreshHistory(id);
    return true;
}

bool MainWindow::resumeRun(const QString& dir) {
    if (refuseIfLive("Resume run")) return false;
    session::ResumedRun resumed;
    try {
        resumed = session_.resumeRun(dir.toStdString());
    } catch (const std::exception& e) {
        showError("Resume run", QString::fromUtf8(e.what()));
        return false;
    }
    const QString id = QFileInfo(dir).fileName();
    stopFollowing();
    metrics_->clearRun(id);
    tokens_->clear();
    // The steps up to the checkpoint stay; later ones are recomputed by the resumed run. They are
    // read on a worker thread, and the run starts when they are in (its new steps follow them).
    const std::string latest = resumed.latest_checkpoint;
    const int64_t upTo = resumed.checkpoint_step;
    monitor_->setRun(std::move(resumed.control), id);
    try {
        liveRunStarted(id, run::configInForce(dir.toStdString()));  // run.json plus its hot edits
    } catch (const std::exception& e) {
        log_->append(LogLevel::Warning, QString::fromUtf8(e.what()));
    }
    monitor_->addShownRun(id);
    RunFolderRequest r;
    r.id = id;
    r.dir = dir;
    r.upToStep = upTo;
    resumeTicket_ = loader_->read(r);
    log_->append(LogLevel::Info, QString("resumed %1 from %2").arg(dir, latest.empty() ? QString("the start") : QString::fromStdString(latest)));
    showScreen(Screen::Monitor);
    return true;
}

QString MainWindow::forkRun(const QString& dir, qint64 step) {
    if (refuseIfLive("Fork run")) return {};
    QString child;
    try {
        child = QString::fromStdString(session_.planFork(dir.toStdString(), step));
    } catch (const std::exception& e) {
        showError("Fork run", QString::fromUtf8(e.what()));
        return {};
    }
    // The copy of the checkpoint and the store runs on a worker thread; the fork starts when it is done.
    status(QString("Forking %1 at step %2…").arg(dir).arg(step));
    runInBackground(
        this, [session = session_, dir, child, step] { session.fork(dir.toStdString(), child.toStdString(), step); },
        [this, dir, child, step] {
            log_->append(LogLevel::Info, QString("forked %1 at step %2 into %3").arg(dir).arg(step).arg(child));
            refreshHistory();
            if (resumeRun(child)) emit runForked(child);
        },
        [this](const QString& error) { showError("Fork run", error); });
    return child;
}

bool MainWindow::openRunFolder(const QString& dir) {
    const QString id = QFileInfo(QDir(dir).absolutePath()).fileName();
    // Only a look at the folder here; the database is read on a worker thread.
    try {
        session::Session::requireFollowable(dir.toStdString());
    } catch (const std::exception& e) {
        showError("Open run", QString::fromUtf8(e.what()));
        return false;
    }
    stopFollowing();
    metrics_->clearRun(id);
    tokens_->clear();
    followId_ = id;
    followDir_ = dir;
    followStep_ = 0;
    followFirst_ = true;
    RunFolderRequest r;
    r.id = id;
    r.dir = dir;
    r.tokenSteps = 50;  // the token view shows recent steps
    followTicket_ = loader_->read(r);
    monitor_->addShownRun(id);
    status(QString("Opening %1…").arg(dir));
    showScreen(Screen::Monitor);
    return true;
}

void MainWindow::stopFollowing() {
    followTimer_->stop();
    followDir_.clear();
    followTicket_ = 0;  // a read in flight is dropped when it comes back
}

void MainWindow::followTick() {
    if (followDir_.isEmpty() || followTicket_ != 0) return;  // one read at a time
    RunFolderRequest r;
    r.id = followId_;
    r.dir = followDir_;
    r.afterStep = followStep_;
    r.tokenSteps = std::numeric_limits<qint64>::max() / 2;  // tokens of every new step
    followTicket_ = loader_->read(r);
}

void MainWindow::liveRunStarted(const QString& id, const distill::DistillConfig& config) {
    liveId_ = id;
    liveConfig_ = config;
    liveStepSeconds_.clear();
    monitor_->setKnobsInForce(config.loss.lambda, config.train.lr, config.rollout.temperature);
}

void MainWindow::onLiveStep(const StepMetrics& m) {
    // The first few measured steps calibrate the set-up screen's step time for these models.
    constexpr size_t kCalibrationSteps = 5;
    if (liveId_.isEmpty() || monitor_->runId() != liveId_ || liveStepSeconds_.size() >= kCalibrationSteps) return;
    const auto it = m.scalars.find("time/step_s");
    if (it == m.scalars.end() || !std::isfinite(it->second) || it->second <= 0) return;
    liveStepSeconds_.push_back(it->second);
    setup_->setStepTimeCalibration(distill::calibrateStepTime(liveConfig_, liveStepSeconds_, "run " + liveId_.toStdString()));
}

int MainWindow::pendingRunReads() const { return loader_->pending(); }

void MainWindow::onRunFolderLoaded(quint64 ticket, const RunFolderData& d) {
    if (ticket != 0 && ticket == followTicket_) {
        followTicket_ = 0;
        const bool first = std::exchange(followFirst_, false);
        if (!d.error.isEmpty()) {
            stopFollowing();
            showError(first ? "Open run" : "Follow run", d.error);
            if (first) emit runFolderLoaded(d.request.dir, false);
            return;
        }
        for (const auto& m : d.steps) {
            metrics_->append(followId_, m);
            followStep_ = std::max<qint64>(followStep_, m.step);
        }
        for (const auto& m : d.marks) metrics_->addMark(followId_, m);
        for (const auto& b : d.tokens) tokens_->add(b);
        if (first) {
            followTimer_->start();
            log_->append(LogLevel::Info, QString("following run %1 (%2 steps so far)").arg(d.request.dir).arg(followStep_));
            status(QString("Following %1").arg(d.request.dir));
            emit runFolderLoaded(d.request.dir, true);
        }
        return;
    }
    if (ticket != 0 && ticket == resumeTicket_) {
        resumeTicket_ = 0;
        if (!d.error.isEmpty()) log_->append(LogLevel::Warning, d.error);
        for (const auto& m : d.steps) metrics_->append(d.request.id, m);
        for (const auto& m : d.marks) metrics_->addMark(d.request.id, m);
        if (d.request.upToStep > 0 && !d.steps.empty()) {  // where this resume continues
            RunMark m;
            m.kind = RunMarkKind::Resume;
            m.step = double(d.steps.back().step);
            m.wallS = d.steps.back().wall_time_s;
            m.unixS = d.steps.back().unix_time_s;
            metrics_->addMark(d.request.id, m);
        }
        if (monitor_->runId() == d.request.id && monitor_->run()) monitor_->bridge()->start();
        return;
    }
    if (overlayTickets_.removeOne(ticket)) {
        if (!d.error.isEmpty()) {
            log_->append(LogLevel::Warning, d.error);
            overlayIds_.removeAll(d.request.id);
        } else {
            for (const auto& m : d.steps) metrics_->append(d.request.id, m);
            for (const auto& m : d.marks) metrics_->addMark(d.request.id, m);
        }
        if (overlayTickets_.isEmpty()) finishOverlay();
    }
}

void MainWindow::overlayRuns(const QStringList& ids, const QStringList& dirs) {
    overlayIds_ = ids;
    overlayTickets_.clear();  // an earlier overlay still loading is superseded
    const QStringList have = metrics_->runs();
    for (int i = 0; i < ids.size(); ++i) {
        if (have.contains(ids[i])) continue;
        if (i >= dirs.size()) {
            overlayIds_.removeAll(ids[i]);
            continue;
        }
        RunFolderRequest r;
        r.id = ids[i];
        r.dir = dirs[i];
        overlayTickets_ << loader_->read(r);
    }
    if (overlayTickets_.isEmpty()) finishOverlay();
    else status(QString("Loading %1 run(s) to overlay…").arg(overlayTickets_.size()));
}

void MainWindow::finishOverlay() {
    QStringList shown = overlayIds_;
    if (shown.isEmpty()) {
        showError("Overlay runs", "none of the selected runs has metrics yet");
        return;
    }
    const int selected = int(shown.size());
    if (selected > kMaxOverlaidRuns) shown = shown.mid(0, kMaxOverlaidRuns);
    monitor_->setShownRuns(shown);
    status(selected > kMaxOverlaidRuns ? QString("Showing the first %1 of %2 selected runs").arg(kMaxOverlaidRuns).arg(selected)
                                       : QString("Overlaying %1 runs").arg(selected));
    showScreen(Screen::Monitor);
    emit runsOverlaid(shown);
}

MetricChart* MainWindow::chartByTitle(const QString& title) const {
    for (auto* c : monitor_->charts())
        if (c->group().title == title) return c;
    return nullptr;
}

bool MainWindow::exportChart(const QString& title, const QString& path) {
    MetricChart* c = chartByTitle(title);
    if (!c) {
        showError("Export chart", QString("no chart named '%1'").arg(title));
        return false;
    }
    const QString ext = QFileInfo(path).suffix().toLower();
    try {
        if (ext == "png") c->exportPng(path);
        else if (ext == "svg") c->exportSvg(path);
        else if (ext == "csv") c->exportCsv(path);
        else throw std::runtime_error(QString("'%1': choose a .png, .svg or .csv file").arg(path).toStdString());
    } catch (const std::exception& e) {
        showError("Export chart", QString::fromUtf8(e.what()));
        return false;
    }
    status("Exported " + path);
    return true;
}

void MainWindow::exportDialog(const QString& kind) {
    QStringList titles;
    for (auto* c : monitor_->charts()) titles << c->group().title;
    if (titles.isEmpty()) {
        showError("Export chart", "there is no chart yet: start or open a run first");
        return;
    }
    bool ok = false;
    const QString title = QInputDialog::getItem(this, "Export chart", "Chart:", titles, 0, false, &ok);
    if (!ok) return;
    QString name = title;
    name.replace(QRegularExpression("[^A-Za-z0-9_-]+"), "_");
    const QString filter = kind == "png" ? "PNG images (*.png)" : kind == "svg" ? "SVG drawings (*.svg)" : "CSV tables (*.csv)";
    const QString path = QFileDialog::getSaveFileName(this, "Export chart", QDir(workspace_).filePath(name + "." + kind), filter);
    if (!path.isEmpty()) exportChart(title, path);
}

void MainWindow::sendPromptToListening() {
    const int row = prompts_->currentRow();
    if (row < 0) {
        status("Select a prompt in the library first");
        return;
    }
    try {
        listening_->addCandidate(library_->entry(row).id, library_->loadClip(row));
    } catch (const std::exception& e) {
        showError("A/B listening", QString::fromUtf8(e.what()));
        return;
    }
    status("Added " + library_->entry(row).id + " to the A/B listening screen");
}

void MainWindow::speakAnswers(const QString& student, const QString& teacher) {
    static int n = 0;
    ++n;
    const QString s = QString("student answer %1 (TTS)").arg(n), t = QString("teacher answer %1 (TTS)").arg(n);
    // Speech synthesis runs on a worker thread; the clips reach the A/B screen when they are ready.
    status("Speaking both answers…");
    runInBackground(
        this, [student = student.toStdString(), teacher = teacher.toStdString()] { return session::Session::speakAnswers(student, teacher); },
        [this, s, t](const std::pair<audio::AudioClip, audio::AudioClip>& clips) {
            listening_->addCandidate(s, clips.first);
            listening_->addCandidate(t, clips.second);
            listening_->chooseConditions(s, t);
            showScreen(Screen::Listening);
        },
        [this](const QString& error) { showError("Text to speech", error); });
}

void MainWindow::listenToClips(const QString& nameA, const QString& pathA, const QString& nameB, const QString& pathB) {
    runInBackground(
        this,
        [a = pathA.toStdString(), b = pathB.toStdString()] { return std::make_pair(audio::readAudioFile(a), audio::readAudioFile(b)); },
        [this, nameA, nameB](const std::pair<audio::AudioClip, audio::AudioClip>& clips) {
            listening_->addCandidate(nameA, clips.first);
            listening_->addCandidate(nameB, clips.second);
            listening_->chooseConditions(nameA, nameB);
            showScreen(Screen::Listening);
            status("A/B listening: " + nameA + " vs " + nameB);
        },
        [this](const QString& error) { showError("A/B listening", error); });
}

KeyReferenceDialog* MainWindow::keyReference() {
    if (!keyReference_) keyReference_ = new KeyReferenceDialog([this] { return keyGroups(); }, this);
    return keyReference_;
}

void MainWindow::setDarkTheme(bool dark) {
    applyTheme(dark ? ThemeKind::Dark : ThemeKind::Light);
    QSettings().setValue("view/theme", dark ? "dark" : "light");
    if (darkAction_->isChecked() != dark) darkAction_->setChecked(dark);
    historyModel_->coloursChanged();
    for (auto* c : monitor_->charts()) c->refresh(true);
}

void MainWindow::recordLayout() {
    if (restoringLayout_ || layoutPending_) return;
    layoutPending_ = true;
    // Coalesce the burst of signals one drag produces into one undo step.
    QTimer::singleShot(0, this, [this] {
        layoutPending_ = false;
        const QByteArray now = saveState(kStateVersion);
        if (now == lastState_) return;
        layoutUndo_ << lastState_;
        if (layoutUndo_.size() > 50) layoutUndo_.removeFirst();
        lastState_ = now;
        undoLayout_->setEnabled(true);
    });
}

void MainWindow::undoLayout() {
    if (layoutUndo_.isEmpty()) return;
    restoringLayout_ = true;
    restoreState(layoutUndo_.takeLast(), kStateVersion);
    restoringLayout_ = false;
    lastState_ = saveState(kStateVersion);
    undoLayout_->setEnabled(!layoutUndo_.isEmpty());
    status("Layout change undone");
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings s;
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState(kStateVersion));
    followTimer_->stop();
    keeper_->flush();
    QMainWindow::closeEvent(event);
}

}  // namespace xopd::widgets
