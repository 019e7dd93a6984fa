#include "widgets/ab/AbSession.h"

#include "core/common/Error.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

#include <algorithm>
#include <cmath>
#include <random>

namespace xopd::widgets {

AbSession::AbSession(AbMode mode, QStringList names, std::vector<double> lufs, uint32_t seed, int trials)
    : mode_(mode), names_(std::move(names)), lufs_(std::move(lufs)), seed_(seed) {
    XOPD_CHECK(mode == AbMode::Ab || mode == AbMode::Abx, "listening test: mode must be A/B or ABX");
    XOPD_CHECK(names_.size() == 2 && lufs_.size() == 2, "listening test: needs exactly two conditions, got " << names_.size());
    XOPD_CHECK(trials >= 1 && trials <= 1000, "listening test: trials must be in 1..1000, got " << trials);
    std::mt19937 rng(seed);
    for (int i = 0; i < trials; ++i) {
        AbTrial t;
        t.aIs = int(rng() & 1u);
        t.bIs = 1 - t.aIs;
        if (mode == AbMode::Abx) t.xIs = int(rng() & 1u);
        trials_.push_back(t);
    }
}

int AbSession::conditionOf(int trial, int slot) const {
    const AbTrial& t = trials_.at(size_t(trial));
    return slot == 0 ? t.aIs : slot == 1 ? t.bIs : t.xIs;
}

void AbSession::answer(int trial, int slot) {
    XOPD_CHECK(trial >= 0 && trial < trialCount(), "listening test: no trial " << trial);
    XOPD_CHECK(slot == 0 || slot == 1, "listening test: answer must be A or B");
    trials_[size_t(trial)].answer = slot;
}

int AbSession::answered() const {
    return int(std::count_if(trials_.begin(), trials_.end(), [](const AbTrial& t) { return t.answer >= 0; }));
}

int AbSession::correct() const {
    if (mode_ != AbMode::Abx) return 0;
    int c = 0;
    for (const auto& t : trials_)
        if (t.answer >= 0 && (t.answer == 0 ? t.aIs : t.bIs) == t.xIs) ++c;
    return c;
}

double binomialTailHalf(int k, int n) {
    if (n <= 0 || k <= 0) return 1.0;
    if (k > n) return 0.0;
    double sum = 0;
    for (int i = k; i <= n; ++i) sum += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) - n * std::log(2.0));
    return std::min(1.0, sum);
}

double AbSession::pValue() const { return binomialTailHalf(correct(), answered()); }

double AbSession::matchGainDb(int condition) const {
    if (!std::isfinite(lufs_[0]) || !std::isfinite(lufs_[1])) return 0.0;
    return std::min(lufs_[0], lufs_[1]) - lufs_.at(size_t(condition));
}

QString AbSession::slotLabel(int trial, int slot) const {
    static const char* names[] = {"A", "B", "X"};
    const QString base = names[std::clamp(slot, 0, 2)];
    if (!revealed_) return base;
    const int c = conditionOf(trial, slot);
    return c < 0 ? base : QString("%1 = %2").arg(base, names_[c]);
}

QJsonObject AbSession::toJson(const QString& rater) const {
    QJsonArray trials;
    for (size_t i = 0; i < trials_.size(); ++i) {
        const auto& t = trials_[i];
        QJsonObject o{{"trial", int(i + 1)}, {"A", names_[t.aIs]}, {"B", names_[t.bIs]},
                      {"answer", t.answer < 0 ? QJsonValue() : QJsonValue(t.answer == 0 ? "A" : "B")}};
        if (mode_ == AbMode::Abx) {
            o["X"] = names_[t.xIs];
            if (t.answer >= 0) o["correct"] = (t.answer == 0 ? t.aIs : t.bIs) == t.xIs;
        }
        trials.append(o);
    }
    QJsonArray conditions;
    for (int c = 0; c < 2; ++c)
        conditions.append(QJsonObject{{"name", names_[c]},
                                      {"integrated_lufs", std::isfinite(lufs_[size_t(c)]) ? QJsonValue(lufs_[size_t(c)]) : QJsonValue()},
                                      {"match_gain_db", matchGainDb(c)}});
    QJsonObject out{{"format", "xopd-ab-results"}, {"version", 1}, {"mode", mode_ == AbMode::Abx ? "abx" : "ab"},
                    {"seed", qint64(seed_)}, {"rater", rater}, {"saved_at", QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
                    {"conditions", conditions}, {"trials", trials}, {"answered", answered()}};
    if (mode_ == AbMode::Abx) {
        out["correct"] = correct();
        out["p_value"] = pValue();
    } else {
        int prefer0 = 0;
        for (const auto& t : trials_)
            if (t.answer >= 0 && (t.answer == 0 ? t.aIs : t.bIs) == 0) ++prefer0;
        out["preferred_counts"] = QJsonObject{{names_[0], prefer0}, {names_[1], answered() - prefer0}};
    }
    return out;
}

void AbSession::save(const QString& path, const QString& rater) const {
    QSaveFile f(path);
    XOPD_CHECK(f.open(QIODevice::WriteOnly), "'" << path.toStdString() << "': cannot open for writing");
    f.write(QJsonDocument(toJson(rater)).toJson());
    XOPD_CHECK(f.commit(), "'" << path.toStdString() << "': cannot write (" << f.errorString().toStdString() << ")");
}

}  // namespace xopd::widgets
