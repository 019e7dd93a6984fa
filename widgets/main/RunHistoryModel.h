#pragma once
// The run table of the history screen: one row per run folder under a workspace's runs/ folder
// (core run::RunReader::listRuns), with name, status, start time, duration, method, steps, λ, lr,
// teacher / student, final loss and divergence, latest checkpoint and parent (forks), plus the
// run's stable colour (RunColors). A QAbstractTableModel; views sort and filter it through a
// QSortFilterProxyModel (SortRole gives raw values). refresh() re-reads the folder on a worker
// thread (QtConcurrent: every run's metrics.sqlite and run.json are opened, which takes a while
// for many runs) and replaces the rows on the GUI thread when the read is done (one model reset,
// then refreshed()). The model itself is GUI thread only.

#include <QAbstractTableModel>
#include <QColor>
#include <QFutureWatcher>
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
    double durationS = qQNaN();   ///< seconds it ran, from its state events (RunSummary::running_s)
    qint64 steps = 0, maxSteps = 0;
    double lambda = qQNaN(), lr = qQNaN();
    QString teacher, student;     ///< display names of the models ("demo kit", a folder name, "toy")
    bool toyStudent = false;      ///< the student is the built-in toy model
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
    /// Starts re-reading every run summary on a worker thread and returns at once. When the read
    /// is done the rows are replaced and refreshed(problems) is emitted (problems: unreadable
    /// folders, one line each). A call while a read runs queues one more read after it (a burst
    /// of calls costs two reads); a result for a root that has changed meanwhile is dropped.
    void refresh();
    /// True from refresh() until the last queued read has been applied.
    bool refreshing() const { return running_ || pending_; }
    /// Reads the rows of every run folder under `runsFolder` (blocking; any thread: it touches no
    /// model state). Problems are appended to `problems`.
    static std::vector<RunRow> readRows(const QString& runsFolder, QStringList* problems);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    const RunRow& row(int r) const { return rows_[size_t(r)]; }
    int rowOf(const QString& id) const;
    /// Call after changing a run colour so views repaint the colour cells.
    void coloursChanged();

signals:
    /// A refresh() has been applied (after the model reset).
    void refreshed(const QStringList& problems);

private:
    struct ReadResult {
        QString root;
        std::vector<RunRow> rows;
        QStringList problems;
    };
    void startRead();
    void applyRead();

    QString root_;
    std::vector<RunRow> rows_;
    QFutureWatcher<ReadResult>* watcher_;
    bool running_ = false, pending_ = false;
};

}  // namespace xopd::widgets
