#include "widgets/run/RankTimesPanel.h"

#include "widgets/charts/MetricStore.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace xopd::widgets {

RankTimesPanel::RankTimesPanel(MetricStore* store, QWidget* parent) : QGroupBox("Data parallel", parent), store_(store) {
    summary_ = new QLabel(this);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    table_ = new QTableWidget(0, 4, this);
    table_->setHorizontalHeaderLabels({"Rank", "Last step (s)", QString("Mean of last %1 (s)").arg(kWindow), "vs fastest"});
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionMode(QAbstractItemView::NoSelection);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->setToolTip("Each rank's own step time (rank 0 records them every step); the slowest rank holds the others "
                       "back at every collective");
    auto* l = new QVBoxLayout(this);
    l->addWidget(summary_);
    l->addWidget(table_);
    hide();
}

void RankTimesPanel::showRun(const QString& runId) {
    if (runId == runId_ && store_->revision() == revision_) return;
    runId_ = runId;
    revision_ = store_->revision();
    rebuild();
}

QString RankTimesPanel::summaryText() const { return summary_->text(); }

void RankTimesPanel::rebuild() {
    last_.clear();
    mean_.clear();
    slowest_ = -1;
    // The ranks that reported the run's last step: a resume at another world size leaves older,
    // shorter series behind.
    std::vector<const MetricSeries*> series;
    double lastStep = -1;
    for (int r = 0;; ++r) {
        const MetricSeries* s = runId_.isEmpty() ? nullptr : store_->series(runId_, rankStepKey(r));
        if (!s) break;
        series.push_back(s);
        if (!s->step.empty()) lastStep = std::max(lastStep, s->step.back());
    }
    for (const MetricSeries* s : series) {
        if (s->step.empty() || s->step.back() != lastStep) break;
        const size_t n = std::min<size_t>(kWindow, s->value.size());
        double sum = 0;
        for (size_t i = s->value.size() - n; i < s->value.size(); ++i) sum += s->value[i];
        last_.push_back(s->value.back());
        mean_.push_back(sum / double(n));
    }
    setVisible(!mean_.empty());
    table_->setRowCount(int(mean_.size()));
    if (mean_.empty()) {
        summary_->clear();
        return;
    }
    slowest_ = int(std::max_element(mean_.begin(), mean_.end()) - mean_.begin());
    const double fastest = *std::min_element(mean_.begin(), mean_.end());
    auto slower = [&](double v) { return fastest > 0 ? 100.0 * (v / fastest - 1.0) : 0.0; };
    for (int r = 0; r < int(mean_.size()); ++r) {
        const QStringList cells = {QString::number(r), QString::number(last_[size_t(r)], 'f', 3),
                                   QString::number(mean_[size_t(r)], 'f', 3),
                                   QString("+%1 %").arg(slower(mean_[size_t(r)]), 0, 'f', 0)};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            item->setTextAlignment(c == 0 ? Qt::Alignment(Qt::AlignCenter) : Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
            if (r == slowest_ && mean_.size() > 1) {
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
                item->setBackground(QColor("#ffe0b2"));
                item->setForeground(QColor("#5d2c00"));
                item->setToolTip("The slowest rank: the others wait for it at every collective");
            }
            table_->setItem(r, c, item);
        }
    }
    // As tall as its rows (at most 8; more scroll), so the charts keep the room.
    int height = table_->horizontalHeader()->sizeHint().height() + 2 * table_->frameWidth();
    for (int r = 0; r < std::min(table_->rowCount(), 8); ++r) height += table_->rowHeight(r);
    table_->setFixedHeight(height);
    QString text = QString("World size: %1 · step %2").arg(mean_.size()).arg(lastStep, 0, 'f', 0);
    if (mean_.size() > 1)
        text += QString(" · slowest: rank %1, +%2 % vs the fastest (mean of the last %3 steps)")
                    .arg(slowest_)
                    .arg(slower(mean_[size_t(slowest_)]), 0, 'f', 0)
                    .arg(std::min<size_t>(kWindow, series.front()->value.size()));
    summary_->setText(text);
}

}  // namespace xopd::widgets
