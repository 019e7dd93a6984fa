#pragma once
// The live run monitor: run controls (start, pause, resume, stop, cancel) with a state badge; a
// progress line (step/total, elapsed, ETA, tokens/s, GPU memory); the metric charts, split by
// stream, sharing one set of display options (smoothing, x axis, outlier-ignoring autoscale,
// log-y, rectangle zoom, synchronised x zoom, legend on/off); hot edits of lambda, lr and
// temperature while paused; a "stalled" hint.
//
// The charts (~40) sit in a scrolling grid whose column count follows the width; a filter box
// (name or regex) hides the charts that do not match, pinned charts come first and are never
// filtered out. The wheel scrolls the page, Ctrl+wheel zooms a chart. Pause, resume, hot edits and
// checkpoints of the run are added to the MetricStore as marks, drawn on the charts' x axes. For a
// data-parallel run a panel shows the world size and each rank's step time (RankTimesPanel.h).
//
// Data path: the RunBridge drains worker events on the GUI thread into the MetricStore and
// TokenStore immediately (cheap appends); a 100 ms QTimer (≤ 10 Hz) queues the charts and a
// zero-interval timer redraws one visible chart whose data changed per event-loop pass, with
// rpQueuedReplot. The monitor owns the current RunControl. GUI thread only.

#include "core/run/RunRetirement.h"
#include "widgets/charts/MetricChart.h"
#include "widgets/run/RunBridge.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QWidget>

#include <memory>

class QAction;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGridLayout;
class QLabel;
class QLineEdit;
class QScrollArea;
class QProgressBar;
class QPushButton;
class QSlider;
class QTimer;

namespace xopd::widgets {

class LogPanel;
class RankTimesPanel;
class TokenStore;

class RunMonitorWidget : public QWidget {
    Q_OBJECT
public:
    RunMonitorWidget(MetricStore* metrics, TokenStore* tokens, LogPanel* log, QWidget* parent = nullptr);
    ~RunMonitorWidget() override;

    /// Takes ownership of a run (replacing and cancelling any previous one) and observes it.
    /// `runId` names its series in the metric store. The run is not started.
    void setRun(std::unique_ptr<RunControl> control, const QString& runId);
    RunControl* run() const { return control_.get(); }
    RunBridge* bridge() const { return bridge_; }
    QString runId() const { return runId_; }

    /// Runs overlaid on the charts (empty: every run in the store).
    void setShownRuns(const QStringList& runIds);
    /// Adds a run to those shown (a new, resumed or opened run joins the runs already on the
    /// charts, each line named by its run), keeping the newest kMaxShownRuns.
    void addShownRun(const QString& runId);
    QStringList shownRuns() const { return shownRuns_; }
    static constexpr int kMaxShownRuns = 10;
    /// Narrowest chart column (px): the grid has width / kChartMinWidth columns, at least one.
    static constexpr int kChartMinWidth = 420;
    ChartOptions chartOptions() const { return options_; }
    void setChartOptions(const ChartOptions& options);
    QList<MetricChart*> charts() const { return charts_; }
    /// Shows only the charts whose title or metric keys match `pattern` (a case-insensitive
    /// regular expression; text that is not a valid one is matched literally); pinned charts stay.
    void setChartFilter(const QString& pattern);
    /// Columns of the chart grid (follows the width of the chart area).
    int chartColumns() const { return columns_; }
    /// The chart area (a scroll area); tests scroll it.
    QWidget* chartArea() const;

    /// Actions of this screen (controls, chart options), for menus and the key reference.
    QList<QAction*> screenActions() const { return actions_; }
    QAction* startAction() const { return start_; }
    QAction* pauseAction() const { return pause_; }
    QAction* resumeAction() const { return resume_; }
    QAction* stopAction() const { return stop_; }
    QAction* cancelAction() const { return cancel_; }
    /// Redraw interval of the charts (ms); default 100 (10 Hz).
    void setRedrawInterval(int ms);
    /// Redraws now (tests).
    void redrawNow();
    /// The data-parallel panel: world size and per-rank step times of the run shown (tests).
    RankTimesPanel* rankTimes() const { return rankTimes_; }
    /// Text of the progress line and the badge (tests).
    QString progressText() const;
    QString badgeText() const;
    /// The values of the hot-editable knobs the run runs with (its config plus its hot edits; the
    /// main window sets them with the run). The fields show these, and an accepted edit replaces them.
    void setKnobsInForce(double lambda, double lr, double temperature);
    /// What the hot-edit field `name` ("lambda", "lr", "temperature") shows (tests).
    double knobFieldValue(const QString& name) const;

signals:
    /// Start was pressed with no run open: the main window builds one from the set-up screen.
    void newRunRequested();
    void runStateChanged(xopd::RunState state);

private:
    void buildCharts();
    void layoutCharts();
    bool eventFilter(QObject* watched, QEvent* event) override;
    void addMark(RunMarkKind kind, double step, const QString& text = {});
    void onStep(const StepMetrics& m);
    void onState(RunState state, const QString& reason);
    void updateControls();
    void updateProgress();
    void applyKnobs();
    /// The run whose ranks the data-parallel panel shows: the live run when it is data parallel,
    /// else the last shown run that is ("" when none).
    QString rankTimesRun() const;

    MetricStore* metrics_;
    TokenStore* tokens_;
    LogPanel* log_;
    RunBridge* bridge_;
    run::RunRetirement retired_;  ///< replaced runs stop there (declared before control_)
    std::unique_ptr<RunControl> control_;
    QString runId_;
    QStringList shownRuns_;
    ChartOptions options_;
    QList<MetricChart*> charts_;
    QList<QPointer<MetricChart>> extraCharts_;
    QTimer* redraw_;
    QTimer* drawTimer_;                       ///< draws one queued chart per event-loop pass
    QList<QPointer<MetricChart>> drawQueue_;  ///< charts to refresh, queued by redraw_

    QLabel* badge_;
    QProgressBar* progress_;
    QLabel* progressLabel_;
    QLabel* stalled_;
    QSlider* smoothing_;
    QLabel* smoothingLabel_;
    QComboBox* xAxis_;
    QCheckBox* outliers_;
    QCheckBox* logY_;
    QCheckBox* rectZoom_;
    QCheckBox* syncX_;
    QCheckBox* legend_;
    QLineEdit* filter_;
    QScrollArea* scroll_;
    int columns_ = 2;
    RunState lastState_ = RunState::Idle;
    QDoubleSpinBox* lambda_;
    QDoubleSpinBox* lr_;
    QDoubleSpinBox* temperature_;
    QPushButton* applyKnobs_;
    RankTimesPanel* rankTimes_;
    QGridLayout* grid_;
    QWidget* gridHost_;

    QAction *start_, *pause_, *resume_, *stop_, *cancel_, *fit_, *toggleLogY_;
    QList<QAction*> actions_;

    qint64 step_ = 0, maxSteps_ = 0;
    double elapsedS_ = 0, tokensPerS_ = qQNaN(), gpuMemGb_ = qQNaN();
    QElapsedTimer sinceStep_;
    double meanInterval_ms_ = 0;
    double inForce_[3] = {qQNaN(), qQNaN(), qQNaN()};  ///< lambda, lr, temperature in force
    void showKnobsInForce();
};

}  // namespace xopd::widgets
