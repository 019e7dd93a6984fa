#include "widgets/tokens/TokenStore.h"

#include "core/common/Error.h"
#include "widgets/tokens/TokenMetrics.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QTextStream>

#include <cmath>
#include <algorithm>
#include <set>

namespace xopd::widgets {

TokenStore::TokenStore(QObject* parent) : QObject(parent) {}

void TokenStore::add(const TokenDivergenceBatch& batch) {
    const bool isNew = byStep_.find(batch.step) == byStep_.end();
    byStep_[batch.step].push_back(batch);
    for (const auto& t : batch.tokens) idText_.emplace(t.token_id, t.text);
    while (int(byStep_.size()) > maxSteps_) byStep_.erase(byStep_.begin());
    if (isNew) emit stepAdded(batch.step);
    else if (byStep_.count(batch.step)) emit stepExtended(batch.step);
}

void TokenStore::clear() {
    byStep_.clear();
    emit cleared();
}

std::vector<int64_t> TokenStore::steps() const {
    std::vector<int64_t> out;
    out.reserve(byStep_.size());
    for (const auto& [s, _] : byStep_) out.push_back(s);
    return out;
}

const std::vector<TokenDivergenceBatch>& TokenStore::batches(int64_t step) const {
    static const std::vector<TokenDivergenceBatch> empty;
    auto it = byStep_.find(step);
    return it == byStep_.end() ? empty : it->second;
}

std::vector<int32_t> TokenStore::sampleIndices(int64_t step) const {
    std::set<int32_t> s;
    for (const auto& b : batches(step)) s.insert(b.sample_index);
    return {s.begin(), s.end()};
}

const TokenDivergenceBatch* TokenStore::find(int64_t step, const std::string& stream, int32_t sample) const {
    for (const auto& b : batches(step))
        if (b.stream == stream && b.sample_index == sample) return &b;
    return nullptr;
}

const TokenDivergenceBatch* TokenStore::findNth(int64_t step, const std::string& stream, int k) const {
    std::vector<const TokenDivergenceBatch*> rows;
    for (const auto& b : batches(step))
        if (b.stream == stream) rows.push_back(&b);
    std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) { return a->sample_index < b->sample_index; });
    return k >= 0 && size_t(k) < rows.size() ? rows[size_t(k)] : nullptr;
}

int TokenStore::rowsPerStream(int64_t step) const {
    std::map<std::string, int> n;
    int most = 0;
    for (const auto& b : batches(step)) most = std::max(most, ++n[b.stream]);
    return most;
}

QString TokenStore::tokenText(int32_t id) const {
    auto it = idText_.find(id);
    return it == idText_.end() ? QString("#%1").arg(id) : QString::fromStdString(it->second);
}

namespace {
QString csvField(const QString& s) {
    QString q = s;
    q.replace('"', "\"\"");
    return '"' + q + '"';
}
QString num(double v) { return std::isfinite(v) ? QString::number(v, 'g', 7) : (std::isnan(v) ? "NaN" : (v > 0 ? "Inf" : "-Inf")); }
QString topk(const std::vector<std::pair<int32_t, float>>& k) {
    QStringList parts;
    for (const auto& [id, lp] : k) parts << QString("%1:%2").arg(id).arg(num(lp));
    return parts.join(';');
}
QJsonValue jnum(double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(QJsonValue::Null); }
void commit(QSaveFile& f, const QString& path) {
    XOPD_CHECK(f.commit(), "'" << path.toStdString() << "': cannot write (" << f.errorString().toStdString() << ")");
}
}  // namespace

void TokenStore::exportCsv(const std::vector<TokenDivergenceBatch>& batches, const QString& path) {
    QSaveFile f(path);
    XOPD_CHECK(f.open(QIODevice::WriteOnly | QIODevice::Text),
               "'" << path.toStdString() << "': cannot open for writing (" << f.errorString().toStdString() << ")");
    QTextStream out(&f);
    out << "step,stream,sample,prompt_id,position,token_id,token,masked,advantage,teacher_logprob,student_logprob,"
           "student_other_logprob,modality_gap,entropy,student_topk,teacher_topk\n";
    for (const auto& b : batches)
        for (const auto& t : b.tokens)
            out << b.step << ',' << QString::fromStdString(b.stream) << ',' << b.sample_index << ','
                << csvField(QString::fromStdString(b.prompt_id)) << ',' << t.position << ',' << t.token_id << ','
                << csvField(QString::fromStdString(t.text)) << ',' << (t.masked ? 1 : 0) << ',' << num(t.advantage) << ','
                << num(t.teacher_logprob) << ',' << num(t.student_logprob) << ',' << num(t.student_other_logprob) << ','
                << num(tokenMetricValue(t, b.stream, TokenMetric::ModalityGap)) << ',' << num(t.entropy) << ','
                << topk(t.student_topk) << ',' << topk(t.teacher_topk) << '\n';
    out.flush();
    commit(f, path);
}

void TokenStore::exportJson(const std::vector<TokenDivergenceBatch>& batches, const QString& path) {
    QJsonArray arr;
    for (const auto& b : batches) {
        QJsonObject ob{{"step", qint64(b.step)}, {"stream", QString::fromStdString(b.stream)}, {"sample", b.sample_index},
                       {"prompt_id", QString::fromStdString(b.prompt_id)}, {"prompt_text", QString::fromStdString(b.prompt_text)},
                       {"truncated", b.truncated}};
        QJsonArray toks;
        for (const auto& t : b.tokens) {
            auto tk = [](const std::vector<std::pair<int32_t, float>>& k) {
                QJsonArray a;
                for (const auto& [id, lp] : k) a.append(QJsonArray{id, jnum(lp)});
                return a;
            };
            toks.append(QJsonObject{{"position", t.position}, {"token_id", t.token_id}, {"token", QString::fromStdString(t.text)},
                                    {"masked", t.masked}, {"advantage", jnum(t.advantage)},
                                    {"teacher_logprob", jnum(t.teacher_logprob)}, {"student_logprob", jnum(t.student_logprob)},
                                    {"student_other_logprob", jnum(t.student_other_logprob)},
                                    {"modality_gap", jnum(tokenMetricValue(t, b.stream, TokenMetric::ModalityGap))},
                                    {"entropy", jnum(t.entropy)}, {"student_topk", tk(t.student_topk)},
                                    {"teacher_topk", tk(t.teacher_topk)}});
        }
        ob["tokens"] = toks;
        arr.append(ob);
    }
    QSaveFile f(path);
    XOPD_CHECK(f.open(QIODevice::WriteOnly),
               "'" << path.toStdString() << "': cannot open for writing (" << f.errorString().toStdString() << ")");
    f.write(QJsonDocument(QJsonObject{{"format", "xopd-token-table"}, {"version", 1}, {"batches", arr}}).toJson());
    commit(f, path);
}

}  // namespace xopd::widgets
