// RunHistoryModel under QAbstractItemModelTester (model and sort/filter proxy): two real toy runs
// written by the core RunController (one finished, one stopped early with hot-edited knobs), read
// back as rows whose status, steps, λ, lr, models, final loss and checkpoint match what the run's
// own observer saw; sorting by the raw SortRole; stable run colours across refreshes; the read runs
// on a worker thread and the rows arrive asynchronously.
#include "widgets/main/RunHistoryModel.h"

#include "core/distill/DistillConfig.h"
#include "core/run/RunController.h"
#include "tests/support/TestHelpers.h"
#include "tests/support/WidgetTestHelpers.h"

#include <QAbstractItemModelTester>
#include <QColor>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

using namespace xopd;
using namespace xopd::widgets;
using Model = RunHistoryModel;

namespace {
/// The toy run config with this test's sizes and λ.
distill::DistillConfig historyRunConfig(int64_t steps, double lambda) {
    auto c = test::toyRunConfig({steps, 8, 6, 2, 0});
    c.loss.lambda = lambda;
    return c;
}

/// The last step's scalars, as the run reported them.
struct LastStep : RunObserver {
    std::mutex m;
    StepMetrics last;
    std::atomic<int> steps{0};
    void onStep(const StepMetrics& s) override {
        std::lock_guard<std::mutex> l(m);
        last = s;
        ++steps;
    }
};

}  // namespace

class TestRunHistoryModel : public QObject {
    Q_OBJECT
    QTemporaryDir root_;
    LastStep finished_, stopped_;

private slots:
    void initTestCase() {
        QVERIFY(root_.isValid());
        {
            run::RunOptions o;
            o.run_dir = root_.filePath("runs/alpha").toStdString();
            run::RunController c(historyRunConfig(3, 0.5), o);
            c.addObserver(&finished_);
            c.start();
            c.wait();
            QCOMPARE(c.state(), RunState::Finished);
        }
        {
            run::RunOptions o;
            o.run_dir = root_.filePath("runs/beta").toStdString();
            run::RunController c(historyRunConfig(1000, 0.3), o);
            c.addObserver(&stopped_);
            c.start();
            const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(120);
            while (stopped_.steps.load() < 2 && std::chrono::steady_clock::now() < end)
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            c.stop();
            c.wait();
            QCOMPARE(c.state(), RunState::Stopped);
        }
    }

    // refresh() reads on a worker thread: it returns with the model untouched, and the rows arrive
    // (one reset, then refreshed()) when the event loop delivers the read; a burst of calls
    // coalesces into one more read; a root changed meanwhile is read before anything is shown.
    void fillsAsynchronously() {
        Model m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy refreshed(&m, &Model::refreshed);
        QSignalSpy resets(&m, &QAbstractItemModel::modelReset);
        m.setRoot(root_.filePath("runs"));
        m.refresh();
        QVERIFY(m.refreshing());
        QCOMPARE(m.rowCount(), 0);  // nothing was read on this thread
        QCOMPARE(resets.count(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(m.rowCount(), 2, 30000);
        QCOMPARE(refreshed.count(), 1);
        QCOMPARE(refreshed.at(0).at(0).toStringList(), QStringList());
        QCOMPARE(resets.count(), 1);
        QVERIFY(!m.refreshing());

        // Three calls in a row: the first read runs, the other two queue one more read; the first
        // read's rows are already stale when they come back, so only the second's are shown.
        refreshed.clear();
        resets.clear();
        m.refresh();
        m.refresh();
        m.refresh();
        QTRY_VERIFY_WITH_TIMEOUT(!m.refreshing(), 30000);
        QCOMPARE(refreshed.count(), 1);
        QCOMPARE(resets.count(), 1);
        QCOMPARE(m.rowCount(), 2);

        // A new root while a read of the old one runs: only the new root's rows are shown.
        refreshed.clear();
        m.refresh();
        m.setRoot(root_.filePath("empty"));
        QTRY_VERIFY_WITH_TIMEOUT(!m.refreshing(), 30000);
        QCOMPARE(refreshed.count(), 1);
        QCOMPARE(m.rowCount(), 0);
    }

    void rowsMatchTheRuns() {
        Model m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(test::refreshAndWait(m).outcome(), QStringList());  // no root yet: empty, no problems
        QCOMPARE(m.rowCount(), 0);
        m.setRoot(root_.filePath("runs"));
        QCOMPARE(test::refreshAndWait(m).outcome(), QStringList());
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(m.columnCount(), int(Model::ColumnCount));
        const int a = m.rowOf("alpha"), b = m.rowOf("beta");
        QVERIFY(a >= 0 && b >= 0 && a != b);
        QCOMPARE(m.rowOf("gamma"), -1);
        auto cell = [&](int row, int col, int role = Qt::DisplayRole) { return m.data(m.index(row, col), role); };

        QCOMPARE(cell(a, Model::Run).toString(), QString("alpha"));
        QCOMPARE(cell(a, Model::Status).toString(), QString("finished"));
        QCOMPARE(cell(b, Model::Status).toString(), QString("stopped"));
        QCOMPARE(cell(a, Model::Steps).toString(), QString("3/3"));
        QCOMPARE(cell(b, Model::Steps, Model::SortRole).toLongLong(), qint64(stopped_.steps.load()));
        QCOMPARE(m.row(b).maxSteps, qint64(1000));
        QCOMPARE(cell(a, Model::Lambda).toString(), QString("0.5"));
        QCOMPARE(cell(b, Model::Lambda, Model::SortRole).toDouble(), 0.3);
        QCOMPARE(cell(a, Model::Lr, Model::SortRole).toDouble(), 1e-2);
        QCOMPARE(cell(a, Model::Teacher).toString(), QString("toy"));
        QCOMPARE(cell(a, Model::Student).toString(), QString("toy"));
        QVERIFY(!cell(a, Model::Method).toString().isEmpty());
        // The final loss is the last one the run's own observer saw.
        {
            std::lock_guard<std::mutex> l(finished_.m);
            QVERIFY(finished_.last.scalars.count("loss"));
            QVERIFY(std::abs(m.row(a).loss - finished_.last.scalars.at("loss")) <= 1e-6 * std::max(1.0, std::abs(m.row(a).loss)));
        }
        // Checkpoints: every 2 steps and at the end; the stopped run checkpointed on stop.
        QVERIFY2(cell(a, Model::Checkpoint).toString().contains("3"), qPrintable(cell(a, Model::Checkpoint).toString()));
        QVERIFY(cell(b, Model::Checkpoint).toString() != QString("–"));
        QVERIFY(m.row(a).createdUnixS > 1.6e9);
        QVERIFY(cell(a, Model::Started).toString().contains("-"));
        QVERIFY(std::isfinite(m.row(a).durationS) && m.row(a).durationS >= 0);
        QCOMPARE(cell(a, Model::Run, Qt::ToolTipRole).toString(), m.row(a).dir);
        QCOMPARE(m.headerData(Model::Lambda, Qt::Horizontal).toString(), QString::fromUtf8("λ"));
        QVERIFY(m.row(a).parent.isEmpty());

        // Stable colours: the same run keeps its colour across refreshes; two runs differ.
        const QColor ca = cell(a, Model::Color, Qt::BackgroundRole).value<QColor>();
        const QColor cb = cell(b, Model::Color, Qt::BackgroundRole).value<QColor>();
        QVERIFY(ca.isValid() && cb.isValid() && ca != cb);
        QCOMPARE(test::refreshAndWait(m).outcome(), QStringList());
        QCOMPARE(m.data(m.index(m.rowOf("alpha"), Model::Color), Qt::BackgroundRole).value<QColor>(), ca);
        m.coloursChanged();
    }

    void proxySortsByRawValues() {
        Model m;
        m.setRoot(root_.filePath("runs"));
        test::refreshAndWait(m);
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&m);
        proxy.setSortRole(Model::SortRole);
        proxy.setFilterKeyColumn(Model::Run);
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        proxy.sort(Model::Lambda, Qt::AscendingOrder);
        QCOMPARE(proxy.index(0, Model::Run).data().toString(), QString("beta"));  // λ 0.3 < 0.5
        proxy.sort(Model::Lambda, Qt::DescendingOrder);
        QCOMPARE(proxy.index(0, Model::Run).data().toString(), QString("alpha"));
        proxy.setFilterFixedString("bet");
        QCOMPARE(proxy.rowCount(), 1);
        // A refresh (model reset) under the proxy and the tester.
        test::refreshAndWait(m);
        QCOMPARE(proxy.rowCount(), 1);
    }
};

QTEST_MAIN(TestRunHistoryModel)
#include "test_run_history_model.moc"
