#include "widgets/charts/MetricStore.h"

#include "core/distill/RankStepTimes.h"

#include <QHash>

#include <algorithm>

namespace xopd::widgets {

MetricStore::MetricStore(QObject* parent) : QObject(parent) {}

void MetricStore::append(const QString& runId, const StepMetrics& m) {
    bool layout = runs_.find(runId) == runs_.end();
    auto& run = runs_[runId];
    auto add = [&](const QString& key, double v) {
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
    };
    for (const auto& [k, v] : m.scalars) add(QString::fromStdString(k), v);
    // A data-parallel step's per-rank step times: one series per rank.
    const std::vector<double> ranks = distill::rankStepSeconds(m);
    for (size_t r = 0; r < ranks.size(); ++r) add(rankStepKey(int(r)), ranks[r]);
    ++revision_;
    if (layout) emit layoutChanged();
}

void MetricStore::addMark(const QString& runId, const RunMark& mark) {
    auto& list = marks_[runId];
    for (const RunMark& m : list)
        if (m.kind == mark.kind && m.step == mark.step && m.text == mark.text) return;
    list.push_back(mark);
    ++revision_;
}

std::vector<RunMark> MetricStore::marks(const QString& runId) const {
    auto it = marks_.find(runId);
    return it == marks_.end() ? std::vector<RunMark>{} : it->second;
}

QString runMarkLabel(RunMarkKind kind) {
    switch (kind) {
        case RunMarkKind::Pause: return "pause";
        case RunMarkKind::Resume: return "resume";
        case RunMarkKind::HotEdit: return "edit";
        case RunMarkKind::Checkpoint: return "ckpt";
        default: return "?";
    }
}

bool isPiecewiseConstant(const QString& key) {
    const int slash = key.lastIndexOf('/');
    const QString metric = slash >= 0 ? key.mid(slash + 1) : key;
    return metric == "lr" || metric == "lambda" || metric == "temperature";
}

void MetricStore::clearRun(const QString& runId) {
    runs_.erase(runId);
    marks_.erase(runId);
    ++revision_;
    emit layoutChanged();
}

void MetricStore::clear() {
    runs_.clear();
    marks_.clear();
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
// The spec's metric set (spec/ux.md), in display order: divergence, the student's modality gap,
// divergence by position, top-k overlap, update health, rollout statistics, teacher sanity,
// MoE routing, held-out probes, cost and throughput. A metric takes the rank of its longest matching prefix,
// so specific names ("teacher_kl", "kl_post") beat generic ones ("teacher", "kl"). Within the
// divergence group the summary comes first: the configured divergence, then mean, min/max and
// the percentiles, as the spec lists them.
int groupRank(const QString& metric) {
    static const QStringList order = {
        // per-token teacher-student divergence
        "divergence", "div", "adv_mean", "adv_min", "adv_max", "adv_p", "adv", "gkd_divergence", "teacher_kl", "kl",
        // modality gap
        "modality_gap", "gap",
        // divergence by token position
        "pos",
        // top-k overlap
        "topk", "top", "overlap",
        // update health
        "loss", "objective", "ratio", "clip", "kl_pre", "kl_post", "pre_kl", "post_kl", "update_kl",
        "sampler_lp", "grad", "entropy", "lr", "lambda", "temperature", "gkd_on_policy",
        // MoE routing of the student (collapse shows as falling entropy and a rising max/mean)
        "moe/router_entropy", "moe/load", "moe/experts_unused", "moe",
        // rollout statistics
        "len", "trunc", "eos", "rep", "distinct",
        // teacher sanity
        "teacher_lp", "teacher_low", "teacher", "student_lp",
        // held-out probes
        "probe", "eval", "acc",
        // cost and throughput
        "time", "dp/", "tokens_per_s", "tokens", "mem"};
    int best = int(order.size()), bestLen = 0;
    for (int i = 0; i < order.size(); ++i)
        if (metric.startsWith(order[i]) && order[i].size() > bestLen) {
            best = i;
            bestLen = int(order[i].size());
        }
    return best;
}

// Numbers compare by value ("pos_abs_adv_1_16" before "pos_abs_adv_17_64", "p10" before "p90").
bool naturalLess(const QString& a, const QString& b) {
    int i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (a[i].isDigit() && b[j].isDigit()) {
            int ei = i, ej = j;
            while (ei < a.size() && a[ei].isDigit()) ++ei;
            while (ej < b.size() && b[ej].isDigit()) ++ej;
            const qulonglong x = a.mid(i, ei - i).toULongLong(), y = b.mid(j, ej - j).toULongLong();
            if (x != y) return x < y;
            i = ei;
            j = ej;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i;
            ++j;
        }
    }
    return a.size() - i < b.size() - j;
}
}  // namespace

QString rankStepKey(int rank) { return QString(kRankStepPrefix) + QString::number(rank); }

QList<ChartGroup> defaultChartGroups(const QStringList& keys) {
    QList<ChartGroup> groups;
    QHash<QString, int> index;
    for (const QString& key : keys) {
        QString metric = key;
        const int slash = key.indexOf('/');
        if (slash > 0 && (key.startsWith("speech/") || key.startsWith("text/") || key.startsWith("cm/") ||
                          key.startsWith("im/")))
            metric = key.mid(slash + 1);
        else if (key.startsWith(kRankStepPrefix))
            metric = QString(distill::kRankStepSecondsKey);  // one chart, a line per rank
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
        return ra != rb ? ra < rb : naturalLess(a.title, b.title);
    });
    return groups;
}

}  // namespace xopd::widgets
