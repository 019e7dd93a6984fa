#include "widgets/charts/MetricChart.h"

#include "core/common/Error.h"
#include "widgets/charts/Smoothing.h"
#include "widgets/common/RunColors.h"
#include "widgets/common/Theme.h"

#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QMenu>
#include <QSvgGenerator>
#include <QTextStream>
#include <QToolTip>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace xopd::widgets {

namespace {
bool isSpeech(const QString& key) { return key.startsWith("speech/") || key.startsWith("cm/"); }
QString streamLabel(const QString& key) {
    if (isSpeech(key)) return "speech";
    if (key.startsWith("text/") || key.startsWith("im/")) return "text";
    return key;
}
QString fmt(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return QString::number(v, 'g', 5);
}
}  // namespace

MetricChart::MetricChart(MetricStore* store, ChartGroup group, QWidget* parent)
    : QWidget(parent), store_(store), group_(std::move(group)), plot_(new QCustomPlot(this)) {
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
    plot_->legend->setVisible(true);
    plot_->legend->setFont(QFont(font().family(), 7));
    plot_->legend->setRowSpacing(-3);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->setContextMenuPolicy(Qt::CustomContextMenu);
    nanGraph_ = plot_->addGraph();
    nanGraph_->setName("NaN/Inf");
    nanGraph_->setLineStyle(QCPGraph::lsNone);
    nanGraph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, 9));
    nanGraph_->removeFromLegend();
    connect(plot_, &QCustomPlot::customContextMenuRequested, this, &MetricChart::showContextMenu);
    connect(plot_, &QCustomPlot::mouseMove, this, &MetricChart::onMouseMove);
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
}

void MetricChart::setRuns(const QStringList& runIds) {
    runIds_ = runIds;
    lines_.clear();
    dirty_ = true;
}

void MetricChart::setOptions(const ChartOptions& options) {
    const bool axesChanged = options.xAxis != options_.xAxis || options.logY != options_.logY;
    options_ = options;
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
    for (auto& l : lines_) {
        plot_->removeGraph(l.raw);
        plot_->removeGraph(l.smooth);
    }
    lines_.clear();
    const QStringList runs = runIds_.isEmpty() ? store_->runs() : runIds_;
    const bool dark = currentTheme() == ThemeKind::Dark;
    for (const QString& run : runs) {
        for (const QString& key : group_.keys) {
            const MetricSeries* s = store_->series(run, key);
            if (!s) continue;
            Line l;
            l.runId = run;
            l.key = key;
            l.series = s;
            QColor color;
            if (runs.size() == 1)
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
            l.smooth = plot_->addGraph();
            QPen pen(color, 2);
            if (runs.size() > 1 && !isSpeech(key) && group_.keys.size() > 1) pen.setStyle(Qt::DashLine);
            l.smooth->setPen(pen);
            l.smooth->setName(runs.size() > 1 ? run + " · " + streamLabel(key) : streamLabel(key));
            lines_.push_back(std::move(l));
        }
    }
}

bool MetricChart::refresh(bool force) {
    if (!force && !dirty_ && drawnRevision_ == store_->revision()) return false;
    if (!force && !isVisible()) return false;  // hidden charts catch up on show
    // Re-resolve series pointers (a run may have gained the metric since the last draw).
    bool needRebuild = lines_.empty();
    const QStringList runs = runIds_.isEmpty() ? store_->runs() : runIds_;
    int expected = 0;
    for (const QString& run : runs)
        for (const QString& key : group_.keys) expected += store_->series(run, key) ? 1 : 0;
    if (expected != int(lines_.size())) needRebuild = true;
    for (const auto& l : lines_)
        if (store_->series(l.runId, l.key) != l.series) needRebuild = true;
    if (needRebuild) rebuildLines();

    std::vector<double> allY;
    double xMin = INFINITY, xMax = -INFINITY;
    QVector<double> nanX, nanKind;
    for (auto& l : lines_) {
        const MetricSeries& s = *l.series;
        const size_t n = s.value.size();
        const int count = int(n);
        QVector<double> x(count), raw(count), sm(count);
        l.smoothed = debiasedEma(s.value, options_.smoothing);
        l.x.resize(n);
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
            }
            xMin = std::min(xMin, xv);
            xMax = std::max(xMax, xv);
        }
        l.raw->setData(x, raw, true);
        l.smooth->setData(x, sm, true);
    }
    settingRange_ = true;
    if (autoFit_) {
        if (std::isfinite(xMin)) {
            const double pad = xMax > xMin ? 0.0 : 1.0;
            plot_->xAxis->setRange(xMin - pad, xMax + pad);
        }
        const auto [lo, hi] = axisRange(allY, options_.ignoreOutliers, options_.logY);
        plot_->yAxis->setRange(lo, hi);
    }
    settingRange_ = false;
    QVector<double> nanY;
    const QCPRange yr = plot_->yAxis->range();
    for (double k : nanKind) nanY << (k > 0 ? yr.upper : yr.lower);
    nanGraph_->setData(nanX, nanY, true);
    if (!nanX.isEmpty() && !nanGraph_->visible()) nanGraph_->setVisible(true);
    drawnRevision_ = store_->revision();
    dirty_ = false;
    plot_->replot(QCustomPlot::rpQueuedReplot);
    ++replots_;
    return true;
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
        nanGraph_ = plot_->addGraph();
        nanGraph_->setLineStyle(QCPGraph::lsNone);
        nanGraph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, 9));
        nanGraph_->removeFromLegend();
        applyColors(false);
        refresh();
    }
}

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
                                  .arg(c.name(), l.smooth->name().toHtmlEscaped(), fmt(sm), fmt(s.value[i]))
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
    if (event->buttons() != Qt::NoButton) return;
    const QString html = tooltipHtmlAt(event->position().x(), event->position().y());
    if (html.isEmpty() || !plot_->axisRect()->rect().contains(event->position().toPoint())) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(event->globalPosition().toPoint() + QPoint(12, 12), html, plot_);
}

void MetricChart::showContextMenu(const QPoint& pos) {
    QMenu menu(this);
    menu.addAction("Fit to data", this, &MetricChart::fitToData);
    menu.addAction("Show full size", this, [this] { emit fullSizeRequested(this); });
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
        QCPPainter painter;
        const bool ok = painter.begin(&gen);
        if (ok) {
            painter.fillRect(QRect(0, 0, width, height), Qt::white);
            plot_->toPainter(&painter, width, height);
            painter.end();
        }
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
