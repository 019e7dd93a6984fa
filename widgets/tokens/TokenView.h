#pragma once
// The token divergence view: the student's sampled tokens, one row per stream (speech = A_cm,
// text = A_im), each token's background coloured by the selected metric (diverging palette white
// at 0 for signed metrics, sequential otherwise; symmetric clamp, default max |value|), with a
// legend, visible whitespace, a hover panel with the teacher's and the student's top-k (sampled
// token highlighted), click to lock (←/→ move the lock), a step scrubber that snaps to logged
// steps and follows the latest, a sample selector, fixed-width cells, and CSV/JSON export.
// GUI thread only.

#include "widgets/tokens/TokenMetrics.h"
#include "widgets/tokens/TokenStore.h"

#include <QWidget>

#include <functional>
#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;
class QSpinBox;
class QTextBrowser;

namespace xopd::widgets {

class TokenCanvas;
class TokenLegend;

class TokenView : public QWidget {
    Q_OBJECT
public:
    explicit TokenView(TokenStore* store, QWidget* parent = nullptr);

    /// Optional decoder of token ids for the top-k lists (default: pieces seen in the store).
    void setDecoder(std::function<QString(int32_t)> decoder) { decoder_ = std::move(decoder); }
    void setMetric(TokenMetric metric);
    TokenMetric metric() const { return metric_; }
    /// Shows a step (snapped to the nearest logged one) and stops following the latest.
    void showStep(int64_t step);
    int64_t currentStep() const { return step_; }
    /// Locks a token (row 0 = speech, 1 = text); index −1 unlocks.
    void lockToken(int row, int index);
    int lockedRow() const { return lockedRow_; }
    int lockedIndex() const { return lockedIndex_; }
    /// Moves the lock by `delta` tokens within its row.
    void moveLock(int delta);
    /// The batches on screen (speech, text; either may be missing).
    std::vector<TokenDivergenceBatch> shownBatches() const;
    /// The sample selector as shown ("sample 2 of 4"; tests).
    QString sampleText() const;
    /// HTML of the detail panel (tests).
    QString detailHtml() const;
    /// Colour scale bound in use (the clamp, or max |value| when the clamp is 0).
    double colorBound() const { return bound_; }

    void exportCsv(const QString& path) const;
    void exportJson(const QString& path) const;

private:
    friend class TokenCanvas;
    void rebuild();
    void updateSteps();
    void showDetail(int row, int index);
    QString describe(const TokenDivergenceBatch& b, int index) const;
    QString decode(int32_t id) const;

    TokenStore* store_;
    TokenMetric metric_ = TokenMetric::Advantage;
    int64_t step_ = -1;
    bool follow_ = true;
    int sample_ = 0;
    double bound_ = 1.0;
    int lockedRow_ = -1, lockedIndex_ = -1;
    std::vector<int64_t> steps_;
    std::function<QString(int32_t)> decoder_;
    /// Copies of the rows on screen: the canvas paints from these, never from the store, whose
    /// vectors reallocate as batches arrive (and whose old steps are evicted).
    std::optional<TokenDivergenceBatch> shownSpeech_, shownText_;

    QComboBox* metricBox_;
    QSlider* stepSlider_;
    QLabel* stepLabel_;
    QCheckBox* followBox_;
    QSpinBox* sampleBox_;
    QLabel* sampleLabel_;
    QDoubleSpinBox* clampBox_;
    QCheckBox* fixedWidthBox_;
    TokenCanvas* canvas_;
    TokenLegend* legend_;
    QTextBrowser* detail_;
    QLabel* promptLabel_;
};

}  // namespace xopd::widgets
