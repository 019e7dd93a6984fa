#pragma once
// One scalar chart: the series of a ChartGroup for each shown run, smoothed by a debiased EMA with
// the raw series drawn faintly behind, NaN/Inf marked, outlier-ignoring autoscale, log-y, x by
// step / relative time / wall time, a TensorBoard-style hover table, drag/wheel/rectangle zoom, and
// export to PNG/SVG (white background) and CSV.
//
// It never redraws by itself on data arrival: the owner calls refresh() from a ≤ 10 Hz timer, and
// refresh() skips hidden charts (the next show catches up). GUI thread only.

#include "widgets/charts/MetricStore.h"

#include <QPointer>
#include <QWidget>

class QCustomPlot;
class QCPGraph;
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

    /// Number of replots so far (for tests and the benchmark).
    int replotCount() const { return replots_; }
    /// Number of points drawn in the raw series of `key` for `runId` (tests).
    int pointCount(const QString& runId, const QString& key) const;
    QCustomPlot* plot() const { return plot_; }
    /// HTML of the hover table at a pixel x (empty when there is no data); public for tests.
    QString tooltipHtmlAt(double pixelX, double pixelY) const;

signals:
    /// The user panned or zoomed the x axis (the monitor mirrors it to other charts).
    void xRangeEdited(double lower, double upper);
    /// The user asked to see this chart full size.
    void fullSizeRequested(MetricChart* chart);

protected:
    void showEvent(QShowEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    struct Line {
        QString runId;
        QString key;
        QCPGraph* raw = nullptr;
        QCPGraph* smooth = nullptr;
        std::vector<double> x, smoothed;  ///< as drawn, for the tooltip
        const MetricSeries* series = nullptr;
    };
    void rebuildLines();
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
    quint64 drawnRevision_ = ~quint64(0);
    bool autoFit_ = true;
    bool settingRange_ = false;
    bool dirty_ = true;
    int replots_ = 0;
};

}  // namespace xopd::widgets
