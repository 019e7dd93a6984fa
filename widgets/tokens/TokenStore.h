#pragma once
// Token divergence batches of a run, by step (the model behind the token view; lesson 6). Keeps
// the most recent `maxSteps` steps. Exports the token table as CSV or JSON. GUI thread only.

#include "core/run/RunEvents.h"

#include <QObject>
#include <QString>

#include <map>
#include <vector>

namespace xopd::widgets {

class TokenStore : public QObject {
    Q_OBJECT
public:
    explicit TokenStore(QObject* parent = nullptr);

    void add(const TokenDivergenceBatch& batch);
    void clear();
    /// Logged steps, ascending.
    std::vector<int64_t> steps() const;
    /// Batches of one step (empty when none).
    const std::vector<TokenDivergenceBatch>& batches(int64_t step) const;
    /// Sample indices logged at a step, ascending.
    std::vector<int32_t> sampleIndices(int64_t step) const;
    /// The batch of (step, stream, sample) or nullptr.
    const TokenDivergenceBatch* find(int64_t step, const std::string& stream, int32_t sample) const;
    /// The k-th batch (by sample index, 0-based) of `stream` at `step`, or nullptr. The core numbers
    /// samples across streams within a step (speech rows first), so the view pairs the k-th speech
    /// row with the k-th text row.
    const TokenDivergenceBatch* findNth(int64_t step, const std::string& stream, int k) const;
    /// Largest number of batches any one stream has at `step`.
    int rowsPerStream(int64_t step) const;
    /// Text of a token id when it was seen in any batch ("#id" otherwise).
    QString tokenText(int32_t id) const;
    /// Steps kept (older ones are dropped); default 2000.
    void setMaxSteps(int n) { maxSteps_ = n; }

    /// Writes every token of the given batches (token, position, every metric, top-k) as CSV/JSON,
    /// atomically. Throws xopd::Error naming the file on failure.
    static void exportCsv(const std::vector<TokenDivergenceBatch>& batches, const QString& path);
    static void exportJson(const std::vector<TokenDivergenceBatch>& batches, const QString& path);

signals:
    /// The first batch of a step arrived.
    void stepAdded(qint64 step);
    /// Another batch of an already logged step arrived.
    void stepExtended(qint64 step);
    void cleared();

private:
    std::map<int64_t, std::vector<TokenDivergenceBatch>> byStep_;
    std::map<int32_t, std::string> idText_;
    int maxSteps_ = 2000;
};

}  // namespace xopd::widgets
