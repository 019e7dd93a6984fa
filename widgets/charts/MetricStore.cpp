#include "widgets/charts/MetricStore.h"

#include <QHash>

#include <algorithm>

namespace xopd::widgets {

MetricStore::MetricStore(QObject* parent) : QObject(parent) {}

void MetricStore::append(const QString& runId, const StepMetrics& m) {
    bool layout = runs_.find(runId) == runs_.end();
    auto& run = runs_[runId];
    for (const auto& [k, v] : m.scalars) {
        const QString key = QString::fromStdString(k);
        auto it = run.find(key);
        if (it == run.end()) {
            it = run.emplace(key, MetricSeries{}).first;
            if (!keys_.contains(key)) {
                keys_.append(key);
                keys_.sort();
                layout = true;
            }
        }
        auto& s = it->second;
        s.step.push_back(double(m.step));
        s.wallS.push_back(m.wall_time_s);
        s.unixS.push_back(m.unix_time_s);
        s.value.push_back(v);
    }
    ++revision_;
    if (layout) emit layoutChanged();
}

void MetricStore::clearRun(const QString& runId) {
    runs_.erase(runId);
    ++revision_;
    emit layoutChanged();
}

void MetricStore::clear() {
    runs_.clear();
    keys_.clear();
    ++revision_;
    emit layoutChanged();
}

QStringList MetricStore::runs() const {
    QStringList out;
    for (const auto& [id, _] : runs_) out << id;
    return out;
}

QStringList MetricStore::keys() const { return keys_; }

const MetricSeries* MetricStore::series(const QString& runId, const QString& key) const {
    auto r = runs_.find(runId);
    if (r == runs_.end()) return nullptr;
    auto s = r->second.find(key);
    return s == r->second.end() ? nullptr : &s->second;
}

double MetricStore::lastStep(const QString& runId) const {
    auto r = runs_.find(runId);
    if (r == runs_.end()) return 0;
    double last = 0;
    for (const auto& [_, s] : r->second)
        if (!s.step.empty()) last = std::max(last, s.step.back());
    return last;
}

namespace {
int groupRank(const QString& metric) {
    static const QStringList order = {"adv", "teacher_kl", "kl", "div", "loss", "modality_gap", "gap", "pos",
                                      "top", "overlap", "ratio", "clip", "grad", "entropy", "lr", "lambda",
                                      "len", "trunc", "eos", "rep", "teacher_lp", "teacher", "probe", "acc",
                                      "time", "tokens_per_s", "mem"};
    for (int i = 0; i < order.size(); ++i)
        if (metric.startsWith(order[i])) return i;
    return order.size();
}
}  // namespace

QList<ChartGroup> defaultChartGroups(const QStringList& keys) {
    QList<ChartGroup> groups;
    QHash<QString, int> index;
    for (const QString& key : keys) {
        QString metric = key;
        const int slash = key.indexOf('/');
        if (slash > 0 && (key.startsWith("speech/") || key.startsWith("text/") || key.startsWith("cm/") ||
                          key.startsWith("im/")))
            metric = key.mid(slash + 1);
        auto it = index.find(metric);
        if (it == index.end()) {
            index.insert(metric, groups.size());
            groups.append({metric, {key}});
        } else {
            groups[*it].keys << key;
        }
    }
    std::stable_sort(groups.begin(), groups.end(), [](const ChartGroup& a, const ChartGroup& b) {
        const int ra = groupRank(a.title), rb = groupRank(b.title);
        return ra != rb ? ra < rb : a.title < b.title;
    });
    return groups;
}

}  // namespace xopd::widgets
