#pragma once
// The single source of truth for scalar step metrics of every open run (lesson 6). Fed by the run
// bridge (live runs) or by a run-store reader (finished runs); charts subscribe and redraw on their
// own timer. GUI thread only.

#include "core/run/RunEvents.h"

#include <QObject>
#include <QStringList>

#include <map>
#include <vector>

namespace xopd::widgets {

/// One metric of one run, structure of arrays, in arrival order.
struct MetricSeries {
    std::vector<double> step;    ///< optimizer step
    std::vector<double> wallS;   ///< seconds since the run started
    std::vector<double> unixS;   ///< wall clock, seconds since the epoch
    std::vector<double> value;   ///< the scalar (NaN/Inf kept)
};

/// What happened to a run at a step, marked on the charts' x axis.
enum class RunMarkKind { Invalid = 0, Pause, Resume, HotEdit, Checkpoint };

/// One mark: where it sits on each kind of x axis, and a short text (e.g. "lr 1e-4 → 5e-5").
struct RunMark {
    RunMarkKind kind = RunMarkKind::Invalid;
    double step = 0;   ///< optimizer step
    double wallS = 0;  ///< seconds since the run started
    double unixS = 0;  ///< wall clock, seconds since the epoch
    QString text;      ///< detail shown next to the mark (may be empty)
};

/// Short label of a mark kind ("pause", "resume", "edit", "ckpt").
QString runMarkLabel(RunMarkKind kind);

class MetricStore : public QObject {
    Q_OBJECT
public:
    explicit MetricStore(QObject* parent = nullptr);

    /// Appends every scalar of `metrics` to the series of `runId`, and a data-parallel step's
    /// per-rank step times (distill::rankStepSeconds) as the series rankStepKey(rank).
    void append(const QString& runId, const StepMetrics& metrics);
    /// Forgets a run (or everything).
    void clearRun(const QString& runId);
    void clear();

    QStringList runs() const;
    /// Sorted metric keys over all runs.
    QStringList keys() const;
    /// nullptr when the run has no such metric.
    const MetricSeries* series(const QString& runId, const QString& key) const;
    /// Adds a mark (pause, resume, hot edit, checkpoint) to a run; an identical mark (same kind,
    /// step and text) is kept once, so reading a run folder again does not double its marks.
    void addMark(const QString& runId, const RunMark& mark);
    /// Marks of a run in the order they were added (empty when none).
    std::vector<RunMark> marks(const QString& runId) const;
    /// Last step seen for a run (0 when none).
    double lastStep(const QString& runId) const;
    /// Increases on every change; charts compare it with the revision they drew.
    quint64 revision() const { return revision_; }

signals:
    /// New metric keys or runs appeared (charts may need to be created).
    void layoutChanged();

private:
    std::map<QString, std::map<QString, MetricSeries>> runs_;
    std::map<QString, std::vector<RunMark>> marks_;
    QStringList keys_;
    quint64 revision_ = 0;
};

/// Series key of a rank's step time in a data-parallel run: "dp/rank_step_s/<rank>".
inline constexpr const char* kRankStepPrefix = "dp/rank_step_s/";
QString rankStepKey(int rank);

/// A chart group: one title and the metric keys drawn together (usually the speech and text
/// variants of one metric).
struct ChartGroup {
    QString title;
    QStringList keys;
};

/// Groups keys "<stream>/<metric>" by metric (so each chart is split by stream; the per-rank step
/// times are one chart, a line per rank) and orders the
/// groups like the spec's metric set (spec/ux.md): divergence first (summary, mean, min/max,
/// percentiles), then modality gap, position, top-k, update health, rollout statistics, teacher
/// sanity, probes, cost; unknown metrics last. Ties sort by title, numbers by value.
QList<ChartGroup> defaultChartGroups(const QStringList& keys);

/// True for series that change only when someone changes them (learning rate, λ, temperature,
/// with or without a stream prefix): charts draw them as unsmoothed steps, because an EMA would
/// turn a step from 1e-4 to 5e-5 into an exponential decay that never happened.
bool isPiecewiseConstant(const QString& key);

}  // namespace xopd::widgets
