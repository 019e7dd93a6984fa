#include "widgets/charts/MetricChart.h"

#include "core/common/Error.h"
#include "widgets/charts/Smoothing.h"
#include "widgets/common/RunColors.h"
#include "widgets/common/Theme.h"

#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QLabel>
#include <QMenu>
#include <QResizeEvent>
#include <QSvgGenerator>
#include <QTextStream>
#include <QToolTip>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace xopd::widgets {

namespace {
bool isSpeech(const QString& key) { return key.startsWith("speech/") || key.startsWith("cm/"); }
// A data-parallel rank's line ("dp/rank_step_s/1"): its rank, else -1.
int rankOf(const QString& key) { return key.startsWith(kRankStepPrefix) ? key.mid(int(qstrlen(kRankStepPrefix))).toInt() : -1; }
QString streamLabel(const QString& key) {
    if (rankOf(key) >= 0) return QString("rank %1").arg(rankOf(key));
    if (isSpeech(key)) return "speech";
    if (key.startsWith("text/") || key.startsWith("im/")) return "text";
    return key;
}
// A stream's name, or "" for a metric that has none ("loss").
QString streamOf(const QString& key) {
    if (rankOf(key) >= 0) return QString("rank %1").arg(rankOf(key));
    if (isSpeech(key)) return "speech";
    if (key.startsWith("text/") || key.startsWith("im/")) return "text";
    return {};
}
// The line's name: by run when several runs are shown (TensorBoard and W&B name every line by
// its run), by stream otherwise.
QString nameOf(const QString& run, const QString& key, bool multiRun) {
    if (!multiRun) return streamLabel(key);
    const QString stream = streamOf(key);
    return stream.isEmpty() ? run : run + " · " + stream;
}
// Leaves the mouse wheel to the page (the monitor's scroll area scrolls) unless Ctrl is held, which
// zooms the chart. QCustomPlot accepts every wheel event, so it cannot reach the page otherwise.
class ChartPlot : public QCustomPlot {
public:
    explicit ChartPlot(QWidget* parent) : QCustomPlot(parent) {
        // QCustomPlot stops every mouse event at itself; the wheel events it leaves must go on to
        // the page (its own mouse events it accepts, so they stop here anyway).
        setAttribute(Qt::WA_NoMousePropagation, false);
    }
    /// Lays the plot out in `viewport` (as toPainter() does at an export size) without drawing.
    void layoutIn(const QRect& viewport) {
        setViewport(viewport);
        updateLayout();
    }

protected:
    void wheelEvent(QWheelEvent* event) override {
        if (event->modifiers() & Qt::ControlModifier) QCustomPlot::wheelEvent(event);
        else event->ignore();  // propagates to the parent widgets
    }
};

// Liang–Barsky: clips the segment a→b to `r`; false when nothing of it is inside.
bool clipSegment(QPointF& a, QPointF& b, const QRectF& r) {
    double t0 = 0, t1 = 1;
    const double dx = b.x() - a.x(), dy = b.y() - a.y();
    const double p[4] = {-dx, dx, -dy, dy};
    const double q[4] = {a.x() - r.left(), r.right() - a.x(), a.y() - r.top(), r.bottom() - a.y()};
    for (int i = 0; i < 4; ++i) {
        if (p[i] == 0) {
            if (q[i] < 0) return false;
            continue;
        }
        const double t = q[i] / p[i];
        if (p[i] < 0) t0 = std::max(t0, t);
        else t1 = std::min(t1, t);
        if (t0 > t1) return false;
    }
    const QPointF a0 = a;
    a = a0 + t0 * QPointF(dx, dy);
    b = a0 + t1 * QPointF(dx, dy);
    return true;
}

// The part of a graph's polyline inside the axis rect, as data (NaN between the pieces, which
// QCPGraph draws as gaps); a step graph is first written out as its corners. For the SVG export.
void clipGraphToAxisRect(QCPGraph* g, QVector<double>& keys, QVector<double>& values) {
    QCPAxis* xa = g->keyAxis();
    QCPAxis* ya = g->valueAxis();
    const QRectF rect = QRectF(g->keyAxis()->axisRect()->rect()).adjusted(-0.5, -0.5, 0.5, 0.5);
    if (g->lineStyle() == QCPGraph::lsNone) {  // markers only: keep those inside
        for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
            if (rect.contains(QPointF(xa->coordToPixel(it->key), ya->coordToPixel(it->value)))) {
                keys << it->key;
                values << it->value;
            }
        return;
    }
    std::vector<QPointF> pts;  // pixels; NaN y = gap
    const bool steps = g->lineStyle() == QCPGraph::lsStepLeft;
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
        if (!std::isfinite(it->value)) {
            pts.emplace_back(xa->coordToPixel(it->key), qQNaN());
            continue;
        }
        const QPointF p(xa->coordToPixel(it->key), ya->coordToPixel(it->value));
        if (steps && !pts.empty() && std::isfinite(pts.back().y())) pts.emplace_back(p.x(), pts.back().y());
        pts.push_back(p);
    }
    auto emit_ = [&](const QPointF& p) {
        keys << xa->pixelToCoord(p.x());
        values << ya->pixelToCoord(p.y());
    };
    auto gap = [&](double key) {
        if (!values.isEmpty() && !std::isnan(values.back())) {
            keys << key;
            values << qQNaN();
        }
    };
    bool open = false;  // the last emitted point ends the current piece
    QPointF last;
    for (size_t i = 0; i < pts.size(); ++i) {
        const bool isolated = std::isfinite(pts[i].y()) && (i == 0 || !std::isfinite(pts[i - 1].y())) &&
                              (i + 1 == pts.size() || !std::isfinite(pts[i + 1].y()));
        if (isolated && rect.contains(pts[i])) {  // a lone point (drawn as a dot) stays when inside
            gap(xa->pixelToCoord(pts[i].x()));
            emit_(pts[i]);
            gap(xa->pixelToCoord(pts[i].x()));
            open = false;
            continue;
        }
        if (i == 0) continue;
        QPointF a = pts[i - 1], b = pts[i];
        if (!std::isfinite(a.y()) || !std::isfinite(b.y())) {
            open = false;
            continue;
        }
        if (!clipSegment(a, b, rect)) {
            open = false;
            continue;
        }
        if (!open || a != last) {
            gap(xa->pixelToCoord(a.x()));
            emit_(a);
        }
        emit_(b);
        last = b;
        open = true;
    }
}

QString fmt(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return QString::number(v, 'g', 5);
}
}  // namespace

MetricChart::MetricChart(MetricStore* store, ChartGroup group, QWidget* parent)
    : QWidget(parent), store_(store), group_(std::move(group)), plot_(new ChartPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    setMinimumSize(280, 180);
    plot_->setNoAntialiasingOnDrag(true);
    // Wide antialiased polylines are stroked as polygons by the raster engine: the bulk of a
    // replot's cost. Drawn segment by segment they cost a fraction (joins are slightly rougher).
    plot_->setPlottingHint(QCP::phFastPolylines, true);
    plot_->plotLayout()->insertRow(0);
    plot_->plotLayout()->addElement(0, 0, new QCPTextElement(plot_, group_.title, QFont(font().family(), 9, QFont::Bold)));
    // The legend goes under the axis rect (row 2), never over the data; placeLegend() puts it there.
    plot_->legend->setFont(QFont(font().family(), 7));
    plot_->legend->setRowSpacing(-3);
    plot_->legend->setColumnSpacing(6);
    plot_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    plot_->axisRect()->insetLayout()->take(plot_->legend);
    plot_->axisRect()->insetLayout()->simplify();
    hover_ = new QLabel(plot_);
    hover_->setObjectName("chartHoverTable");
    hover_->setTextFormat(Qt::RichText);
    hover_->setAttribute(Qt::WA_TransparentForMouseEvents);
    hover_->setAutoFillBackground(true);
    hover_->setFrameShape(QFrame::Box);
    hover_->setStyleSheet("QLabel#chartHoverTable{background:#fdfdf6;color:#111;border:1px solid #888;padding:2px}");
    hover_->hide();
    plot_->installEventFilter(this);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->setContextMenuPolicy(Qt::CustomContextMenu);
    nanGraph_ = plot_->addGraph();
    nanGraph_->setName("NaN/Inf");
    nanGraph_->setLineStyle(QCPGraph::lsNone);
    nanGraph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, 9));
    nanGraph_->removeFromLegend();
    connect(plot_, &QCustomPlot::customContextMenuRequested, this, &MetricChart::showContextMenu);
    connect(plot_, &QCustomPlot::mouseMove, this, &MetricChart::onMouseMove);
    plot_->setMouseTracking(true);
    connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent*) { fitToData(); });
    connect(plot_->xAxis, QOverload<const QCPRange&>::of(&QCPAxis::rangeChanged), this, [this](const QCPRange& r) {
        if (settingRange_) return;
        autoFit_ = false;
        emit xRangeEdited(r.lower, r.upper);
    });
    connect(plot_->yAxis, QOverload<const QCPRange&>::of(&QCPAxis::rangeChanged), this, [this](const QCPRange&) {
        if (!settingRange_) autoFit_ = false;
    });
    applyColors(false);
    applyAxes();
    placeLegend();
}

QStringList MetricChart::shownRuns() const { return runIds_.isEmpty() ? store_->runs() : runIds_; }

void MetricChart::clearLines() {
    // The graphs go with their lines: a line that is no longer listed must not stay on the plot
    // (a new run once kept the previous run's lines, unnamed, in the same colours).
    for (auto& l : lines_) {
        plot_->removeGraph(l.raw);
        plot_->removeGraph(l.smooth);
    }
    lines_.clear();
}

void MetricChart::setRuns(const QStringList& runIds) {
    runIds_ = runIds;
    clearLines();
    dirty_ = true;
}

void MetricChart::setPinned(bool pinned) {
    if (pinned == pinned_) return;
    pinned_ = pinned;
    updateTitle();
    plot_->replot(QCustomPlot::rpQueuedReplot);
    emit pinToggled(this, pinned);
}

void MetricChart::updateTitle() {
    if (auto* title = qobject_cast<QCPTextElement*>(plot_->plotLayout()->element(0, 0)))
        title->setText(pinned_ ? QString::fromUtf8("\u25C6 ") + group_.title : group_.title);
}

void MetricChart::placeLegend() {
    QCPLayoutGrid* layout = plot_->plotLayout();
    const bool show = options_.showLegend && !lines_.empty();
    const bool placed = plot_->legend->layout() == layout;
    if (show && !placed) {
        layout->addElement(2, 0, plot_->legend);
        layout->setRowStretchFactor(2, 0.001);
        plot_->legend->setMargins(QMargins(4, 0, 4, 2));
    } else if (!show && placed) {
        layout->take(plot_->legend);
        layout->simplify();
    }
    plot_->legend->setVisible(show);
    // As many entries per row as fit the chart's width.
    int widest = 60;
    for (int i = 0; i < plot_->legend->itemCount(); ++i)
        if (auto* item = plot_->legend->item(i)) widest = std::max(widest, int(item->minimumOuterSizeHint().width()) + 6);
    plot_->legend->setWrap(std::max(1, (width() - 20) / widest));
}

void MetricChart::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    placeLegend();
}

void MetricChart::setOptions(const ChartOptions& options) {
    const bool axesChanged = options.xAxis != options_.xAxis || options.logY != options_.logY;
    const bool legendChanged = options.showLegend != options_.showLegend;
    options_ = options;
    if (legendChanged) placeLegend();
    plot_->setSelectionRectMode(options_.rectZoom ? QCP::srmZoom : QCP::srmNone);
    if (axesChanged) {
        applyAxes();
        autoFit_ = true;
    }
    dirty_ = true;
}

void MetricChart::fitToData() {
    autoFit_ = true;
    dirty_ = true;
    refresh(true);
}

void MetricChart::setXRange(double lower, double upper) {
    settingRange_ = true;
    plot_->xAxis->setRange(lower, upper);
    settingRange_ = false;
    autoFit_ = false;
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void MetricChart::applyColors(bool forExport) {
    const PlotColors c = plotColors(forExport ? ThemeKind::Light : currentTheme());
    plot_->setBackground(c.background);
    for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis}) {
        axis->setBasePen(QPen(c.foreground));
        axis->setTickPen(QPen(c.foreground));
        axis->setSubTickPen(QPen(c.foreground));
        axis->setTickLabelColor(c.foreground);
        axis->setLabelColor(c.foreground);
        axis->grid()->setPen(QPen(c.grid, 1, Qt::DotLine));
    }
    plot_->legend->setBrush(QBrush(c.background));
    plot_->legend->setTextColor(c.foreground);
    plot_->legend->setBorderPen(QPen(c.grid));
    if (auto* title = qobject_cast<QCPTextElement*>(plot_->plotLayout()->element(0, 0))) title->setTextColor(c.foreground);
    nanGraph_->setPen(QPen(c.nanMarker, 2));
}

void MetricChart::applyAxes() {
    switch (options_.xAxis) {
        case XAxisKind::WallTime: {
            auto ticker = QSharedPointer<QCPAxisTickerDateTime>::create();
            ticker->setDateTimeFormat("HH:mm:ss");
            plot_->xAxis->setTicker(ticker);
            plot_->xAxis->setLabel("wall time");
            break;
        }
        case XAxisKind::RelativeTime:
            plot_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
            plot_->xAxis->setLabel("relative time (s)");
            break;
        default:
            plot_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
            plot_->xAxis->setLabel("step");
    }
    if (options_.logY) {
        plot_->yAxis->setScaleType(QCPAxis::stLogarithmic);
        plot_->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    } else {
        plot_->yAxis->setScaleType(QCPAxis::stLinear);
        plot_->yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    }
}

double MetricChart::xOf(const MetricSeries& s, size_t i) const {
    switch (options_.xAxis) {
        case XAxisKind::RelativeTime: return s.wallS[i];
        case XAxisKind::WallTime: return s.unixS[i];
        default: return s.step[i];
    }
}

void MetricChart::rebuildLines() {
    clearLines();
    const QStringList runs = shownRuns();
    const bool multiRun = runs.size() > 1;
    const bool dark = currentTheme() == ThemeKind::Dark;
    for (const QString& run : runs) {
        for (const QString& key : group_.keys) {
            const MetricSeries* s = store_->series(run, key);
            if (!s) continue;
            Line l;
            l.runId = run;
            l.key = key;
            l.series = s;
            l.steps = isPiecewiseConstant(key);
            QColor color;
            // Ranks: the Okabe-Ito colours in turn.
            static const char* rankColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F7F7F", "#F0E442"};
            if (!multiRun && rankOf(key) >= 0)
                color = QColor(rankColors[rankOf(key) % 8]);
            else if (!multiRun)
                color = isSpeech(key) ? QColor(dark ? "#4FA3E0" : "#0072B2")
                                      : (group_.keys.size() > 1 ? QColor(dark ? "#FF8A4C" : "#D55E00")
                                                                : QColor(dark ? "#3CCB9A" : "#009E73"));
            else
                color = RunColors::color(run, dark);
            QColor faint = color;
            faint.setAlpha(60);
            l.raw = plot_->addGraph();
            l.raw->setPen(QPen(faint, 1));
            l.raw->removeFromLegend();
            l.raw->setVisible(!l.steps);  // a step series is drawn once, as it is
            l.smooth = plot_->addGraph();
            QPen pen(color, 2);
            if (multiRun && !isSpeech(key) && group_.keys.size() > 1) pen.setStyle(Qt::DashLine);
            l.smooth->setPen(pen);
            if (l.steps) l.smooth->setLineStyle(QCPGraph::lsStepLeft);
            l.smooth->setName(nameOf(run, key, multiRun));
            lines_.push_back(std::move(l));
        }
    }
    placeLegend();
}

void MetricChart::drawMarks() {
    for (QCPAbstractItem* item : markItems_) plot_->removeItem(item);
    markItems_.clear();
    drawnMarks_.clear();
    const QStringList runs = shownRuns();
    const bool dark = currentTheme() == ThemeKind::Dark;
    const QColor fg = plotColors(currentTheme()).foreground;
    for (const QString& run : runs) {
        bool hasLine = false;
        for (const auto& l : lines_) hasLine = hasLine || l.runId == run;
        if (!hasLine) continue;
        for (const RunMark& m : store_->marks(run)) {
            const double x = options_.xAxis == XAxisKind::RelativeTime ? m.wallS
                             : options_.xAxis == XAxisKind::WallTime   ? m.unixS
                                                                       : m.step;
            QString label = runMarkLabel(m.kind);
            if (!m.text.isEmpty()) label += " " + m.text;
            QColor c = runs.size() > 1 ? RunColors::color(run, dark) : fg;
            c.setAlpha(150);
            auto* line = new QCPItemStraightLine(plot_);
            line->point1->setCoords(x, 0);
            line->point2->setCoords(x, 1);
            line->setPen(QPen(c, 1, m.kind == RunMarkKind::Checkpoint ? Qt::DotLine : Qt::DashLine));
            line->setSelectable(false);
            auto* text = new QCPItemText(plot_);
            text->position->setTypeX(QCPItemPosition::ptPlotCoords);
            text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
            text->position->setCoords(x, 1.0);
            text->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
            text->setText(QString::fromUtf8("\u25B2") + label);  // ▲ on the x axis
            text->setFont(QFont(font().family(), 6));
            text->setColor(c);
            text->setPadding(QMargins(0, 0, 0, 1));
            text->setSelectable(false);
            markItems_.push_back(line);
            markItems_.push_back(text);
            drawnMarks_.push_back({x, label});
        }
    }
}

bool MetricChart::refresh(bool force) {
    if (!force && !dirty_ && drawnRevision_ == store_->revision()) return false;
    if (!force && !isVisible()) return false;  // hidden charts catch up on show
    // Re-resolve series pointers (a run may have gained the metric since the last draw).
    bool needRebuild = lines_.empty();
    const QStringList runs = shownRuns();
    int expected = 0;
    for (const QString& run : runs)
        for (const QString& key : group_.keys) expected += store_->series(run, key) ? 1 : 0;
    if (expected != int(lines_.size())) needRebuild = true;
    for (const auto& l : lines_)
        if (store_->series(l.runId, l.key) != l.series) needRebuild = true;
    if (!lines_.empty() && (runs.size() > 1) != (lines_.front().smooth->name() != streamLabel(lines_.front().key)))
        needRebuild = true;  // naming by run or by stream changed
    if (needRebuild) rebuildLines();

    std::vector<double> allY;
    double xMin = INFINITY, xMax = -INFINITY;
    QVector<double> nanX, nanKind;
    for (auto& l : lines_) {
        const MetricSeries& s = *l.series;
        const size_t n = s.value.size();
        const int count = int(n);
        QVector<double> x(count), raw(count), sm(count);
        l.smoothed = l.steps ? s.value : debiasedEma(s.value, options_.smoothing);
        l.x.resize(n);
        int finite = 0;
        for (size_t i = 0; i < n; ++i) {
            const double xv = xOf(s, i);
            l.x[i] = xv;
            x[int(i)] = xv;
            const double v = s.value[i];
            raw[int(i)] = std::isfinite(v) ? v : qQNaN();
            sm[int(i)] = std::isfinite(l.smoothed[i]) ? l.smoothed[i] : qQNaN();
            if (!std::isfinite(v)) {
                nanX << xv;
                nanKind << (std::isinf(v) && v > 0 ? 1.0 : 0.0);
            } else {
                allY.push_back(v);
                ++finite;
            }
            xMin = std::min(xMin, xv);
            xMax = std::max(xMax, xv);
        }
        l.raw->setData(x, raw, true);
        l.smooth->setData(x, sm, true);
        // A run's first point is a line of length zero: draw points as dots until there is a line.
        l.smooth->setScatterStyle(finite < 2 ? QCPScatterStyle(QCPScatterStyle::ssDisc, 6) : QCPScatterStyle());
    }
    settingRange_ = true;
    if (autoFit_) {
        if (std::isfinite(xMin)) {
            // A margin on both sides, so the first and the last point are not on the frame.
            const double pad = xMax > xMin ? 0.02 * (xMax - xMin) : 1.0;
            plot_->xAxis->setRange(xMin - pad, xMax + pad);
        }
        if (!allY.empty()) {
            const auto [lo, hi] = axisRange(allY, options_.ignoreOutliers, options_.logY);
            plot_->yAxis->setRange(lo, hi);
        }
    }
    settingRange_ = false;
    QVector<double> nanY;
    const QCPRange yr = plot_->yAxis->range();
    for (double k : nanKind) nanY << (k > 0 ? yr.upper : yr.lower);
    nanGraph_->setData(nanX, nanY, true);
    if (!nanX.isEmpty() && !nanGraph_->visible()) nanGraph_->setVisible(true);
    drawMarks();
    drawnRevision_ = store_->revision();
    dirty_ = false;
    plot_->replot(QCustomPlot::rpQueuedReplot);
    ++replots_;
    return true;
}

QString MetricChart::lineName(const QString& runId, const QString& key) const {
    for (const auto& l : lines_)
        if (l.runId == runId && l.key == key) return l.smooth->name();
    return {};
}

int MetricChart::pointCount(const QString& runId, const QString& key) const {
    for (const auto& l : lines_)
        if (l.runId == runId && l.key == key) return l.raw->dataCount();
    return 0;
}

void MetricChart::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    refresh();
}

void MetricChart::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        applyColors(false);
        dirty_ = true;
        lines_.clear();
        plot_->clearGraphs();
        markItems_.clear();
        plot_->clearItems();
        nanGraph_ = plot_->addGraph();
        nanGraph_->setLineStyle(QCPGraph::lsNone);
        nanGraph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, 9));
        nanGraph_->removeFromLegend();
        applyColors(false);
        refresh();
    }
}

namespace {
// The hover table's Run column always names the run, with the stream when the metric has one.
QString rowName(const QString& run, const QString& key) {
    const QString stream = streamOf(key);
    return stream.isEmpty() ? run : run + " · " + stream;
}
}  // namespace

QString MetricChart::tooltipHtmlAt(double pixelX, double pixelY) const {
    if (lines_.empty()) return {};
    const double x = plot_->xAxis->pixelToCoord(pixelX);
    struct Row {
        QString html;
        double dist;
    };
    std::vector<Row> rows;
    for (const auto& l : lines_) {
        if (l.x.empty()) continue;
        auto it = std::lower_bound(l.x.begin(), l.x.end(), x);
        size_t i = size_t(it - l.x.begin());
        if (i == l.x.size()) i = l.x.size() - 1;
        else if (i > 0 && std::abs(l.x[i - 1] - x) < std::abs(l.x[i] - x)) --i;
        const MetricSeries& s = *l.series;
        const double sm = l.smoothed[i];
        const double py = std::isfinite(sm) ? plot_->yAxis->coordToPixel(sm) : 1e9;
        const QColor c = l.smooth->pen().color();
        const QString time = QDateTime::fromMSecsSinceEpoch(qint64(s.unixS[i] * 1000)).toString("HH:mm:ss");
        const QString cells = QString("<td><span style='color:%1'>●</span> %2</td><td>%3</td><td>%4</td><td>%5</td>"
                                      "<td>%6</td><td>%7 s</td>")
                                  .arg(c.name(), rowName(l.runId, l.key).toHtmlEscaped(), fmt(sm), fmt(s.value[i]))
                                  .arg(qint64(s.step[i]))
                                  .arg(time)
                                  .arg(s.wallS[i], 0, 'f', 1);
        rows.push_back({cells, std::abs(py - pixelY)});
    }
    if (rows.empty()) return {};
    size_t best = 0;
    for (size_t i = 1; i < rows.size(); ++i)
        if (rows[i].dist < rows[best].dist) best = i;
    QString html = "<table cellspacing=0 cellpadding=2><tr><th>Run</th><th>Smoothed</th><th>Value</th><th>Step</th>"
                   "<th>Time</th><th>Relative</th></tr>";
    for (size_t i = 0; i < rows.size(); ++i)
        html += (i == best ? "<tr style='font-weight:bold;background-color:#fff3c4;color:#000'>" : "<tr>") +
                rows[i].html + "</tr>";
    return html + "</table>";
}

void MetricChart::onMouseMove(QMouseEvent* event) {
    if (event->buttons() != Qt::NoButton) {
        hover_->hide();
        return;
    }
    hoverAt(event->position().toPoint());
}

void MetricChart::hoverAt(const QPoint& pos) {
    const QString html = plot_->axisRect()->rect().contains(pos) ? tooltipHtmlAt(pos.x(), pos.y()) : QString();
    if (html.isEmpty()) {
        hover_->hide();
        return;
    }
    hover_->setText(html);
    hover_->setMaximumSize(plot_->size());
    hover_->adjustSize();
    // Beside the pointer, on whichever side keeps the table inside the chart.
    const QSize sz = hover_->size();
    int x = pos.x() + 14, y = pos.y() + 14;
    if (x + sz.width() > plot_->width()) x = pos.x() - 14 - sz.width();
    if (y + sz.height() > plot_->height()) y = pos.y() - 14 - sz.height();
    x = std::clamp(x, 0, std::max(0, plot_->width() - sz.width()));
    y = std::clamp(y, 0, std::max(0, plot_->height() - sz.height()));
    hover_->move(x, y);
    hover_->raise();
    hover_->show();
}

bool MetricChart::eventFilter(QObject* watched, QEvent* event) {
    if (watched == plot_ && (event->type() == QEvent::Leave || event->type() == QEvent::Hide)) hover_->hide();
    return QWidget::eventFilter(watched, event);
}

void MetricChart::showContextMenu(const QPoint& pos) {
    QMenu menu(this);
    menu.addAction("Fit to data", this, &MetricChart::fitToData);
    menu.addAction("Show full size", this, [this] { emit fullSizeRequested(this); });
    menu.addAction(pinned_ ? "Unpin chart" : "Pin chart (keep it first)", this, [this] { setPinned(!pinned_); });
    menu.addSeparator();
    menu.addAction("Export PNG…", this, [this] { exportDialog("png"); });
    menu.addAction("Export SVG…", this, [this] { exportDialog("svg"); });
    menu.addAction("Export data as CSV…", this, [this] { exportDialog("csv"); });
    menu.exec(plot_->mapToGlobal(pos));
}

void MetricChart::exportDialog(const QString& kind) {
    QString base = group_.title;
    base.replace('/', '_');
    const QString path = QFileDialog::getSaveFileName(this, "Export chart", base + "." + kind,
                                                      kind.toUpper() + " (*." + kind + ")");
    if (path.isEmpty()) return;
    try {
        if (kind == "png") exportPng(path);
        else if (kind == "svg") exportSvg(path);
        else exportCsv(path);
    } catch (const std::exception& e) {
        QToolTip::showText(mapToGlobal(QPoint(10, 10)), QString::fromUtf8(e.what()), this);
    }
}

void MetricChart::exportPng(const QString& path, int width, int height) {
    applyColors(true);
    const bool ok = plot_->savePng(path, width, height, 1.0);
    applyColors(false);
    plot_->replot(QCustomPlot::rpQueuedReplot);
    XOPD_CHECK(ok, "'" << path.toStdString() << "': cannot write the PNG");
}

void MetricChart::exportSvg(const QString& path, int width, int height) {
    const QString tmp = path + ".tmp";
    {
        QSvgGenerator gen;
        gen.setFileName(tmp);
        gen.setSize(QSize(width, height));
        gen.setViewBox(QRect(0, 0, width, height));
        gen.setTitle(group_.title);
        applyColors(true);
        hover_->hide();
        // toPainter() lays the plot out at the export size; the data is clipped at that layout.
        auto* chartPlot = static_cast<ChartPlot*>(plot_);
        chartPlot->layoutIn(QRect(0, 0, width, height));
        struct Saved {
            QCPGraph* graph;
            QSharedPointer<QCPGraphDataContainer> data;
            QCPGraph::LineStyle style;
        };
        std::vector<Saved> saved;
        for (int i = 0; i < plot_->graphCount(); ++i) {
            QCPGraph* g = plot_->graph(i);
            QVector<double> keys, values;
            clipGraphToAxisRect(g, keys, values);
            auto copy = QSharedPointer<QCPGraphDataContainer>::create();
            copy->set(*g->data());
            saved.push_back({g, copy, g->lineStyle()});
            if (g->lineStyle() == QCPGraph::lsStepLeft) g->setLineStyle(QCPGraph::lsLine);  // corners written out
            g->setData(keys, values, true);
        }
        QCPPainter painter;
        const bool ok = painter.begin(&gen);
        if (ok) {
            painter.fillRect(QRect(0, 0, width, height), Qt::white);
            plot_->toPainter(&painter, width, height);
            painter.end();
        }
        for (auto& sv : saved) {
            sv.graph->setData(sv.data);
            sv.graph->setLineStyle(sv.style);
        }
        chartPlot->layoutIn(plot_->rect());
        applyColors(false);
        plot_->replot(QCustomPlot::rpQueuedReplot);
        XOPD_CHECK(ok, "'" << path.toStdString() << "': cannot write the SVG");
    }
    QFile::remove(path);
    XOPD_CHECK(QFile::rename(tmp, path), "'" << path.toStdString() << "': cannot move the SVG into place");
}

void MetricChart::exportCsv(const QString& path) const {
    const QString tmp = path + ".tmp";
    QFile f(tmp);
    XOPD_CHECK(f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text),
               "'" << path.toStdString() << "': cannot open for writing");
    QTextStream out(&f);
    out << "run,metric,step,relative_s,unix_s,value,smoothed\n";
    const QStringList runs = runIds_.isEmpty() ? store_->runs() : runIds_;
    for (const QString& run : runs) {
        for (const QString& key : group_.keys) {
            const MetricSeries* s = store_->series(run, key);
            if (!s) continue;
            const auto sm = debiasedEma(s->value, options_.smoothing);
            for (size_t i = 0; i < s->value.size(); ++i)
                out << run << ',' << key << ',' << qint64(s->step[i]) << ',' << QString::number(s->wallS[i], 'g', 10)
                    << ',' << QString::number(s->unixS[i], 'f', 3) << ',' << fmt(s->value[i]) << ',' << fmt(sm[i])
                    << '\n';
        }
    }
    out.flush();
    f.close();
    XOPD_CHECK(f.error() == QFile::NoError, "'" << path.toStdString() << "': write failed");
    QFile::remove(path);
    XOPD_CHECK(QFile::rename(tmp, path), "'" << path.toStdString() << "': cannot move the CSV into place");
}

}  // namespace xopd::widgets
