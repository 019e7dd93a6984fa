#pragma once
// The monitor's data-parallel panel: the world size of a run and each rank's step time (the last
// step, the mean of the last kWindow steps, and how much slower than the fastest rank), the
// slowest rank highlighted. It reads the per-rank series the MetricStore keeps for a data-parallel
// run (rankStepKey, from the step's distill::kRankStepSecondsKey), so live, followed and recorded
// runs all show; the chart of the same series is one of the monitor's charts. The world size is
// the number of ranks that reported the run's last step (a run resumed at another world size
// changes it). Hidden while the run shown has no per-rank times (a single process).
// GUI thread only.

#include <QGroupBox>
#include <QString>

#include <vector>

class QLabel;
class QTableWidget;

namespace xopd::widgets {

class MetricStore;

class RankTimesPanel : public QGroupBox {
    Q_OBJECT
public:
    /// Steps averaged in the Mean column.
    static constexpr int kWindow = 20;

    explicit RankTimesPanel(MetricStore* store, QWidget* parent = nullptr);

    /// Shows `runId`'s ranks (re-read when the store changed or the run did); hides the panel when
    /// it has none.
    void showRun(const QString& runId);
    /// The run shown ("" when none).
    QString runId() const { return runId_; }
    /// Ranks at the run's last step (0 when the run has no per-rank times).
    int worldSize() const { return int(mean_.size()); }
    /// Rank with the largest mean step time (−1 when none).
    int slowestRank() const { return slowest_; }
    /// Mean step time of a rank over the last kWindow steps (s).
    double meanSeconds(int rank) const { return mean_.at(size_t(rank)); }
    /// The line above the table ("World size: 2 · slowest: rank 1, +35 % …"; tests).
    QString summaryText() const;
    QTableWidget* table() const { return table_; }

private:
    void rebuild();

    MetricStore* store_;
    QString runId_;
    quint64 revision_ = 0;
    std::vector<double> last_, mean_;
    int slowest_ = -1;
    QLabel* summary_;
    QTableWidget* table_;
};

}  // namespace xopd::widgets
