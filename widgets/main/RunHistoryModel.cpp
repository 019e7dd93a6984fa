#include "widgets/main/RunHistoryModel.h"

#include "core/run/RunStore.h"
#include "widgets/common/RunColors.h"
#include "widgets/common/Theme.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <exception>

namespace xopd::widgets {

namespace {
QString num(double v, int precision = 4) { return std::isfinite(v) ? QString::number(v, 'g', precision) : QString("–"); }
QString duration(double s) {
    if (!std::isfinite(s) || s < 0) return "–";
    const qint64 t = qint64(s + 0.5);
    if (t >= 3600) return QString("%1 h %2 min").arg(t / 3600).arg((t % 3600) / 60);
    if (t >= 60) return QString("%1 min %2 s").arg(t / 60).arg(t % 60);
    return QString("%1 s").arg(t);
}
QString modelName(const distill::ModelSource& source) {
    switch (source.kind) {
        case distill::ModelSourceKind::Hf: return QFileInfo(QString::fromStdString(source.path)).fileName();
        case distill::ModelSourceKind::Demo: return "demo kit";
        case distill::ModelSourceKind::Invalid: return {};
        default: return distill::modelSourceKindName(source.kind);
    }
}
}  // namespace

RunHistoryModel::RunHistoryModel(QObject* parent)
    : QAbstractTableModel(parent), watcher_(new QFutureWatcher<ReadResult>(this)) {
    connect(watcher_, &QFutureWatcherBase::finished, this, &RunHistoryModel::applyRead);
}

void RunHistoryModel::setRoot(const QString& runsFolder) { root_ = runsFolder; }

void RunHistoryModel::refresh() {
    if (running_) {
        pending_ = true;
        return;
    }
    startRead();
}

void RunHistoryModel::startRead() {
    running_ = true;
    pending_ = false;
    const QString root = root_;
    watcher_->setFuture(QtConcurrent::run([root] {
        ReadResult r;
        r.root = root;
        r.rows = readRows(root, &r.problems);
        return r;
    }));
}

void RunHistoryModel::applyRead() {
    ReadResult r = watcher_->result();
    running_ = false;
    // A newer request (or a new root) wins: read again before showing anything stale.
    if (pending_ || r.root != root_) {
        startRead();
        return;
    }
    beginResetModel();
    rows_ = std::move(r.rows);
    endResetModel();
    emit refreshed(r.problems);
}

std::vector<RunRow> RunHistoryModel::readRows(const QString& root, QStringList* problems) {
    std::vector<RunRow> rows;
    if (!root.isEmpty() && QDir(root).exists()) {
        std::vector<run::RunSummary> runs;
        try {
            runs = run::RunReader::listRuns(root.toStdString());
        } catch (const std::exception& e) {
            *problems << QString::fromUtf8(e.what());
        }
        for (const auto& s : runs) {
            RunRow r;
            r.id = QString::fromStdString(s.id);
            r.dir = QString::fromStdString(s.dir);
            r.state = QString::fromStdString(s.state);
            r.method = QString::fromStdString(s.method);
            r.createdUnixS = s.created_unix_s;
            r.steps = s.steps;
            r.maxSteps = s.max_steps;
            r.loss = s.last_loss;
            r.divergence = s.last_divergence;
            r.checkpoint = QString::fromStdString(s.latest_checkpoint);
            // The time it ran, from its own state events (not file times: a later reader or a
            // restart touches the metrics file without the run running).
            r.durationS = s.running_s;
            if (!s.problem.empty()) *problems << QString::fromStdString(s.problem);
            r.lambda = s.lambda;
            r.lr = s.lr;
            r.teacher = modelName(s.teacher);
            r.student = modelName(s.student);
            r.toyStudent = s.student.kind == distill::ModelSourceKind::Toy;
            if (s.parent) r.parent = QString("%1@%2").arg(QString::fromStdString(s.parent->run_id)).arg(s.parent->step);
            rows.push_back(std::move(r));
        }
    }
    return rows;
}

int RunHistoryModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int RunHistoryModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

int RunHistoryModel::rowOf(const QString& id) const {
    for (size_t i = 0; i < rows_.size(); ++i)
        if (rows_[i].id == id) return int(i);
    return -1;
}

void RunHistoryModel::coloursChanged() {
    if (!rows_.empty()) emit dataChanged(index(0, Color), index(int(rows_.size()) - 1, Color), {Qt::DecorationRole, Qt::BackgroundRole});
}

QVariant RunHistoryModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(rows_.size()) || index.column() >= ColumnCount) return {};
    const RunRow& r = rows_[size_t(index.row())];
    const bool dark = currentTheme() == ThemeKind::Dark;
    if (index.column() == Color) {
        if (role == Qt::BackgroundRole || role == Qt::DecorationRole) return RunColors::color(r.id, dark);
        if (role == Qt::ToolTipRole) return "Run colour (double-click to change)";
        if (role == SortRole) return RunColors::color(r.id, dark).name();
        return {};
    }
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case Run: return r.id;
            case Status: return r.state;
            case Method: return r.method;
            case Started: return r.createdUnixS > 0 ? QDateTime::fromMSecsSinceEpoch(qint64(r.createdUnixS * 1000)).toString("yyyy-MM-dd HH:mm") : QString("–");
            case Duration: return duration(r.durationS);
            case Steps: return QString("%1/%2").arg(r.steps).arg(r.maxSteps);
            case Lambda: return num(r.lambda, 3);
            case Lr: return num(r.lr, 3);
            case Teacher: return r.teacher;
            case Student: return r.student;
            case Loss: return num(r.loss);
            case Divergence: return num(r.divergence);
            case Checkpoint: return r.checkpoint.isEmpty() ? QString("–") : r.checkpoint;
            case Parent: return r.parent;
        }
    }
    if (role == SortRole) {
        switch (index.column()) {
            case Started: return r.createdUnixS;
            case Duration: return std::isfinite(r.durationS) ? r.durationS : -1.0;
            case Steps: return r.steps;
            case Lambda: return std::isfinite(r.lambda) ? r.lambda : -1.0;
            case Lr: return std::isfinite(r.lr) ? r.lr : -1.0;
            case Loss: return std::isfinite(r.loss) ? r.loss : 1e300;
            case Divergence: return std::isfinite(r.divergence) ? r.divergence : 1e300;
            default: return data(index, Qt::DisplayRole);
        }
    }
    if (role == Qt::ToolTipRole && index.column() == Run) return r.dir;
    if (role == Qt::TextAlignmentRole && index.column() >= Steps && index.column() <= Lr)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant RunHistoryModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"", "Run", "Status", "Method", "Started", "Duration", "Steps", "λ", "lr", "Teacher",
                                  "Student", "Loss", "Divergence", "Checkpoint", "Parent"};
    return section >= 0 && section < ColumnCount ? QString(names[section]) : QVariant();
}

}  // namespace xopd::widgets
