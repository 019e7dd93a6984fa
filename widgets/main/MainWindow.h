#pragma once
// The workbench main window. Every screen is a dock (prompt library, Ask, models and run set-up,
// live run monitor, token view, A/B listening, run history, gap explorer, log), tabbed together by
// default; the layout is saved and restored with QSettings (saveState/restoreState), Ctrl+Z undoes
// a layout change, and View → Reset layout brings the default back. Every command is a QAction with a
// shortcut and a status tip, collected per screen into the menus and the F2 key reference. Light
// and dark palettes (Fusion). A status bar shows the run state and the workspace.
//
// It opens on the demo kit (core/demokit/DemoKit.h): its prompts fill the library (read on a worker
// thread), its models the set-up
// and Ask screens. When the kit is missing it says so in a banner, with the command that builds it
// (`xopd demo-kit build`), and falls back to the built-in toy models. The banner's Build button (or
// WorkbenchOptions::buildDemoKit, `make run`) builds the kit in the background, in a
// DemoKitBuildProcess (`xopd demo-kit build` as a child process), with a progress bar and Cancel; the toy models serve meanwhile
// and the kit's models and prompts are taken in when it is ready, without a restart.
//
// Runs: "New run" turns the set-up screen's config into WORKSPACE/runs/<time>-<method>/ through
// core run::RunController on its worker thread; the monitor, token view and history follow it
// through the RunBridge. The GUI thread never waits for training. GUI thread only.

#include "core/session/Session.h"
#include "widgets/main/KeyReference.h"
#include "widgets/main/WorkbenchOptions.h"

#include <QMainWindow>
#include <QPointer>

#include <memory>
#include <vector>

class QAction;
class QDockWidget;
class QLabel;
class QTimer;

namespace xopd::widgets {

class AbListeningWidget;
class AskWidget;
class DemoKitBanner;
class DemoKitBuildProcess;
class GapExplorerWidget;
class KeyReferenceDialog;
class LibraryKeeper;
class LogPanel;
class MetricChart;
class MetricStore;
class PromptLibraryModel;
class PromptLibraryWidget;
class RunFolderLoader;
struct RunFolderData;
class RunHistoryModel;
class RunHistoryWidget;
class RunMonitorWidget;
class RunSetupWidget;
class TokenStore;
class TokenView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    /// The screens, in tab order (Ctrl+1 … Ctrl+9 raise them).
    enum class Screen { Prompts = 0, Ask, Setup, Monitor, Tokens, Listening, History, Gaps, Log, Count };

    explicit MainWindow(WorkbenchOptions options = {}, QWidget* parent = nullptr);
    ~MainWindow() override;

    // Screens and stores (tests, screenshots).
    QDockWidget* dock(Screen s) const { return docks_[int(s)]; }
    void showScreen(Screen s);
    static QString screenTitle(Screen s);
    RunMonitorWidget* monitor() const { return monitor_; }
    AskWidget* askScreen() const { return ask_; }
    RunSetupWidget* setupScreen() const { return setup_; }
    TokenView* tokenView() const { return tokenView_; }
    RunHistoryWidget* historyScreen() const { return history_; }
    RunHistoryModel* historyModel() const { return historyModel_; }
    PromptLibraryWidget* promptScreen() const { return prompts_; }
    PromptLibraryModel* promptLibrary() const { return library_; }
    /// Keeps the library in WORKSPACE/prompts/library.json.
    LibraryKeeper* libraryKeeper() const { return keeper_; }
    AbListeningWidget* listeningScreen() const { return listening_; }
    GapExplorerWidget* gapExplorer() const { return gaps_; }
    MetricStore* metrics() const { return metrics_; }
    TokenStore* tokens() const { return tokens_; }
    LogPanel* logPanel() const { return log_; }

    /// Action groups of every screen, for the menus and the key reference.
    QList<KeyGroup> keyGroups() const;
    /// The key reference window (created on first use).
    KeyReferenceDialog* keyReference();

    QString workspace() const { return workspace_; }
    QString runsFolder() const;
    /// Switches workspace (creates WORKSPACE/runs); refreshes the run history; writes the previous
    /// workspace's prompt library and reads this one's (an unreadable library.json is reported,
    /// kept as it is, and not written over).
    void setWorkspace(const QString& folder);
    /// "" when the demo kit opened, else why not (shown in the banner).
    QString demoKitProblem() const { return kitProblem_; }
    /// Builds the missing demo kit into its folder in the background (the banner shows the
    /// progress); it is opened when built. Returns false when a kit is open or a build runs.
    bool buildDemoKit();
    /// Asks a running kit build to stop (within one step; nothing of it is kept).
    void cancelDemoKitBuild();
    bool demoKitBuilding() const { return kitBuilding_; }
    DemoKitBanner* demoKitBanner() const { return kitBanner_; }

    /// Starts a new run from the set-up screen. Returns false (error shown and logged) on a bad config
    /// or while the monitor's run is still live (running, pausing, paused, stopping).
    bool startNewRun();
    /// Resumes the run in `dir` from its last checkpoint on the monitor. Returns false on error.
    /// The steps up to the checkpoint are read on a worker thread; the run starts once they are in
    /// the metric store (so its new steps follow them).
    bool resumeRun(const QString& dir);
    /// Forks `dir` at checkpoint `step` into a new run folder and starts it. Returns the new folder
    /// ("" and the error shown when `dir` has no such checkpoint). The checkpoint is copied on a
    /// worker thread; the fork starts, and runForked() is emitted, when the copy is done.
    QString forkRun(const QString& dir, qint64 step);
    /// Loads a run folder's metrics and tokens and follows it while it is written. The folder is
    /// read on a worker thread (RunFolderLoader): this returns at once, true when `dir` looks like
    /// a run folder (false, error shown, when it has no metrics.sqlite); read errors are shown when
    /// they come back. runFolderLoaded() says when the first read is in the stores.
    bool openRunFolder(const QString& dir);
    /// Overlays runs (loaded from their folders, on a worker thread, when not in the metric store)
    /// on the charts; at most the first 10, with a "showing the first 10" notice in the status bar.
    void overlayRuns(const QStringList& ids, const QStringList& dirs);
    /// Run-folder reads still in flight (open, follow, overlay, resume).
    int pendingRunReads() const;
    /// Exports the monitor chart `title` as PNG, SVG (by extension) or CSV. Returns false on error.
    bool exportChart(const QString& title, const QString& path);

    /// Light or dark palette (remembered).
    void setDarkTheme(bool dark);
    /// The last error shown to the user (tests).
    QString lastError() const { return lastError_; }

signals:
    /// The demo kit's prompts are in the library (they are read on a worker thread at start).
    void demoKitLoaded();
    /// A kit build ended: built (the kit is being opened), else cancelled or failed (`message`).
    void demoKitBuildEnded(bool built, const QString& message);
    /// openRunFolder's first read is in the metric and token stores (ok = false: it failed).
    void runFolderLoaded(const QString& dir, bool ok);
    /// overlayRuns has put the runs on the charts.
    void runsOverlaid(const QStringList& ids);
    /// forkRun's copy is done and the fork runs on the monitor.
    void runForked(const QString& dir);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildScreens();
    /// Resizes to `wanted`, or to the screen's available area when that is smaller.
    void fitToScreen(QSize wanted);
    void buildActions();
    void buildMenus();
    void defaultLayout();
    void openDemoKit(const QString& folder);
    void modelsChanged();
    void showError(const QString& title, const QString& message);
    void status(const QString& message);
    void recordLayout();
    void undoLayout();
    void followTick();
    void exportDialog(const QString& kind);
    void sendPromptToListening();
    void speakAnswers(const QString& student, const QString& teacher);
    /// Two clips of the gap explorer on the A/B screen (read on a worker thread).
    void listenToClips(const QString& nameA, const QString& pathA, const QString& nameB, const QString& pathB);
    MetricChart* chartByTitle(const QString& title) const;
    /// True (and an error shown) when the monitor's run is live.
    bool refuseIfLive(const QString& what);
    /// Re-reads the run history (worker thread); selects `id` when the rows arrive.
    void refreshHistory(const QString& select = {});
    void stopFollowing();
    void onRunFolderLoaded(quint64 ticket, const RunFolderData& data);
    void finishOverlay();

    WorkbenchOptions options_;
    QString workspace_;
    session::Session session_;  ///< the run life cycle (new / resume / fork / follow)
    QString kitFolder_, kitProblem_;
    QString lastError_;

    MetricStore* metrics_;
    TokenStore* tokens_;
    PromptLibraryModel* library_;
    LibraryKeeper* keeper_;
    RunHistoryModel* historyModel_;
    LogPanel* log_ = nullptr;
    PromptLibraryWidget* prompts_ = nullptr;
    AskWidget* ask_ = nullptr;
    RunSetupWidget* setup_ = nullptr;
    RunMonitorWidget* monitor_ = nullptr;
    TokenView* tokenView_ = nullptr;
    AbListeningWidget* listening_ = nullptr;
    RunHistoryWidget* history_ = nullptr;
    GapExplorerWidget* gaps_ = nullptr;
    QDockWidget* docks_[int(Screen::Count)] = {};
    QWidget* screenWidgets_[int(Screen::Count)] = {};  ///< each dock's screen (inside a scroll area for forms)
    QToolBar* banner_ = nullptr;
    DemoKitBanner* kitBanner_ = nullptr;
    DemoKitBuildProcess* kitBuild_ = nullptr;
    QString kitTarget_;  ///< the folder the missing kit was looked for in (where a build goes)
    bool kitBuilding_ = false;
    QLabel* stateLabel_ = nullptr;
    QLabel* workspaceLabel_ = nullptr;
    QPointer<KeyReferenceDialog> keyReference_;

    QList<QAction*> globalActions_, viewActions_, fileActions_, helpActions_;
    QAction* darkAction_ = nullptr;
    QAction* undoLayout_ = nullptr;

    QByteArray defaultState_, lastState_;
    QList<QByteArray> layoutUndo_;
    bool restoringLayout_ = false;
    bool layoutPending_ = false;

    // Run-folder reads on worker threads, and what each ticket is for.
    RunFolderLoader* loader_ = nullptr;
    QString historySelect_;
    // Following a run folder written elsewhere: one read at a time (followTicket_ != 0 in flight).
    QString followId_, followDir_;
    qint64 followStep_ = 0;
    quint64 followTicket_ = 0;
    bool followFirst_ = false;
    QTimer* followTimer_ = nullptr;
    // Overlay: the runs asked for, and the reads still missing.
    QStringList overlayIds_;
    QList<quint64> overlayTickets_;
    // Resume: the run waits for its earlier steps.
    quint64 resumeTicket_ = 0;
    // The live run's config and its first measured step times (they calibrate the set-up screen's
    // step-time estimate).
    distill::DistillConfig liveConfig_;
    QString liveId_;
    std::vector<double> liveStepSeconds_;
    void onLiveStep(const StepMetrics& m);
    /// The monitor's run is `id` with `config` (in force): knob fields and step-time calibration.
    void liveRunStarted(const QString& id, const distill::DistillConfig& config);
};

}  // namespace xopd::widgets
