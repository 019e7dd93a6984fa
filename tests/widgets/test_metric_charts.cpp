// Metric charts: debiased EMA smoothing against a hand computation, numpy-style quantiles and the
// outlier-ignoring autoscale, the metric store (lesson 6), chart groups split by stream, NaN marks,
// the hover table, CSV export, and the redraw throttle: a chart replots at most once per tick of
// the monitor's 100 ms timer (≤ 10 Hz) whatever the data rate, and never while hidden. Replots are
// counted, never timed.
#include "widgets/charts/MetricChart.h"
#include "widgets/charts/MetricStore.h"
#include "widgets/charts/Smoothing.h"
#include "widgets/run/LogPanel.h"
#include "widgets/run/RunMonitorWidget.h"
#include "widgets/run/ScriptedRunControl.h"
#include "widgets/tokens/TokenStore.h"

#include <QGridLayout>
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
            QCOMPARE(row * 2 + col, i);  // left to right, top to bottom
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
        QCOMPARE(chart.plot()->xAxis->range().lower, 1.0);
        QCOMPARE(chart.plot()->xAxis->range().upper, 100.0);

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
