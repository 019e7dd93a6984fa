// Metric charts: debiased EMA smoothing against a hand computation, numpy-style quantiles and the
// outlier-ignoring autoscale, the metric store (lesson 6), chart groups split by stream, NaN marks,
// the hover table, CSV export, and the redraw throttle: a chart replots at most once per tick of
// the monitor's 100 ms timer (≤ 10 Hz) whatever the data rate, and never while hidden. Replots are
// counted, never timed.
#include "widgets/charts/MetricChart.h"
#include "widgets/charts/MetricStore.h"
#include "widgets/charts/Smoothing.h"
#include "widgets/common/RunColors.h"
#include "widgets/run/LogPanel.h"
#include "widgets/run/RunMonitorWidget.h"
#include "widgets/run/ScriptedRunControl.h"
#include "widgets/tokens/TokenStore.h"

#include <QAction>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSvgRenderer>
#include <QtTest/qtestspontaneevent.h>
#include <QPointer>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest/QtTest>
#include <qcustomplot.h>

#include <cmath>
#include <limits>

using namespace xopd;
using namespace xopd::widgets;

namespace {
/// Entries of a legend (QCPLegend::itemCount() counts the empty cells of its grid too).
int legendEntries(QCPLegend* legend) {
    int n = 0;
    for (int i = 0; i < legend->itemCount(); ++i) n += legend->item(i) != nullptr;
    return n;
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

StepMetrics stepOf(int64_t step, std::map<std::string, double> scalars) {
    StepMetrics m;
    m.step = step;
    m.wall_time_s = 0.5 * double(step);
    m.unix_time_s = 1.7e9 + double(step);
    m.scalars = std::move(scalars);
    return m;
}

/// Counts resize and show events of the widgets it filters.
struct LayoutEvents : QObject {
    int count = 0;
    bool eventFilter(QObject*, QEvent* e) override {
        if (e->type() == QEvent::Resize || e->type() == QEvent::Show) ++count;
        return false;
    }
};

bool same(double a, double b, double tol = 1e-12) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    if (std::isinf(a) || std::isinf(b)) return a == b;
    return std::abs(a - b) <= tol * std::max(1.0, std::abs(b));
}
}  // namespace

class TestMetricCharts : public QObject {
    Q_OBJECT

private slots:
    // ---- Smoothing -------------------------------------------------------------------------
    void emaMatchesHandComputation() {
        // w = 0.6, by hand: s_n = 0.6 s_{n-1} + 0.4 v_n, shown value s_n / (1 - 0.6^n).
        //   v=1: s=0.4        / 0.4    = 1
        //   v=2: s=1.04       / 0.64   = 13/8
        //   v=3: s=1.824      / 0.784  = 114/49
        //   NaN: passes through, neither enters nor resets the average (n stays 3)
        //   v=5: s=3.0944     / 0.8704 = 967/272
        const std::vector<double> in = {1, 2, 3, kNaN, 5};
        const std::vector<double> want = {1.0, 13.0 / 8.0, 114.0 / 49.0, kNaN, 967.0 / 272.0};
        const auto got = debiasedEma(in, 0.6);
        QCOMPARE(got.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i)
            QVERIFY2(same(got[i], want[i]), qPrintable(QString("i=%1 got %2 want %3").arg(i).arg(got[i]).arg(want[i])));
    }

    void emaEdgeCases() {
        // A constant series is unchanged, also with a NaN gap (the debiasing makes it exact).
        const auto flat = debiasedEma({2, kNaN, 2, 2}, 0.9);
        QVERIFY(same(flat[0], 2) && std::isnan(flat[1]) && same(flat[2], 2) && same(flat[3], 2));
        // Inf passes through like NaN.
        const auto inf = debiasedEma({1, kInf, 3}, 0.5);
        QVERIFY(std::isinf(inf[1]) && inf[1] > 0);
        QVERIFY(same(inf[2], (0.5 * 0.5 + 0.5 * 3) / (1 - 0.25)));  // 7/3
        // Weight 0 is the identity; the first debiased value is always the first input.
        const std::vector<double> raw = {4, -1, 7};
        QCOMPARE(debiasedEma(raw, 0.0), raw);
        QVERIFY(same(debiasedEma(raw, 5.0)[0], 4));  // weight clamped to 0.999
        QVERIFY(debiasedEma({}, 0.6).empty());
        // Heavier smoothing stays closer to the history.
        QVERIFY(debiasedEma({0, 0, 0, 10}, 0.9)[3] < debiasedEma({0, 0, 0, 10}, 0.3)[3]);
    }

    void quantilesLikeNumpy() {
        // numpy.percentile([1,2,3,4], [25, 50]) = [1.75, 2.5] (linear interpolation).
        auto [q25, q50] = quantileRange({4, 1, 3, 2}, 0.25, 0.5);
        QVERIFY(same(q25, 1.75));
        QVERIFY(same(q50, 2.5));
        // 0..99 plus one spike of 1e6: the 1st and 99th percentiles are exactly 1 and 99.
        std::vector<double> v;
        for (int i = 0; i < 100; ++i) v.push_back(i);
        v.push_back(1e6);
        v.push_back(kNaN);  // ignored
        auto [lo, hi] = quantileRange(v, 0.01, 0.99);
        QVERIFY(same(lo, 1));
        QVERIFY(same(hi, 99));
        auto [nlo, nhi] = quantileRange({kNaN, kInf}, 0, 1);
        QVERIFY(std::isnan(nlo) && std::isnan(nhi));
    }

    void axisRangeIgnoresOutliers() {
        std::vector<double> v;
        for (int i = 0; i < 100; ++i) v.push_back(i);
        v.push_back(1e6);
        // 101 values: the 5th and 95th percentiles sit exactly on the order statistics 5 and 95;
        // padded by 20 % of the span 90 = 18 (TensorBoard's ignoreOutliers).
        auto [lo, hi] = axisRange(v, /*ignoreOutliers=*/true, false);
        QVERIFY(same(lo, 5 - 18));
        QVERIFY(same(hi, 95 + 18));
        // One spike in a 100-point series: the 1st..99th percentile would still reach ~1e4.
        std::vector<double> spike;
        for (int i = 1; i <= 100; ++i) spike.push_back(i == 50 ? 1e6 : double(i));
        QVERIFY(axisRange(spike, true, false).second < 200);
        // Without: [0, 1e6] padded by 5e4.
        auto [alo, ahi] = axisRange(v, false, false);
        QVERIFY(same(alo, -5e4));
        QVERIFY(same(ahi, 1e6 + 5e4));
        // Flat series: ±0.5·|v|, ±1 around zero; no data: [-1, 1].
        auto [flo, fhi] = axisRange({3, 3}, true, false);
        QVERIFY(same(flo, 1.5) && same(fhi, 4.5));
        auto [zlo, zhi] = axisRange({0, 0}, true, false);
        QVERIFY(same(zlo, -1) && same(zhi, 1));
        auto [elo, ehi] = axisRange({kNaN}, true, false);
        QVERIFY(same(elo, -1) && same(ehi, 1));
        // Log scale: only positive values count, ×/÷ 1.2.
        auto [llo, lhi] = axisRange({-1, 0, 1, 10}, false, true);
        QVERIFY(same(llo, 1 / 1.2) && same(lhi, 12));
    }

    // ---- Store -----------------------------------------------------------------------------
    void storeKeepsEverySeries() {
        MetricStore store;
        QSignalSpy layout(&store, &MetricStore::layoutChanged);
        const quint64 r0 = store.revision();
        store.append("r1", stepOf(1, {{"speech/adv_mean", -0.5}, {"loss", 1.0}}));
        QCOMPARE(layout.count(), 1);
        store.append("r1", stepOf(2, {{"speech/adv_mean", kNaN}, {"loss", 0.9}}));
        QCOMPARE(layout.count(), 1);  // nothing new
        store.append("r1", stepOf(3, {{"text/adv_mean", -0.1}}));
        QCOMPARE(layout.count(), 2);  // new key
        store.append("r2", stepOf(1, {{"loss", 2.0}}));
        QCOMPARE(layout.count(), 3);  // new run
        QCOMPARE(store.revision(), r0 + 4);
        QCOMPARE(store.keys(), (QStringList{"loss", "speech/adv_mean", "text/adv_mean"}));
        QCOMPARE(store.runs(), (QStringList{"r1", "r2"}));
        const MetricSeries* s = store.series("r1", "speech/adv_mean");
        QVERIFY(s);
        QCOMPARE(s->value.size(), size_t(2));
        QCOMPARE(s->step, (std::vector<double>{1, 2}));
        QCOMPARE(s->wallS, (std::vector<double>{0.5, 1.0}));
        QVERIFY(std::isnan(s->value[1]));  // NaN kept, never dropped
        QVERIFY(!store.series("r2", "speech/adv_mean"));
        QCOMPARE(store.lastStep("r1"), 3.0);
        QCOMPARE(store.lastStep("nope"), 0.0);
        store.clearRun("r1");
        QVERIFY(!store.series("r1", "loss"));
        QCOMPARE(store.runs(), QStringList{"r2"});
    }

    void chartGroupsAreSplitByStream() {
        const auto groups = defaultChartGroups(
            {"grad_norm", "loss", "speech/adv_mean", "speech/entropy", "text/adv_mean", "text/entropy", "tokens_per_s"});
        QStringList titles;
        for (const auto& g : groups) titles << g.title;
        QCOMPARE(titles, (QStringList{"adv_mean", "loss", "grad_norm", "entropy", "tokens_per_s"}));
        QCOMPARE(groups[0].keys, (QStringList{"speech/adv_mean", "text/adv_mean"}));
        QCOMPARE(groups[3].keys, (QStringList{"speech/entropy", "text/entropy"}));
    }

    // The trainer's real metric keys (an X-OPD step's metrics.sqlite columns) in the spec's order
    // (spec/ux.md "Metric set"): divergence first (summary, mean, min/max, percentiles), then the
    // modality gap, divergence by position (by bucket, not alphabetically), update health, rollout
    // statistics, teacher sanity, and cost last. The monitor lays its charts out in that order.
    void chartGroupsFollowTheSpecOrder() {
        const QStringList perStream = {"adv_max", "adv_mean", "adv_min", "adv_p10", "adv_p50", "adv_p90",
                                       "adv_shaped_mean", "clip_frac", "distinct2", "divergence", "entropy_mean",
                                       "eos_rate", "len_mean", "len_p95", "objective", "pos_abs_adv_17_64",
                                       "pos_abs_adv_1_16", "pos_abs_adv_65_256", "pos_abs_adv_gt256", "ratio_max",
                                       "ratio_mean", "sampler_lp_diff", "student_lp_mean", "teacher_low_frac",
                                       "teacher_lp_mean", "tokens", "trunc_rate"};
        QStringList keys = {"grad_norm", "lambda", "loss", "lr", "modality_gap_mean", "temperature", "time/rollout_s",
                            "time/rollout_share", "time/step_s", "time/teacher_s", "time/update_s", "tokens_per_s"};
        for (const QString& m : perStream) keys << "speech/" + m << "text/" + m;
        std::sort(keys.begin(), keys.end());  // the store's key order is alphabetical
        const QStringList want = {
            // divergence
            "divergence", "adv_mean", "adv_min", "adv_max", "adv_p10", "adv_p50", "adv_p90", "adv_shaped_mean",
            // modality gap, position
            "modality_gap_mean", "pos_abs_adv_1_16", "pos_abs_adv_17_64", "pos_abs_adv_65_256", "pos_abs_adv_gt256",
            // update health
            "loss", "objective", "ratio_max", "ratio_mean", "clip_frac", "sampler_lp_diff", "grad_norm", "entropy_mean",
            "lr", "lambda", "temperature",
            // rollout statistics
            "len_mean", "len_p95", "trunc_rate", "eos_rate", "distinct2",
            // teacher sanity
            "teacher_lp_mean", "teacher_low_frac", "student_lp_mean",
            // cost and throughput
            "time/rollout_s", "time/rollout_share", "time/step_s", "time/teacher_s", "time/update_s", "tokens_per_s",
            "tokens"};
        QStringList titles;
        for (const auto& g : defaultChartGroups(keys)) titles << g.title;
        QCOMPARE(titles, want);

        // The monitor's charts, in its grid's reading order, are the same.
        MetricStore metrics;
        TokenStore tokens;
        LogPanel log;
        RunMonitorWidget monitor(&metrics, &tokens, &log);
        std::map<std::string, double> scalars;
        for (const QString& k : keys) scalars[k.toStdString()] = 1.0;
        metrics.append("r", stepOf(1, scalars));
        QTRY_COMPARE(monitor.charts().size(), want.size());
        QStringList shown;
        for (auto* c : monitor.charts()) shown << c->group().title;
        QCOMPARE(shown, want);
        auto* grid = qobject_cast<QGridLayout*>(monitor.charts().front()->parentWidget()->layout());
        QVERIFY(grid);
        for (int i = 0; i < 3; ++i) {
            int row = -1, col = -1, rs = 0, cs = 0;
            grid->getItemPosition(grid->indexOf(monitor.charts()[i]), &row, &col, &rs, &cs);
            QCOMPARE(row * monitor.chartColumns() + col, i);  // left to right, top to bottom
        }
    }

    // ---- One chart -------------------------------------------------------------------------
    void autoscaleIgnoresASpike() {
        MetricStore store;
        for (int i = 1; i <= 100; ++i) store.append("r", stepOf(i, {{"loss", i == 50 ? 1e6 : double(i)}}));
        MetricChart chart(&store, {"loss", {"loss"}});
        chart.resize(600, 300);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.refresh(true);
        std::vector<double> values = store.series("r", "loss")->value;
        const auto want = axisRange(values, true, false);
        // Independently: sorted values are 1..49, 51..100, 1e6; numpy's 5th / 95th percentiles
        // (positions 4.95 and 94.05) are 5.95 and 96.05, padded by 0.2 · 90.1.
        QVERIFY(same(want.first, 5.95 - 0.2 * 90.1, 1e-9));
        QVERIFY(same(want.second, 96.05 + 0.2 * 90.1, 1e-9));
        QVERIFY(same(chart.plot()->yAxis->range().lower, want.first));
        QVERIFY(same(chart.plot()->yAxis->range().upper, want.second));
        QVERIFY(chart.plot()->yAxis->range().upper < 200);  // the 1e6 spike does not flatten the plot
        // x: the data plus a 2 % margin on each side (the first and last points are off the frame).
        QVERIFY(same(chart.plot()->xAxis->range().lower, 1.0 - 0.02 * 99));
        QVERIFY(same(chart.plot()->xAxis->range().upper, 100.0 + 0.02 * 99));

        ChartOptions o;
        o.ignoreOutliers = false;
        chart.setOptions(o);
        chart.refresh(true);
        QVERIFY(chart.plot()->yAxis->range().upper >= 1e6);
        // Log y: positive values only.
        o.logY = true;
        chart.setOptions(o);
        chart.refresh(true);
        QCOMPARE(chart.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
        QVERIFY(chart.plot()->yAxis->range().lower > 0);
    }

    void smoothedLineAndNanMarks() {
        MetricStore store;
        const std::vector<double> v = {1, 2, 3, kNaN, 5};
        for (size_t i = 0; i < v.size(); ++i) store.append("r", stepOf(int64_t(i + 1), {{"grad_norm", v[i]}}));
        MetricChart chart(&store, {"grad_norm", {"grad_norm"}});
        chart.resize(600, 300);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.refresh(true);
        QCOMPARE(chart.pointCount("r", "grad_norm"), 5);
        // Graph 0 is the NaN/Inf marker layer, then (raw, smoothed) per line.
        QCustomPlot* p = chart.plot();
        QCOMPARE(p->graphCount(), 3);
        QCOMPARE(p->graph(0)->dataCount(), 1);  // the NaN at step 4 is marked
        QCOMPARE(p->graph(0)->data()->at(0)->key, 4.0);
        QCPGraph* smooth = p->graph(2);
        QCOMPARE(smooth->dataCount(), 5);
        QVERIFY(same(smooth->data()->at(1)->value, 13.0 / 8.0));  // default smoothing 0.6
        QVERIFY(same(smooth->data()->at(4)->value, 967.0 / 272.0));
        QVERIFY(p->graph(1)->pen().color().alpha() < smooth->pen().color().alpha());  // raw drawn faintly
        // Hover table: TensorBoard's columns, the nearest step's raw and smoothed values.
        const double px = p->xAxis->coordToPixel(2.1), py = p->yAxis->coordToPixel(1.6);
        const QString html = chart.tooltipHtmlAt(px, py);
        for (const char* col : {"Run", "Smoothed", "Value", "Step", "Time", "Relative"}) QVERIFY(html.contains(col));
        QVERIFY2(html.contains("<td>1.625</td><td>2</td><td>2</td>"), qPrintable(html));
        // CSV export of the plotted data: the same numbers.
        QTemporaryDir tmp;
        const QString csv = tmp.filePath("chart.csv");
        chart.exportCsv(csv);
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(f.readAll()).trimmed().split('\n');
        QCOMPARE(lines.size(), 6);
        QCOMPARE(lines[0], QString("run,metric,step,relative_s,unix_s,value,smoothed"));
        QVERIFY(lines[2].startsWith("r,grad_norm,2,1,"));
        QVERIFY(lines[2].endsWith(",2,1.625"));
        QVERIFY(lines[4].endsWith(",NaN,NaN"));
        // PNG and SVG exports are written.
        chart.exportPng(tmp.filePath("c.png"), 400, 200);
        chart.exportSvg(tmp.filePath("c.svg"), 400, 200);
        QVERIFY(QImage(tmp.filePath("c.png")).width() == 400);
        QVERIFY(QFileInfo(tmp.filePath("c.svg")).size() > 100);
        QCOMPARE(QImage(tmp.filePath("c.png")).pixelColor(1, 1), QColor(Qt::white));  // white background
    }

    void refreshOnlyWhenVisibleAndChanged() {
        MetricStore store;
        store.append("r", stepOf(1, {{"loss", 1}}));
        MetricChart chart(&store, {"loss", {"loss"}});
        QVERIFY(!chart.refresh());  // hidden: nothing drawn
        QCOMPARE(chart.replotCount(), 0);
        chart.show();  // the show catches up
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        const int afterShow = chart.replotCount();
        QVERIFY(afterShow >= 1);
        QVERIFY(!chart.refresh());  // no new data: no replot
        QCOMPARE(chart.replotCount(), afterShow);
        store.append("r", stepOf(2, {{"loss", 2}}));
        QVERIFY(chart.refresh());
        QCOMPARE(chart.replotCount(), afterShow + 1);
        chart.hide();
        store.append("r", stepOf(3, {{"loss", 3}}));
        QVERIFY(!chart.refresh());
        QCOMPARE(chart.replotCount(), afterShow + 1);
        QCOMPARE(chart.pointCount("r", "loss"), 2);
        chart.show();
        QTRY_COMPARE(chart.pointCount("r", "loss"), 3);
    }

    // ---- Issue 17 point 6: charts in the manner of TensorBoard and W&B ----------------------
    // A chart that showed run "a" and then "a" + "b", then "b" alone, has exactly the graphs of the
    // lines it lists (the NaN layer + raw and smoothed per line): a replaced run's lines do not
    // stay behind unnamed. With several runs every line is named and coloured by its run.
    void linesAreNamedByRunAndNothingStaysBehind() {
        MetricStore store;
        for (int i = 1; i <= 5; ++i) {
            store.append("a", stepOf(i, {{"speech/adv_mean", -1.0 * i}, {"text/adv_mean", -0.5 * i}}));
            store.append("b", stepOf(i, {{"speech/adv_mean", -2.0 * i}, {"text/adv_mean", -0.7 * i}}));
        }
        MetricChart chart(&store, {"adv_mean", {"speech/adv_mean", "text/adv_mean"}});
        chart.resize(700, 400);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.setRuns({"a"});
        chart.refresh(true);
        QCOMPARE(chart.plot()->graphCount(), 1 + 2 * 2);
        QCOMPARE(chart.lineName("a", "speech/adv_mean"), QString("speech"));
        chart.setRuns({"a", "b"});
        chart.refresh(true);
        QCOMPARE(chart.plot()->graphCount(), 1 + 2 * 4);
        QCOMPARE(legendEntries(chart.plot()->legend), 4);
        QCOMPARE(chart.lineName("a", "speech/adv_mean"), QString("a · speech"));
        QCOMPARE(chart.lineName("b", "text/adv_mean"), QString("b · text"));
        QStringList legendNames;
        for (int i = 0; i < chart.plot()->legend->itemCount(); ++i)
            if (auto* item = qobject_cast<QCPPlottableLegendItem*>(chart.plot()->legend->item(i)))
                legendNames << item->plottable()->name();
        QCOMPARE(legendNames, (QStringList{"a · speech", "a · text", "b · speech", "b · text"}));
        for (int i = 0; i < chart.plot()->graphCount(); ++i) {
            QCPGraph* g = chart.plot()->graph(i);
            if (g->name().startsWith("a ")) QCOMPARE(g->pen().color().rgb(), RunColors::color("a").rgb());
            if (g->name().startsWith("b ")) QCOMPARE(g->pen().color().rgb(), RunColors::color("b").rgb());
        }
        chart.setRuns({"b"});
        chart.refresh(true);
        QCOMPARE(chart.plot()->graphCount(), 1 + 2 * 2);  // a's four graphs are gone
        QCOMPARE(legendEntries(chart.plot()->legend), 2);

        // The monitor: a new run joins the runs on the charts (as the main window's new, resumed,
        // forked and opened runs do), the newest ten kept.
        TokenStore tokens;
        LogPanel log;
        RunMonitorWidget monitor(&store, &tokens, &log);
        monitor.setShownRuns({"a"});
        monitor.addShownRun("b");
        QCOMPARE(monitor.shownRuns(), (QStringList{"a", "b"}));
        for (int i = 0; i < 12; ++i) monitor.addShownRun(QString("n%1").arg(i));
        QCOMPARE(monitor.shownRuns().size(), RunMonitorWidget::kMaxShownRuns);
        QCOMPARE(monitor.shownRuns().back(), QString("n11"));
    }

    // Eight legend entries sit under the plot, never over the data; the legend can be hidden.
    void legendSitsOutsideThePlotOrIsHidden() {
        MetricStore store;
        const QStringList runs = {"r1", "r2", "r3", "r4"};
        for (const QString& r : runs)
            for (int i = 1; i <= 5; ++i) store.append(r, stepOf(i, {{"speech/adv_mean", -1.0 * i}, {"text/adv_mean", -0.5}}));
        MetricChart chart(&store, {"adv_mean", {"speech/adv_mean", "text/adv_mean"}});
        chart.resize(700, 420);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.setRuns(runs);
        chart.refresh(true);
        chart.plot()->replot(QCustomPlot::rpImmediateRefresh);
        QCPLegend* legend = chart.plot()->legend;
        QCOMPARE(legendEntries(legend), 8);
        QVERIFY(legend->visible());
        const QRect plotArea = chart.plot()->axisRect()->rect();
        QVERIFY2(!legend->outerRect().intersects(plotArea),
                 qPrintable(QString("legend %1,%2 %3x%4 over the plot %5,%6 %7x%8")
                                .arg(legend->outerRect().x()).arg(legend->outerRect().y())
                                .arg(legend->outerRect().width()).arg(legend->outerRect().height())
                                .arg(plotArea.x()).arg(plotArea.y()).arg(plotArea.width()).arg(plotArea.height())));
        QVERIFY(legend->outerRect().top() >= plotArea.bottom());  // under the plot
        ChartOptions o;
        o.showLegend = false;
        chart.setOptions(o);
        chart.refresh(true);
        chart.plot()->replot(QCustomPlot::rpImmediateRefresh);
        QVERIFY(!legend->visible());
        QVERIFY(chart.plot()->axisRect()->rect().height() > plotArea.height());  // the plot takes the room
    }

    // lr, λ and temperature change only when someone changes them: drawn as they are, as steps.
    void piecewiseConstantSeriesAreUnsmoothedSteps() {
        QVERIFY(isPiecewiseConstant("lr") && isPiecewiseConstant("lambda") && isPiecewiseConstant("temperature"));
        QVERIFY(!isPiecewiseConstant("loss") && !isPiecewiseConstant("speech/adv_mean"));
        MetricStore store;
        for (int i = 1; i <= 20; ++i) store.append("r", stepOf(i, {{"lr", i <= 10 ? 1e-4 : 5e-5}}));
        MetricChart chart(&store, {"lr", {"lr"}});
        chart.resize(600, 300);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.refresh(true);
        QCustomPlot* p = chart.plot();
        QCPGraph* line = p->graph(2);
        QCOMPARE(line->lineStyle(), QCPGraph::lsStepLeft);
        QVERIFY(!p->graph(1)->visible());  // no second, faint copy
        for (int i = 0; i < 20; ++i)  // smoothing 0.6 would give 8.0e-5 at step 11
            QCOMPARE(line->data()->at(i)->value, i < 10 ? 1e-4 : 5e-5);
        const QString html = chart.tooltipHtmlAt(p->xAxis->coordToPixel(11), p->yAxis->coordToPixel(5e-5));
        QVERIFY2(html.contains("<td>5e-05</td><td>5e-05</td><td>11</td>"), qPrintable(html));
    }

    // Pause, resume, hot edits and checkpoints are marked on the x axis, at their step (or time).
    void marksOnTheXAxis() {
        MetricStore store;
        for (int i = 1; i <= 20; ++i) store.append("r", stepOf(i, {{"loss", 1.0 / i}}));
        RunMark pause{RunMarkKind::Pause, 5, 2.5, 1.7e9 + 5, {}};
        RunMark edit{RunMarkKind::HotEdit, 5, 2.5, 1.7e9 + 5, "lr 0.0001→5e-05"};
        RunMark resume{RunMarkKind::Resume, 5, 2.6, 1.7e9 + 6, {}};
        RunMark ckpt{RunMarkKind::Checkpoint, 10, 5.0, 1.7e9 + 10, {}};
        for (const RunMark& m : {pause, edit, resume, ckpt, ckpt}) store.addMark("r", m);
        QCOMPARE(store.marks("r").size(), size_t(4));  // the same mark twice is kept once
        MetricChart chart(&store, {"loss", {"loss"}});
        chart.resize(600, 300);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.refresh(true);
        const auto& marks = chart.drawnMarks();
        QCOMPARE(int(marks.size()), 4);
        QCOMPARE(marks[0].x, 5.0);
        QCOMPARE(marks[0].label, QString("pause"));
        QCOMPARE(marks[1].label, QString("edit lr 0.0001→5e-05"));
        QCOMPARE(marks[2].label, QString("resume"));
        QCOMPARE(marks[3].x, 10.0);
        QCOMPARE(marks[3].label, QString("ckpt"));
        QCOMPARE(chart.plot()->itemCount(), 8);  // a line and a label each
        ChartOptions o;
        o.xAxis = XAxisKind::RelativeTime;
        chart.setOptions(o);
        chart.refresh(true);
        QCOMPARE(chart.drawnMarks()[2].x, 2.6);
        QCOMPARE(chart.plot()->itemCount(), 8);  // redrawn, not added
    }

    // The monitor marks its own run's pause, hot edit and resume as they happen.
    void monitorMarksPauseHotEditAndResume() {
        MetricStore metrics;
        TokenStore tokens;
        LogPanel log;
        RunMonitorWidget monitor(&metrics, &tokens, &log);
        monitor.resize(1000, 700);
        monitor.show();
        ScriptedRunOptions o;
        o.maxSteps = 100000;
        o.stepInterval_ms = 5;
        o.samplesPerStep = 1;
        o.tokensPerSample = 2;
        monitor.setRun(std::make_unique<ScriptedRunControl>(o), "live");
        monitor.bridge()->start();
        QTRY_VERIFY_WITH_TIMEOUT(metrics.lastStep("live") >= 3, 20000);
        monitor.pauseAction()->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(monitor.bridge()->state(), RunState::Paused, 20000);
        auto* lr = [&]() -> QDoubleSpinBox* {
            for (auto* box : monitor.findChildren<QDoubleSpinBox*>())
                if (box->isEnabled() && std::abs(box->value() - metrics.series("live", "lr")->value.back()) < 1e-12) return box;
            return nullptr;
        }();
        QVERIFY(lr);
        lr->setValue(lr->value() / 2);
        QPushButton* apply = nullptr;
        for (auto* b : monitor.findChildren<QPushButton*>())
            if (b->text() == "Apply") apply = b;
        QVERIFY(apply);
        apply->click();
        monitor.resumeAction()->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(monitor.bridge()->state(), RunState::Running, 20000);
        monitor.stopAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(monitor.bridge()->state() == RunState::Stopped, 20000);
        QStringList kinds;  // (the scripted run also checkpoints: those marks are checked elsewhere)
        QString editText;
        for (const RunMark& m : metrics.marks("live"))
            if (m.kind != RunMarkKind::Checkpoint) {
                kinds << runMarkLabel(m.kind);
                if (m.kind == RunMarkKind::HotEdit) editText = m.text;
            }
        QVERIFY2(kinds.mid(0, 3) == (QStringList{"pause", "edit", "resume"}), qPrintable(kinds.join(",")));
        QVERIFY2(editText.startsWith("lr "), qPrintable(editText));
    }

    // The wheel scrolls the page of charts; Ctrl+wheel zooms the chart under the pointer.
    void wheelScrollsThePageCtrlWheelZooms() {
        MetricStore metrics;
        TokenStore tokens;
        LogPanel log;
        RunMonitorWidget monitor(&metrics, &tokens, &log);
        monitor.resize(1000, 700);
        monitor.show();
        QVERIFY(QTest::qWaitForWindowExposed(&monitor));
        std::map<std::string, double> scalars;
        for (int k = 0; k < 12; ++k) scalars["metric_" + std::to_string(k)] = 1.0;
        for (int i = 1; i <= 10; ++i) metrics.append("r", stepOf(i, scalars));
        QTRY_COMPARE(monitor.charts().size(), 12);
        monitor.redrawNow();
        auto* scroll = qobject_cast<QScrollArea*>(monitor.chartArea());
        QVERIFY(scroll);
        QTRY_VERIFY(scroll->verticalScrollBar()->maximum() > 0);
        MetricChart* chart = monitor.charts()[0];
        QTRY_VERIFY(chart->isVisible());
        const QCPRange before = chart->plot()->xAxis->range();
        auto wheel = [&](Qt::KeyboardModifiers mods) {
            const QPointF at = chart->plot()->axisRect()->center();
            QWheelEvent e(at, chart->plot()->mapToGlobal(at), QPoint(), QPoint(0, -120), Qt::NoButton, mods,
                          Qt::NoScrollPhase, false);
            // As from the window system (QTest does this for keys): a spontaneous event that
            // nobody accepts propagates to the parents (sendEvent would clear the flag).
            QSpontaneKeyEvent::setSpontaneous(&e);
            qApp->notify(chart->plot(), &e);
        };
        wheel(Qt::NoModifier);
        QVERIFY2(scroll->verticalScrollBar()->value() > 0,  // the page scrolled
                 qPrintable(QString("scroll bar %1 of %2").arg(scroll->verticalScrollBar()->value())
                                .arg(scroll->verticalScrollBar()->maximum())));
        QCOMPARE(chart->plot()->xAxis->range().lower, before.lower);  // the chart did not zoom
        QCOMPARE(chart->plot()->xAxis->range().upper, before.upper);
        const int scrolled = scroll->verticalScrollBar()->value();
        wheel(Qt::ControlModifier);
        QVERIFY(chart->plot()->xAxis->range().size() != before.size());  // zoomed
        QCOMPARE(scroll->verticalScrollBar()->value(), scrolled);      // and the page stayed
    }

    // A filter box (name or regex) and pinning pick among the charts; the grid's column count
    // follows the width.
    void filterPinAndColumnsFollowTheWidth() {
        MetricStore metrics;
        TokenStore tokens;
        LogPanel log;
        RunMonitorWidget monitor(&metrics, &tokens, &log);
        monitor.resize(1400, 800);
        monitor.show();
        QVERIFY(QTest::qWaitForWindowExposed(&monitor));
        metrics.append("r", stepOf(1, {{"loss", 1}, {"grad_norm", 1}, {"lr", 1}, {"speech/adv_mean", 1}, {"text/adv_mean", 1},
                                       {"speech/entropy", 1}, {"tokens_per_s", 1}, {"time/step_s", 1}}));
        QTRY_COMPARE(monitor.charts().size(), 7);
        auto grid = [&] { return qobject_cast<QGridLayout*>(monitor.charts().front()->parentWidget()->layout()); };
        auto visibleTitles = [&] {
            QStringList out;
            for (auto* c : monitor.charts())
                if (!c->isHidden()) out << c->group().title;
            return out;
        };
        auto cell = [&](MetricChart* c) {
            int row = -1, col = -1, rs = 0, cs = 0;
            grid()->getItemPosition(grid()->indexOf(c), &row, &col, &rs, &cs);
            return QPoint(col, row);
        };
        auto* scroll = qobject_cast<QScrollArea*>(monitor.chartArea());
        QVERIFY(scroll);
        auto columnsFor = [&] { return std::max(1, scroll->viewport()->width() / RunMonitorWidget::kChartMinWidth); };
        QTRY_COMPARE(monitor.chartColumns(), columnsFor());
        const int wide = monitor.chartColumns();
        QVERIFY(wide >= 3);  // ~1380 px of chart area / 420
        QCOMPARE(cell(monitor.charts()[4]), QPoint(4 % wide, 4 / wide));
        monitor.resize(monitor.minimumSizeHint().width(), 800);  // as narrow as the screen goes
        QTRY_COMPARE(monitor.chartColumns(), columnsFor());
        const int narrow = monitor.chartColumns();
        QVERIFY2(narrow < wide, qPrintable(QString("%1 columns at %2 px").arg(narrow).arg(monitor.width())));
        QTRY_COMPARE(cell(monitor.charts()[4]), QPoint(4 % narrow, 4 / narrow));

        monitor.setChartFilter("^(loss|grad)");
        QCOMPARE(visibleTitles(), (QStringList{"loss", "grad_norm"}));
        monitor.setChartFilter("ADV");  // case-insensitive, also on the keys
        QCOMPARE(visibleTitles(), QStringList{"adv_mean"});
        monitor.setChartFilter("time/(");  // not a valid regex: matched literally (nothing here)
        QCOMPARE(visibleTitles(), QStringList{});
        monitor.setChartFilter("loss");
        MetricChart* tps = nullptr;
        for (auto* c : monitor.charts())
            if (c->group().title == "tokens_per_s") tps = c;
        QVERIFY(tps);
        tps->setPinned(true);  // pinned: first, and shown whatever the filter
        QCOMPARE(visibleTitles().size(), 2);
        QCOMPARE(cell(tps), QPoint(0, 0));
        monitor.setChartFilter("");
        QCOMPARE(visibleTitles().size(), 7);
        QCOMPARE(cell(tps), QPoint(0, 0));
    }

    // A run's first point shows (a dot until there is a line), off the frame; later points too.
    void firstPointIsVisible() {
        MetricStore store;
        store.append("r", stepOf(1, {{"loss", 2.0}}));
        MetricChart chart(&store, {"loss", {"loss"}});
        chart.resize(600, 300);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.refresh(true);
        QCPGraph* line = chart.plot()->graph(2);
        QVERIFY(line->scatterStyle().shape() != QCPScatterStyle::ssNone);
        QVERIFY(chart.plot()->xAxis->range().contains(1.0));
        // Rendered: the line's colour at the point.
        QImage img = chart.plot()->toPixmap(600, 300).toImage();
        const QPoint at(int(chart.plot()->xAxis->coordToPixel(1.0)), int(chart.plot()->yAxis->coordToPixel(2.0)));
        QCOMPARE(img.pixelColor(at).rgb(), line->pen().color().rgb());
        store.append("r", stepOf(2, {{"loss", 1.0}}));
        chart.refresh(true);
        QCOMPARE(line->scatterStyle().shape(), QCPScatterStyle::ssNone);
        QVERIFY(chart.plot()->xAxis->range().lower < 1.0);  // not on the frame
        QVERIFY(chart.plot()->xAxis->range().upper > 2.0);
    }

    // The hover table names the runs and stays inside the chart, also at its bottom-right corner.
    void hoverTableNamesRunsAndStaysInside() {
        MetricStore store;
        for (const QString& r : {QString("run-a"), QString("run-b")})
            for (int i = 1; i <= 10; ++i) store.append(r, stepOf(i, {{"speech/adv_mean", -0.1 * i}, {"text/adv_mean", -0.2}}));
        MetricChart chart(&store, {"adv_mean", {"speech/adv_mean", "text/adv_mean"}});
        chart.resize(420, 260);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.setRuns({"run-a"});
        chart.refresh(true);
        chart.plot()->replot(QCustomPlot::rpImmediateRefresh);
        QVERIFY(chart.tooltipHtmlAt(chart.plot()->axisRect()->center().x(), 0).contains("run-a · speech"));
        chart.setRuns({"run-a", "run-b"});
        chart.refresh(true);
        chart.plot()->replot(QCustomPlot::rpImmediateRefresh);
        const QRect area = chart.plot()->axisRect()->rect();
        for (const QPoint& at : {area.bottomRight() - QPoint(2, 2), area.topLeft() + QPoint(2, 2), area.center()}) {
            chart.hoverAt(at);
            QLabel* table = chart.hoverLabel();
            QVERIFY(table->isVisible());
            QVERIFY2(chart.plot()->rect().contains(table->geometry()),
                     qPrintable(QString("table %1,%2 %3x%4 outside the chart %5x%6")
                                    .arg(table->x()).arg(table->y()).arg(table->width()).arg(table->height())
                                    .arg(chart.plot()->width()).arg(chart.plot()->height())));
            QVERIFY(!table->geometry().contains(at));  // beside the pointer, not under it
            for (const char* name : {"run-a · speech", "run-a · text", "run-b · speech", "run-b · text"})
                QVERIFY2(table->text().contains(name), qPrintable(table->text()));
        }
        chart.hoverAt(QPoint(1, 1));  // outside the plot area
        QVERIFY(!chart.hoverLabel()->isVisible());
    }

    // "Fit charts" after a start that failed keeps the runs overlaid before it.
    void fitAfterAFailedStartKeepsTheOverlaidRuns() {
        MetricStore metrics;
        TokenStore tokens;
        LogPanel log;
        RunMonitorWidget monitor(&metrics, &tokens, &log);
        monitor.resize(1000, 700);
        monitor.show();
        for (int i = 1; i <= 30; ++i) {
            metrics.append("a", stepOf(i, {{"loss", 1.0 / i}}));
            metrics.append("b", stepOf(i, {{"loss", 2.0 / i}}));
        }
        monitor.setShownRuns({"a", "b"});
        QTRY_COMPARE(monitor.charts().size(), 1);
        ScriptedRunOptions o;
        o.failAtStep = 1;
        monitor.setRun(std::make_unique<ScriptedRunControl>(o), "c");
        monitor.addShownRun("c");  // what the main window does with a new run
        monitor.bridge()->start();
        QTRY_COMPARE_WITH_TIMEOUT(monitor.bridge()->state(), RunState::Failed, 20000);
        for (QAction* a : monitor.screenActions())
            if (a->text() == "&Fit charts") a->trigger();
        MetricChart* chart = nullptr;
        for (auto* c : monitor.charts())
            if (c->group().title == "loss") chart = c;
        QVERIFY(chart);
        QCOMPARE(chart->pointCount("a", "loss"), 30);
        QCOMPARE(chart->pointCount("b", "loss"), 30);
        QVERIFY(chart->plot()->xAxis->range().contains(1.0) && chart->plot()->xAxis->range().contains(30.0));
        QVERIFY(chart->plot()->yAxis->range().contains(0.1));  // both runs' data, not an empty range
    }

    // SVG export clips the lines to the plot area (Qt 6.4's SVG generator ignores clipping).
    void svgExportClipsToThePlotArea() {
        MetricStore store;
        for (int i = 0; i <= 100; ++i) store.append("r", stepOf(i, {{"loss", std::sin(i / 7.0)}}));
        MetricChart chart(&store, {"loss", {"loss"}});
        chart.resize(600, 300);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        ChartOptions o;
        o.showLegend = false;  // the legend's line sample would count as a line outside
        o.smoothing = 0;
        chart.setOptions(o);
        chart.refresh(true);
        chart.setXRange(40, 60);  // zoomed in: the data runs on beyond both sides...
        chart.plot()->yAxis->setRange(-0.5, 0.5);  // ...and beyond the top and bottom
        chart.plot()->replot(QCustomPlot::rpImmediateRefresh);
        const QRect area = chart.plot()->axisRect()->rect();
        const QColor lineColor = chart.plot()->graph(2)->pen().color();
        QTemporaryDir tmp;
        const QString svg = tmp.filePath("c.svg");
        chart.exportSvg(svg, chart.plot()->width(), chart.plot()->height());  // the layout on screen
        QSvgRenderer renderer(svg);
        QVERIFY(renderer.isValid());
        QImage img(chart.plot()->size(), QImage::Format_ARGB32);
        img.fill(Qt::white);
        QPainter painter(&img);
        renderer.render(&painter);
        painter.end();
        auto isLine = [&](QColor c) {
            return std::abs(c.red() - lineColor.red()) + std::abs(c.green() - lineColor.green()) +
                       std::abs(c.blue() - lineColor.blue()) < 60;
        };
        int inside = 0, outside = 0;
        const QRect allowed = area.adjusted(-2, -2, 2, 2);  // the pen's half width
        for (int y = 0; y < img.height(); ++y)
            for (int x = 0; x < img.width(); ++x)
                if (isLine(img.pixelColor(x, y))) ++(allowed.contains(x, y) ? inside : outside);
        QVERIFY(inside > 50);  // the line is drawn...
        QVERIFY2(outside == 0, qPrintable(QString("%1 line pixels outside the plot area").arg(outside)));  // ...only inside
        // The chart on screen still has all its data.
        QCOMPARE(chart.plot()->graph(2)->dataCount(), 101);
    }

    // ---- The monitor's throttle ------------------------------------------------------------
    void monitorRedrawIsThrottledAndSkipsHiddenCharts() {
        MetricStore metrics;
        TokenStore tokens;
        LogPanel log;
        QTabWidget tabs;
        auto* monitor = new RunMonitorWidget(&metrics, &tokens, &log);
        tabs.addTab(monitor, "Run");
        tabs.addTab(new QWidget, "Other");
        tabs.resize(1200, 900);
        tabs.show();
        QVERIFY(QTest::qWaitForWindowExposed(&tabs));

        QTimer* redraw = nullptr;
        for (QTimer* t : monitor->findChildren<QTimer*>(QString(), Qt::FindDirectChildrenOnly))
            if (t->isActive() && t->interval() >= 50) redraw = t;
        QVERIFY(redraw);
        QVERIFY(redraw->interval() >= 100);  // ≤ 10 Hz
        int ticks = 0;
        connect(redraw, &QTimer::timeout, this, [&] { ++ticks; });
        // Count the plots' real repaints too (a queued replot coalesces several requests into one).
        // Besides refresh(), a plot only redraws itself when it is resized or shown (layout).
        QList<QPointer<MetricChart>> hooked;
        int repaints = 0;
        LayoutEvents layoutEvents;
        auto hook = [&] {
            for (MetricChart* c : monitor->charts())
                if (!hooked.contains(c)) {
                    hooked << c;
                    connect(c->plot(), &QCustomPlot::afterReplot, this, [&] { ++repaints; });
                    c->plot()->installEventFilter(&layoutEvents);
                }
        };
        connect(&metrics, &MetricStore::layoutChanged, this, hook);

        ScriptedRunOptions o;
        o.maxSteps = 150;
        o.stepInterval_ms = 2;  // ~500 steps/s: far above the paint rate
        o.samplesPerStep = 1;
        o.tokensPerSample = 4;
        monitor->setRun(std::make_unique<ScriptedRunControl>(o), "r1");
        monitor->bridge()->start();
        QTRY_COMPARE_WITH_TIMEOUT(monitor->bridge()->state(), RunState::Finished, 60000);
        QVERIFY(!monitor->charts().isEmpty());
        // A few more ticks: the last steps get drawn.
        auto allDrawn = [&](const QString& run) {
            for (MetricChart* c : monitor->charts())
                for (const QString& key : c->group().keys)
                    if (c->pointCount(run, key) != 150) return false;
            return true;
        };
        QTRY_VERIFY_WITH_TIMEOUT(allDrawn("r1"), 20000);
        int replots = 0;
        for (MetricChart* c : monitor->charts()) {
            // One replot per timer tick at most, plus the catch-up when the chart was first shown.
            QVERIFY2(c->replotCount() <= ticks + 1,
                     qPrintable(QString("%1: %2 replots for %3 ticks").arg(c->group().title).arg(c->replotCount()).arg(ticks)));
            QVERIFY(c->replotCount() < 150);  // the data rate is not the paint rate
            replots += c->replotCount();
        }
        QVERIFY2(repaints <= replots + layoutEvents.count,
                 qPrintable(QString("%1 repaints, %2 replots, %3 resizes/shows").arg(repaints).arg(replots).arg(layoutEvents.count)));

        // Hidden charts: a second run fills the store while the monitor's tab is not shown.
        tabs.setCurrentIndex(1);
        QTRY_VERIFY(!monitor->isVisible());
        QMap<MetricChart*, int> before;
        for (MetricChart* c : monitor->charts()) before[c] = c->replotCount();
        const int ticksBefore = ticks;
        monitor->setRun(std::make_unique<ScriptedRunControl>(o), "r2");
        monitor->bridge()->start();
        QTRY_COMPARE_WITH_TIMEOUT(monitor->bridge()->state(), RunState::Finished, 60000);
        QTest::qWait(250);
        QVERIFY(ticks > ticksBefore);  // the timer ran...
        QCOMPARE(metrics.series("r2", "loss")->value.size(), size_t(150));
        for (MetricChart* c : monitor->charts()) {
            QVERIFY(before.contains(c));
            QCOMPARE(c->replotCount(), before[c]);  // ...but no hidden chart replotted
        }
        tabs.setCurrentIndex(0);  // shown again: the charts catch up
        QTRY_VERIFY_WITH_TIMEOUT(allDrawn("r2"), 20000);
        for (MetricChart* c : monitor->charts()) QVERIFY(c->replotCount() > before[c]);
    }
};

QTEST_MAIN(TestMetricCharts)
#include "test_metric_charts.moc"
