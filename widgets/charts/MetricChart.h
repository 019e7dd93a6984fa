#pragma once
// One scalar chart: the series of a ChartGroup for each shown run, smoothed by a debiased EMA with
// the raw series drawn faintly behind, NaN/Inf marked, outlier-ignoring autoscale, log-y, x by
// step / relative time / wall time, a TensorBoard-style hover table, drag/rectangle zoom, and
// export to PNG/SVG (white background) and CSV.
//
// As in TensorBoard and W&B: with several runs every line is named by its run (legend and hover
// table) and coloured by it (RunColors); the legend sits under the plot, outside the data, or is
// hidden (ChartOptions::showLegend); piecewise-constant series (lr, λ, temperature) are drawn as
// unsmoothed steps; pauses, resumes, hot edits and checkpoints (MetricStore marks) are marked on
// the x axis; the mouse wheel is left to the page (a scroll area scrolls) and Ctrl+wheel zooms; the
// hover table is a child of the chart, kept inside it; SVG export clips every line to the plot area
// (QSvgGenerator in Qt 6.4 ignores clip rectangles).
//
// It never redraws by itself on data arrival: the owner calls refresh() from a ≤ 10 Hz timer, and
// refresh() skips hidden charts (the next show catches up). GUI thread only.

#include "widgets/charts/MetricStore.h"

#include <QPointer>
#include <QWidget>

class QCustomPlot;
class QCPAbstractItem;
class QCPGraph;
class QLabel;
class QMouseEvent;

namespace xopd::widgets {

enum class XAxisKind { Invalid = 0, Step, RelativeTime, WallTime };

/// Display options shared by all charts of a monitor.
struct ChartOptions {
    double smoothing = 0.6;          ///< EMA weight in [0, 0.999]; TensorBoard's default
    XAxisKind xAxis = XAxisKind::Step;  ///< what the x axis shows
    bool ignoreOutliers = true;      ///< autoscale y to the 1st–99th percentile
    bool logY = false;               ///< logarithmic y axis
    bool rectZoom = false;           ///< left-drag draws a zoom rectangle instead of panning
    bool showLegend = true;          ///< legend under the plot area; false hides it
};

/// A mark as drawn (tests): its x in the chart's current x units and its label.
struct DrawnMark {
    double x = 0;
    QString label;
};

class MetricChart : public QWidget {
    Q_OBJECT
public:
    MetricChart(MetricStore* store, ChartGroup group, QWidget* parent = nullptr);

    const ChartGroup& group() const { return group_; }
    /// Runs to draw (all runs of the store when empty).
    void setRuns(const QStringList& runIds);
    void setOptions(const ChartOptions& options);
    /// Redraws when the store changed since the last draw and the chart is visible.
    /// Returns true when it replotted.
    bool refresh(bool force = false);
    /// Back to automatic ranges.
    void fitToData();
    /// Sets the x range without emitting xRangeEdited (synchronised zoom).
    void setXRange(double lower, double upper);

    /// Exports on a white background. Throws xopd::Error when the file cannot be written.
    void exportPng(const QString& path, int width = 1200, int height = 600);
    void exportSvg(const QString& path, int width = 1200, int height = 600);
    void exportCsv(const QString& path) const;

    /// Pinned charts come first in the monitor and stay visible whatever its filter; the title
    /// shows a pin. Emits pinToggled when it changes.
    void setPinned(bool pinned);
    bool isPinned() const { return pinned_; }

    /// Number of replots so far (for tests and the benchmark).
    int replotCount() const { return replots_; }
    /// Number of points drawn in the raw series of `key` for `runId` (tests).
    int pointCount(const QString& runId, const QString& key) const;
    QCustomPlot* plot() const { return plot_; }
    /// HTML of the hover table at a pixel x (empty when there is no data); public for tests.
    QString tooltipHtmlAt(double pixelX, double pixelY) const;
    /// Shows the hover table for the pointer at `pos` (plot coordinates), inside the chart; hides it
    /// outside the plot area. Called on mouse moves; public for tests.
    void hoverAt(const QPoint& pos);
    /// The hover table's widget (a child of the plot).
    QLabel* hoverLabel() const { return hover_; }
    /// Name of a drawn line in the legend ("" when there is no such line).
    QString lineName(const QString& runId, const QString& key) const;
    /// Marks drawn at the last refresh, in the order of the shown runs (tests).
    const std::vector<DrawnMark>& drawnMarks() const { return drawnMarks_; }

signals:
    /// The user panned or zoomed the x axis (the monitor mirrors it to other charts).
    void xRangeEdited(double lower, double upper);
    /// The user asked to see this chart full size.
    void fullSizeRequested(MetricChart* chart);
    /// The chart was pinned or unpinned.
    void pinToggled(MetricChart* chart, bool pinned);

protected:
    void showEvent(QShowEvent* event) override;
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    struct Line {
        QString runId;
        QString key;
        QCPGraph* raw = nullptr;
        QCPGraph* smooth = nullptr;
        std::vector<double> x, smoothed;  ///< as drawn, for the tooltip
        const MetricSeries* series = nullptr;
        bool steps = false;  ///< piecewise constant: unsmoothed steps
    };
    QStringList shownRuns() const;
    void clearLines();
    void rebuildLines();
    void drawMarks();
    void placeLegend();
    void updateTitle();
    void applyColors(bool forExport);
    void applyAxes();
    double xOf(const MetricSeries& s, size_t i) const;
    void onMouseMove(QMouseEvent* event);
    void showContextMenu(const QPoint& pos);
    void exportDialog(const QString& kind);

    MetricStore* store_;
    ChartGroup group_;
    QStringList runIds_;
    ChartOptions options_;
    QCustomPlot* plot_;
    QCPGraph* nanGraph_ = nullptr;
    std::vector<Line> lines_;
    std::vector<QCPAbstractItem*> markItems_;
    std::vector<DrawnMark> drawnMarks_;
    QLabel* hover_ = nullptr;
    bool pinned_ = false;
    quint64 drawnRevision_ = ~quint64(0);
    bool autoFit_ = true;
    bool settingRange_ = false;
    bool dirty_ = true;
    int replots_ = 0;
};

}  // namespace xopd::widgets
