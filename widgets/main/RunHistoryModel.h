#pragma once
// The run table of the history screen: one row per run folder under a workspace's runs/ folder
// (core run::RunReader::listRuns), with name, status, start time, duration, method, steps, λ, lr,
// teacher / student, final loss and divergence, latest checkpoint and parent (forks), plus the
// run's stable colour (RunColors). A QAbstractTableModel; views sort and filter it through a
// QSortFilterProxyModel (SortRole gives raw values). refresh() re-reads the folder. GUI thread only.

#include <QAbstractTableModel>
#include <QColor>
#include <QStringList>

#include <vector>

namespace xopd::widgets {

/// One run of the table.
struct RunRow {
    QString id;
    QString dir;
    QString state;
    QString method;
    double createdUnixS = 0;
    double durationS = qQNaN();   ///< last write of metrics.sqlite − creation
    qint64 steps = 0, maxSteps = 0;
    double lambda = qQNaN(), lr = qQNaN();
    QString teacher, student;
    double loss = qQNaN(), divergence = qQNaN();
    QString checkpoint;
    QString parent;               ///< "parent-id@step" for forks
};

class RunHistoryModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Color = 0, Run, Status, Method, Started, Duration, Steps, Lambda, Lr, Teacher, Student, Loss, Divergence,
                  Checkpoint, Parent, ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1;

    explicit RunHistoryModel(QObject* parent = nullptr);

    /// Folder holding run folders (WORKSPACE/runs); refresh() reads it.
    void setRoot(const QString& runsFolder);
    QString root() const { return root_; }
    /// Re-reads every run summary. Problems (unreadable folders) are returned, one line each.
    QStringList refresh();

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    const RunRow& row(int r) const { return rows_[size_t(r)]; }
    int rowOf(const QString& id) const;
    /// Call after changing a run colour so views repaint the colour cells.
    void coloursChanged();

private:
    QString root_;
    std::vector<RunRow> rows_;
};

}  // namespace xopd::widgets
