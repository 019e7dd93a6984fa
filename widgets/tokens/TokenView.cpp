#include "widgets/tokens/TokenView.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLinearGradient>
#include <QMessageBox>
#include <QMouseEvent>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace xopd::widgets {

/// Paints the token rows and reports hover and clicks to the view.
class TokenCanvas : public QWidget {
public:
    explicit TokenCanvas(TokenView* view) : QWidget(view), view_(view) {
        setMouseTracking(true);
        setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Minimum);
    }
    struct Cell {
        int row, index;
        QRect rect;
    };
    void setRows(std::vector<const TokenDivergenceBatch*> rows, std::vector<QString> labels) {
        rows_ = std::move(rows);
        labels_ = std::move(labels);
        relayout();
    }
    void setFixedCells(bool on) {
        fixed_ = on;
        relayout();
    }
    const std::vector<Cell>& cells() const { return cells_; }
    QSize sizeHint() const override { return {600, height_}; }
    QSize minimumSizeHint() const override { return {200, height_}; }
    void relayout() {
        cells_.clear();
        const QFontMetrics fm(font());
        const int lineH = fm.height() + 6, labelW = 70, gap = 2;
        const int width = std::max(300, this->width() - 8);
        int y = 4;
        rowTops_.clear();
        for (size_t r = 0; r < rows_.size(); ++r) {
            rowTops_.push_back(y);
            int x = labelW;
            y += 2;
            if (rows_[r]) {
                const auto& toks = rows_[r]->tokens;
                for (size_t i = 0; i < toks.size(); ++i) {
                    const QString text = visibleWhitespace(QString::fromStdString(toks[i].text));
                    const int w = fixed_ ? fm.horizontalAdvance("MMMMMM") : fm.horizontalAdvance(text) + 6;
                    if (x + w > width && x > labelW) {
                        x = labelW;
                        y += lineH + gap;
                    }
                    cells_.push_back({int(r), int(i), QRect(x, y, w, lineH)});
                    x += w + gap;
                    if (toks[i].text.find('\n') != std::string::npos && !fixed_) {
                        x = labelW;
                        y += lineH + gap;
                    }
                }
            }
            y += lineH + 12;
        }
        height_ = std::max(60, y);
        setMinimumHeight(height_);
        updateGeometry();
        update();
    }

protected:
    void resizeEvent(QResizeEvent*) override { relayout(); }
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        p.fillRect(rect(), palette().base());
        const QFontMetrics fm(font());
        for (size_t r = 0; r < rows_.size(); ++r) {
            p.setPen(palette().text().color());
            p.drawText(QRect(4, rowTops_[r] + 2, 64, fm.height() + 6), Qt::AlignVCenter | Qt::AlignLeft, labels_[r]);
            if (!rows_[r]) p.drawText(QRect(70, rowTops_[r] + 2, 400, fm.height() + 6), Qt::AlignVCenter, "(no sample)");
        }
        for (const Cell& c : cells_) {
            const auto* b = rows_[c.row];
            const auto& t = b->tokens[c.index];
            const double v = tokenMetricValue(t, b->stream, view_->metric_);
            const QColor bg = tokenMetricIsSigned(view_->metric_) ? divergingColor(v, view_->bound_)
                                                                   : sequentialColor(std::abs(v), view_->bound_);
            p.fillRect(c.rect, bg);
            if (c.row == view_->lockedRow_ && c.index == view_->lockedIndex_) {
                p.setPen(QPen(Qt::black, 2));
                p.drawRect(c.rect.adjusted(1, 1, -1, -1));
            } else if (c.row == hoverRow_ && c.index == hoverIndex_) {
                p.setPen(QPen(QColor(0x55, 0x55, 0x55), 1, Qt::DashLine));
                p.drawRect(c.rect.adjusted(0, 0, -1, -1));
            }
            p.setPen(t.masked ? QColor(0x99, 0x99, 0x99) : (wantsWhiteText(bg) ? Qt::white : Qt::black));
            p.drawText(c.rect, Qt::AlignCenter, fm.elidedText(visibleWhitespace(QString::fromStdString(t.text)), Qt::ElideRight, c.rect.width() - 2));
        }
    }
    void mouseMoveEvent(QMouseEvent* e) override {
        const Cell* c = hit(e->position().toPoint());
        const int row = c ? c->row : -1, idx = c ? c->index : -1;
        if (row != hoverRow_ || idx != hoverIndex_) {
            hoverRow_ = row;
            hoverIndex_ = idx;
            update();
            if (c) view_->showDetail(row, idx);
            else view_->showDetail(view_->lockedRow_, view_->lockedIndex_);
        }
    }
    void leaveEvent(QEvent*) override {
        hoverRow_ = hoverIndex_ = -1;
        update();
        view_->showDetail(view_->lockedRow_, view_->lockedIndex_);
    }
    void mousePressEvent(QMouseEvent* e) override {
        const Cell* c = hit(e->position().toPoint());
        if (!c) return;
        if (c->row == view_->lockedRow_ && c->index == view_->lockedIndex_) view_->lockToken(-1, -1);
        else view_->lockToken(c->row, c->index);
    }

private:
    const Cell* hit(const QPoint& p) const {
        for (const Cell& c : cells_)
            if (c.rect.contains(p)) return &c;
        return nullptr;
    }
    TokenView* view_;
    std::vector<const TokenDivergenceBatch*> rows_;
    std::vector<QString> labels_;
    std::vector<Cell> cells_;
    std::vector<int> rowTops_;
    bool fixed_ = false;
    int height_ = 80;
    int hoverRow_ = -1, hoverIndex_ = -1;
};

/// The colour legend: gradient with its bound labels.
class TokenLegend : public QWidget {
public:
    explicit TokenLegend(QWidget* parent) : QWidget(parent) { setFixedHeight(34); }
    void set(bool isSigned, double bound, const QString& name) {
        signed_ = isSigned;
        bound_ = bound;
        name_ = name;
        update();
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        const QRect bar(8, 4, std::min(width() - 16, 360), 12);
        for (int x = 0; x < bar.width(); ++x) {
            const double f = double(x) / std::max(1, bar.width() - 1);
            const QColor c = signed_ ? divergingColor((2 * f - 1) * bound_, bound_) : sequentialColor(f * bound_, bound_);
            p.fillRect(QRect(bar.left() + x, bar.top(), 1, bar.height()), c);
        }
        p.setPen(palette().text().color());
        p.drawRect(bar.adjusted(0, 0, -1, -1));
        QFont f = font();
        f.setPointSizeF(f.pointSizeF() * 0.85);
        p.setFont(f);
        const QString lo = signed_ ? QString::number(-bound_, 'g', 3) + " student more confident" : "0";
        const QString hi = signed_ ? "teacher more confident +" + QString::number(bound_, 'g', 3) : QString::number(bound_, 'g', 3);
        p.drawText(QRect(bar.left(), bar.bottom() + 1, bar.width(), 16), Qt::AlignLeft, lo);
        if (signed_) p.drawText(QRect(bar.left(), bar.bottom() + 1, bar.width(), 16), Qt::AlignHCenter, "0");
        p.drawText(QRect(bar.left(), bar.bottom() + 1, bar.width(), 16), Qt::AlignRight, hi);
        p.drawText(QRect(bar.right() + 10, bar.top() - 2, width() - bar.right() - 12, 18), Qt::AlignLeft | Qt::AlignVCenter, name_);
    }

private:
    bool signed_ = true;
    double bound_ = 1;
    QString name_;
};

TokenView::TokenView(TokenStore* store, QWidget* parent) : QWidget(parent), store_(store) {
    auto* top = new QHBoxLayout;
    metricBox_ = new QComboBox(this);
    for (auto m : {TokenMetric::Advantage, TokenMetric::ModalityGap, TokenMetric::TeacherLogprob, TokenMetric::StudentLogprob,
                   TokenMetric::Entropy})
        metricBox_->addItem(tokenMetricName(m), int(m));
    metricBox_->setToolTip("Metric that colours the tokens");
    stepSlider_ = new QSlider(Qt::Horizontal, this);
    stepSlider_->setToolTip("Step scrubber: snaps to logged steps");
    stepLabel_ = new QLabel("no steps", this);
    followBox_ = new QCheckBox("Latest", this);
    followBox_->setChecked(true);
    followBox_->setToolTip("Follow the latest logged step");
    sampleBox_ = new QSpinBox(this);
    sampleBox_->setRange(0, 0);
    sampleBox_->setSuffix(" of 0");
    sampleBox_->setToolTip("Which sample of the step (each stream's rows, counted from 1)");
    sampleLabel_ = new QLabel("sample", this);
    clampBox_ = new QDoubleSpinBox(this);
    clampBox_->setRange(0, 100);
    clampBox_->setDecimals(2);
    clampBox_->setSingleStep(0.1);
    clampBox_->setSpecialValueText("auto");
    clampBox_->setToolTip("Colour clamp ±bound (auto = max |value|)");
    fixedWidthBox_ = new QCheckBox("Fixed width", this);
    auto* exportCsvBtn = new QPushButton("CSV…", this);
    auto* exportJsonBtn = new QPushButton("JSON…", this);
    exportCsvBtn->setToolTip("Export the shown token table as CSV");
    exportJsonBtn->setToolTip("Export the shown token table as JSON");
    top->addWidget(new QLabel("Metric", this));
    top->addWidget(metricBox_, 2);
    top->addWidget(new QLabel("Step", this));
    top->addWidget(stepSlider_, 3);
    top->addWidget(stepLabel_);
    top->addWidget(followBox_);
    top->addWidget(sampleLabel_);
    top->addWidget(sampleBox_);
    top->addWidget(new QLabel("Clamp", this));
    top->addWidget(clampBox_);
    top->addWidget(fixedWidthBox_);
    top->addWidget(exportCsvBtn);
    top->addWidget(exportJsonBtn);

    promptLabel_ = new QLabel(this);
    promptLabel_->setWordWrap(true);
    legend_ = new TokenLegend(this);
    canvas_ = new TokenCanvas(this);
    auto* scroll = new QScrollArea(this);
    scroll->setWidget(canvas_);
    scroll->setWidgetResizable(true);
    detail_ = new QTextBrowser(this);
    detail_->setMinimumWidth(260);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(scroll);
    split->addWidget(detail_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(promptLabel_);
    layout->addWidget(legend_);
    layout->addWidget(split, 1);

    auto* left = new QAction("Previous locked token", this);
    left->setShortcut(Qt::Key_Left);
    left->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    left->setStatusTip("Token view: move the locked token to the left");
    auto* right = new QAction("Next locked token", this);
    right->setShortcut(Qt::Key_Right);
    right->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    right->setStatusTip("Token view: move the locked token to the right");
    connect(left, &QAction::triggered, this, [this] { moveLock(-1); });
    connect(right, &QAction::triggered, this, [this] { moveLock(+1); });
    addAction(left);
    addAction(right);

    connect(metricBox_, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
            [this](int) { setMetric(TokenMetric(metricBox_->currentData().toInt())); });
    connect(stepSlider_, &QSlider::valueChanged, this, [this](int i) {
        if (i >= 0 && i < int(steps_.size()) && steps_[i] != step_) {
            step_ = steps_[i];
            if (i != int(steps_.size()) - 1) {
                follow_ = false;
                followBox_->setChecked(false);
            }
            rebuild();
        }
    });
    connect(followBox_, &QCheckBox::toggled, this, [this](bool on) {
        follow_ = on;
        if (on) updateSteps();
    });
    connect(sampleBox_, QOverload<int>::of(&QSpinBox::valueChanged), this, [this](int v) {
        sample_ = std::max(0, v - 1);  // the box counts from 1, as every other sample number on screen
        rebuild();
    });
    connect(clampBox_, QOverload<double>::of(&QDoubleSpinBox::valueChanged), this, [this](double) { rebuild(); });
    connect(fixedWidthBox_, &QCheckBox::toggled, canvas_, &TokenCanvas::setFixedCells);
    connect(exportCsvBtn, &QPushButton::clicked, this, [this] {
        const QString p = QFileDialog::getSaveFileName(this, "Export tokens", "tokens.csv", "CSV (*.csv)");
        if (p.isEmpty()) return;
        try { exportCsv(p); } catch (const std::exception& e) { QMessageBox::warning(this, "Export failed", e.what()); }
    });
    connect(exportJsonBtn, &QPushButton::clicked, this, [this] {
        const QString p = QFileDialog::getSaveFileName(this, "Export tokens", "tokens.json", "JSON (*.json)");
        if (p.isEmpty()) return;
        try { exportJson(p); } catch (const std::exception& e) { QMessageBox::warning(this, "Export failed", e.what()); }
    });
    connect(store_, &TokenStore::stepAdded, this, [this](qint64) { updateSteps(); });
    // A batch joining the step on screen (the text rows of a step arrive after its speech rows).
    connect(store_, &TokenStore::stepExtended, this, [this](qint64 step) {
        if (step == step_) updateSteps();
    });
    connect(store_, &TokenStore::cleared, this, [this] { updateSteps(); });
    updateSteps();
}

void TokenView::setMetric(TokenMetric metric) {
    metric_ = metric;
    const int i = metricBox_->findData(int(metric));
    if (i >= 0 && metricBox_->currentIndex() != i) metricBox_->setCurrentIndex(i);
    rebuild();
}

void TokenView::updateSteps() {
    steps_ = store_->steps();
    const QSignalBlocker block(stepSlider_);
    stepSlider_->setRange(0, std::max(0, int(steps_.size()) - 1));
    if (steps_.empty()) {
        step_ = -1;
    } else if (follow_ || step_ < 0) {
        step_ = steps_.back();
        stepSlider_->setValue(int(steps_.size()) - 1);
    } else {
        auto it = std::lower_bound(steps_.begin(), steps_.end(), step_);
        stepSlider_->setValue(int(it - steps_.begin()));
    }
    if (!isVisible() && follow_ && step_ >= 0 && lockedRow_ < 0) {
        // Hidden: keep the label current, skip the layout work until shown.
        stepLabel_->setText(QString("step %1").arg(step_));
        return;
    }
    rebuild();
}

void TokenView::showStep(int64_t step) {
    steps_ = store_->steps();
    if (steps_.empty()) return;
    auto it = std::lower_bound(steps_.begin(), steps_.end(), step);
    if (it == steps_.end()) --it;
    else if (it != steps_.begin() && std::abs(*(it - 1) - step) <= std::abs(*it - step)) --it;
    follow_ = (it == steps_.end() - 1) && followBox_->isChecked();
    if (it != steps_.end() - 1) {
        follow_ = false;
        followBox_->setChecked(false);
    }
    step_ = *it;
    const QSignalBlocker block(stepSlider_);
    stepSlider_->setValue(int(it - steps_.begin()));
    rebuild();
}

std::vector<TokenDivergenceBatch> TokenView::shownBatches() const {
    std::vector<TokenDivergenceBatch> out;
    for (const char* stream : {"speech", "text"})
        if (const auto* b = store_->findNth(step_, stream, sample_)) out.push_back(*b);
    return out;
}

void TokenView::rebuild() {
    const int rows = store_->rowsPerStream(step_);
    {
        const QSignalBlocker block(sampleBox_);
        // One number: the box says "2 of 4" and the hover panel says "sample 2".
        sample_ = std::clamp(sample_, 0, std::max(0, rows - 1));
        sampleBox_->setRange(rows == 0 ? 0 : 1, std::max(0, rows));
        sampleBox_->setSuffix(QString(" of %1").arg(rows));
        sampleBox_->setValue(rows == 0 ? 0 : sample_ + 1);
    }
    stepLabel_->setText(step_ < 0 ? "no steps" : QString("step %1").arg(step_));
    const auto* speechInStore = store_->findNth(step_, "speech", sample_);
    const auto* textInStore = store_->findNth(step_, "text", sample_);
    shownSpeech_ = speechInStore ? std::optional<TokenDivergenceBatch>(*speechInStore) : std::nullopt;
    shownText_ = textInStore ? std::optional<TokenDivergenceBatch>(*textInStore) : std::nullopt;
    const TokenDivergenceBatch* speech = shownSpeech_ ? &*shownSpeech_ : nullptr;
    const TokenDivergenceBatch* text = shownText_ ? &*shownText_ : nullptr;
    double maxAbs = 0;
    for (const auto* b : {speech, text})
        if (b)
            for (const auto& t : b->tokens) {
                const double v = tokenMetricValue(t, b->stream, metric_);
                if (std::isfinite(v)) maxAbs = std::max(maxAbs, std::abs(v));
            }
    bound_ = clampBox_->value() > 0 ? clampBox_->value() : (maxAbs > 0 ? maxAbs : 1.0);
    legend_->set(tokenMetricIsSigned(metric_), bound_, tokenMetricName(metric_));
    const auto* any = speech ? speech : text;
    promptLabel_->setText(any ? QString("<b>Prompt</b> %1 — %2").arg(QString::fromStdString(any->prompt_id).toHtmlEscaped(),
                                                                     QString::fromStdString(any->prompt_text).toHtmlEscaped())
                              : QString("No token batches yet: start a run or open a run folder."));
    canvas_->setRows({speech, text}, {"speech", "text"});
    showDetail(lockedRow_, lockedIndex_);
}

void TokenView::lockToken(int row, int index) {
    lockedRow_ = index < 0 ? -1 : row;
    lockedIndex_ = index < 0 ? -1 : index;
    canvas_->update();
    showDetail(lockedRow_, lockedIndex_);
}

void TokenView::moveLock(int delta) {
    if (lockedRow_ < 0) {
        lockToken(0, 0);
        return;
    }
    const auto* b = store_->findNth(step_, lockedRow_ == 0 ? "speech" : "text", sample_);
    if (!b || b->tokens.empty()) return;
    lockToken(lockedRow_, std::clamp(lockedIndex_ + delta, 0, int(b->tokens.size()) - 1));
}

QString TokenView::sampleText() const { return sampleLabel_->text() + " " + sampleBox_->text(); }

QString TokenView::decode(int32_t id) const { return decoder_ ? decoder_(id) : store_->tokenText(id); }

QString TokenView::describe(const TokenDivergenceBatch& b, int index) const {
    const auto& t = b.tokens[size_t(index)];
    auto num = [](double v) { return std::isfinite(v) ? QString::number(v, 'f', 3) : QString("n/a"); };
    QString h = QString("<h3 style='margin:0'>“%1”</h3>").arg(visibleWhitespace(QString::fromStdString(t.text)).toHtmlEscaped());
    h += QString("<p>%1 stream · step %2 · sample %3 · position %4 · id %5%6</p>")
             .arg(QString::fromStdString(b.stream))
             .arg(b.step)
             .arg(sample_ + 1)
             .arg(t.position)
             .arg(t.token_id)
             .arg(t.masked ? " · <i>masked</i>" : "");
    h += QString("<p><b>%1</b>: %2</p>").arg(tokenMetricName(metric_).toHtmlEscaped(), num(tokenMetricValue(t, b.stream, metric_)));
    h += QString("<table cellspacing=0 cellpadding=2><tr><td>A</td><td>%1</td></tr><tr><td>teacher log-prob</td><td>%2</td></tr>"
                 "<tr><td>student log-prob</td><td>%3</td></tr><tr><td>modality gap</td><td>%4</td></tr>"
                 "<tr><td>entropy</td><td>%5</td></tr></table>")
             .arg(num(t.advantage), num(t.teacher_logprob), num(t.student_logprob),
                  num(tokenMetricValue(t, b.stream, TokenMetric::ModalityGap)), num(t.entropy));
    auto table = [&](const char* title, const std::vector<std::pair<int32_t, float>>& k) {
        if (k.empty()) return QString("<p><b>%1</b>: not logged</p>").arg(title);
        QString s = QString("<p><b>%1</b></p><table cellspacing=0 cellpadding=2><tr><th>#</th><th>token</th><th>%</th><th>logprob</th></tr>").arg(title);
        for (size_t r = 0; r < k.size(); ++r) {
            const bool sampled = k[r].first == t.token_id;
            s += QString("<tr%1><td>%2</td><td>%3</td><td>%4</td><td>%5</td></tr>")
                     .arg(sampled ? " style='background-color:#ffe08a;color:#000;font-weight:bold'" : "")
                     .arg(r + 1)
                     .arg(visibleWhitespace(decode(k[r].first)).toHtmlEscaped())
                     .arg(100.0 * std::exp(double(k[r].second)), 0, 'f', 1)
                     .arg(double(k[r].second), 0, 'f', 3);
        }
        return s + "</table>";
    };
    h += table("Teacher top-k", t.teacher_topk);
    h += table("Student top-k", t.student_topk);
    return h;
}

void TokenView::showDetail(int row, int index) {
    const TokenDivergenceBatch* b = row < 0 ? nullptr : store_->findNth(step_, row == 0 ? "speech" : "text", sample_);
    if (!b || index < 0 || index >= int(b->tokens.size())) {
        detail_->setHtml("<p>Hover a token to see its value and both models' top-k; click to lock it; ←/→ move the lock.</p>");
        return;
    }
    detail_->setHtml(describe(*b, index) + (row == lockedRow_ && index == lockedIndex_ ? "<p><i>locked</i></p>" : ""));
}

QString TokenView::detailHtml() const { return detail_->toHtml(); }

void TokenView::exportCsv(const QString& path) const { TokenStore::exportCsv(shownBatches(), path); }
void TokenView::exportJson(const QString& path) const { TokenStore::exportJson(shownBatches(), path); }

}  // namespace xopd::widgets
