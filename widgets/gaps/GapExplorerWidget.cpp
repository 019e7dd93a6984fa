#include "widgets/gaps/GapExplorerWidget.h"

#include "core/session/GapExplorer.h"
#include "widgets/common/Background.h"
#include "widgets/tokens/TokenMetrics.h"

#include <QApplication>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>

namespace xopd::widgets {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

QTableWidgetItem* numberItem(double v, int digits) {
    auto* item = new QTableWidgetItem(QString::number(v, 'f', digits));
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QTableWidget* readOnlyTable(QWidget* parent) {
    auto* t = new QTableWidget(parent);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->verticalHeader()->hide();
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

}  // namespace

GapExplorerWidget::GapExplorerWidget(QWidget* parent) : QWidget(parent) {
    manifest_ = new QLineEdit(this);
    manifest_->setPlaceholderText("prompt manifest (JSONL with reference answers)");
    auto* browse = new QPushButton("Browse…", this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, "Prompt manifest", manifest_->text(), "Manifests (*.jsonl)");
        if (!f.isEmpty()) manifest_->setText(f);
    });
    by_ = new QComboBox(this);
    by_->addItems({"voice", "accent", "rate", "condition", "tag", "category"});
    run_ = new QLineEdit(this);
    run_->setPlaceholderText("run folder: before = its initial student, after = its latest checkpoint (optional)");
    models_ = new QPlainTextEdit(this);
    models_->setPlaceholderText("model folders, one a line (optional)");
    models_->setMaximumHeight(64);
    compute_ = new QPushButton("Compute", this);
    compute_->setToolTip("Evaluate every checkpoint on the manifest's clips (S, T and the modality gap by group)");
    status_ = new QLabel(this);
    status_->setWordWrap(true);
    connect(compute_, &QPushButton::clicked, this, [this] { computing_ ? stop() : void(compute()); });

    auto* manifestRow = new QHBoxLayout;
    manifestRow->addWidget(manifest_, 1);
    manifestRow->addWidget(browse);
    auto* form = new QFormLayout;
    form->addRow("Prompts:", manifestRow);
    form->addRow("Group by:", by_);
    form->addRow("Run:", run_);
    form->addRow("Models:", models_);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(compute_);
    buttons->addWidget(status_, 1);
    form->addRow(buttons);

    groups_ = readOnlyTable(this);
    groups_->horizontalHeader()->setStretchLastSection(false);  // n is a short number: the map gets the room
    groups_->setSelectionMode(QAbstractItemView::SingleSelection);
    groups_->setSelectionBehavior(QAbstractItemView::SelectItems);
    connect(groups_, &QTableWidget::cellClicked, this, [this](int row, int column) {
        if (row >= int(table_.groups.size()) || table_.checkpoints.empty()) return;
        // Columns: group, then S/T/gap per checkpoint, then n.
        const int ck = column == 0 ? int(table_.checkpoints.size()) - 1
                                   : std::min((column - 1) / 3, int(table_.checkpoints.size()) - 1);
        selectCell(row, ck);
    });

    plot_ = new QCustomPlot(this);
    plot_->setMinimumHeight(220);
    map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
    scale_ = new QCPColorScale(plot_);
    plot_->plotLayout()->addElement(0, 1, scale_);
    scale_->setType(QCPAxis::atRight);
    scale_->axis()->setLabel("gap (nats/token)");
    map_->setColorScale(scale_);
    // The token view's colour-blind-friendly diverging palette, white at 0: orange where speech hurts
    // (gap > 0), blue where it helps.
    QCPColorGradient gradient;
    gradient.clearColorStops();
    gradient.setColorStopAt(0.0, divergingColor(1.0, 1.0));
    gradient.setColorStopAt(0.5, Qt::white);
    gradient.setColorStopAt(1.0, divergingColor(-1.0, 1.0));
    map_->setGradient(gradient);
    map_->setInterpolate(false);
    plot_->yAxis->setRangeReversed(true);  // the first (largest-gap) group on top
    plot_->xAxis->setLabel("checkpoint");
    connect(plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) { onPlotClick(e->pos()); });

    clips_ = readOnlyTable(this);
    clips_->setColumnCount(9);
    clips_->setHorizontalHeaderLabels({"clip", "groups", "transcript", "reference", "answer to speech", "answer to text",
                                       "S", "T", "gap"});
    connect(clips_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { listen(row); });
    listen_ = new QPushButton("Listen A/B", this);
    listen_->setToolTip("The selected clip and the same question where speech hurts least (or the two selected "
                        "clips) on the A/B listening screen");
    connect(listen_, &QPushButton::clicked, this, [this] {
        QList<int> rows;
        for (const auto& r : clips_->selectionModel()->selectedRows()) rows << r.row();
        std::sort(rows.begin(), rows.end());
        if (rows.isEmpty()) {
            setStatus("Select a clip first");
            return;
        }
        listen(rows[0], rows.size() > 1 ? rows[1] : -1);
    });

    auto* top = new QSplitter(Qt::Horizontal, this);
    top->addWidget(groups_);
    top->addWidget(plot_);
    top->setStretchFactor(0, 1);
    top->setStretchFactor(1, 1);
    top->setSizes({1, 1});  // table and map share the width (the table's size hint asked for most of it)
    plot_->setMinimumWidth(360);
    auto* bottom = new QWidget(this);
    auto* bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    bottomLayout->addWidget(clips_, 1);
    bottomLayout->addWidget(listen_, 0, Qt::AlignLeft);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    split->addWidget(bottom);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(split, 1);
    setStatus("Choose a manifest and checkpoints, then Compute.");
}

GapExplorerWidget::~GapExplorerWidget() { stop(); }

void GapExplorerWidget::stop() {
    if (stop_) stop_->store(true);
}

void GapExplorerWidget::setManifest(const QString& path) { manifest_->setText(path); }
void GapExplorerWidget::setGrouping(const QString& by) {
    const int i = by_->findText(by);
    if (i >= 0) by_->setCurrentIndex(i);
}
void GapExplorerWidget::setRunFolder(const QString& dir) { run_->setText(dir); }
void GapExplorerWidget::setModelFolders(const QStringList& dirs) { models_->setPlainText(dirs.join('\n')); }
QString GapExplorerWidget::manifest() const { return manifest_->text(); }
QString GapExplorerWidget::statusText() const { return status_->text(); }

void GapExplorerWidget::setStatus(const QString& text) {
    status_->setText(text);
    emit statusMessage(text);
}

bool GapExplorerWidget::compute() {
    if (computing_) {
        setStatus("The gap explorer is already computing");
        return false;
    }
    session::GapRequest r;
    r.manifest = manifest_->text().trimmed().toStdString();
    r.by = by_->currentText().toStdString();
    const std::string run = run_->text().trimmed().toStdString();
    std::vector<std::string> models;
    for (const auto& line : models_->toPlainText().split('\n', Qt::SkipEmptyParts))
        if (!line.trimmed().isEmpty()) models.push_back(line.trimmed().toStdString());
    computing_ = true;
    stop_ = std::make_shared<std::atomic<bool>>(false);
    compute_->setText("Stop");
    setStatus("Computing: evaluating the checkpoints on a worker thread…");
    // Progress lines reach the status line through the event loop (and not at all once the widget is gone).
    QPointer<GapExplorerWidget> self(this);
    auto progress = [self](const std::string& line) {
        QMetaObject::invokeMethod(
            qApp, [self, text = QString::fromStdString(line)] { if (self) self->setStatus("Computing: " + text); },
            Qt::QueuedConnection);
    };
    runInBackground(
        this,
        [r, run, models, progress, stop = stop_]() mutable {
            if (!run.empty()) r.checkpoints = session::runGapCheckpoints(run);
            for (const auto& m : models) r.checkpoints.push_back(session::folderGapCheckpoint(m));
            if (r.checkpoints.empty()) throw std::runtime_error("gap explorer: give a run folder or a model folder");
            return session::exploreGaps(r, progress, stop.get());
        },
        [this](eval::GapTable t) {
            computing_ = false;
            compute_->setText("Compute");
            showTable(t);
            emit computed();
        },
        [this](const QString& error) {
            computing_ = false;
            compute_->setText("Compute");
            setStatus("Gap explorer failed: " + error);
            emit failed(error);
        });
    return true;
}

void GapExplorerWidget::showTable(const eval::GapTable& table) {
    table_ = table;
    setGrouping(q(eval::groupFieldName(table_.by)));
    fillGroupTable();
    fillHeatMap();
    listed_.clear();
    clips_->setRowCount(0);
    group_ = checkpoint_ = -1;
    setStatus(QString("%1 clips in %2 groups by %3, %4 checkpoint(s); sorted by the gap of '%5'. Click a cell for its clips.")
                  .arg(table_.clips.size())
                  .arg(table_.groups.size())
                  .arg(q(eval::groupFieldName(table_.by)))
                  .arg(table_.checkpoints.size())
                  .arg(q(table_.checkpoints.back())));
}

void GapExplorerWidget::fillGroupTable() {
    const int nc = int(table_.checkpoints.size());
    groups_->clear();
    groups_->setColumnCount(2 + 3 * nc);
    QStringList head{q(eval::groupFieldName(table_.by))};
    for (const auto& c : table_.checkpoints) head << "S %\n" + q(c) << "T %\n" + q(c) << "gap\n" + q(c);
    head << "n";
    groups_->setHorizontalHeaderLabels(head);
    std::vector<const eval::GapGroup*> rows;
    for (const auto& g : table_.groups) rows.push_back(&g);
    rows.push_back(&table_.overall);
    groups_->setRowCount(int(rows.size()));
    for (int r = 0; r < int(rows.size()); ++r) {
        groups_->setItem(r, 0, new QTableWidgetItem(q(rows[size_t(r)]->name)));
        for (int c = 0; c < nc; ++c) {
            const auto& cell = rows[size_t(r)]->cells[size_t(c)];
            groups_->setItem(r, 1 + 3 * c, numberItem(cell.speech, 1));
            groups_->setItem(r, 2 + 3 * c, numberItem(cell.text, 1));
            groups_->setItem(r, 3 + 3 * c, numberItem(cell.gap, 3));
        }
        groups_->setItem(r, 1 + 3 * nc, numberItem(double(rows[size_t(r)]->clips.size()), 0));
    }
    groups_->resizeColumnsToContents();
}

void GapExplorerWidget::fillHeatMap() {
    const int nc = int(table_.checkpoints.size()), ng = int(table_.groups.size());
    map_->data()->setSize(nc, ng);
    map_->data()->setRange(QCPRange(0, std::max(nc - 1, 0)), QCPRange(0, std::max(ng - 1, 0)));
    double extent = 1e-6;
    for (int g = 0; g < ng; ++g)
        for (int c = 0; c < nc; ++c) {
            const double v = table_.groups[size_t(g)].cells[size_t(c)].gap;
            map_->data()->setCell(c, g, v);
            extent = std::max(extent, std::abs(v));
        }
    map_->setDataRange(QCPRange(-extent, extent));  // white = no gap
    auto xt = QSharedPointer<QCPAxisTickerText>::create();
    for (int c = 0; c < nc; ++c) xt->addTick(c, q(table_.checkpoints[size_t(c)]));
    auto yt = QSharedPointer<QCPAxisTickerText>::create();
    for (int g = 0; g < ng; ++g) yt->addTick(g, q(table_.groups[size_t(g)].name));
    plot_->xAxis->setTicker(xt);
    plot_->yAxis->setTicker(yt);
    plot_->xAxis->setRange(-0.5, nc - 0.5);
    plot_->yAxis->setRange(-0.5, ng - 0.5);
    // Each cell's value written on it, and a frame that marks the selected cell.
    plot_->clearItems();
    for (int g = 0; g < ng; ++g)
        for (int c = 0; c < nc; ++c) {
            auto* label = new QCPItemText(plot_);
            label->position->setCoords(c, g);
            const double v = table_.groups[size_t(g)].cells[size_t(c)].gap;
            label->setText(QString::asprintf("%+.3f", v));
            label->setColor(wantsWhiteText(divergingColor(-v, extent)) ? Qt::white : Qt::black);
            label->setClipToAxisRect(true);
        }
    selection_ = new QCPItemRect(plot_);
    selection_->setPen(QPen(Qt::black, 2));
    selection_->setVisible(false);
    plot_->replot();
}

QPoint GapExplorerWidget::cellCentre(int group, int checkpoint) const {
    return QPoint(int(std::lround(plot_->xAxis->coordToPixel(checkpoint))), int(std::lround(plot_->yAxis->coordToPixel(group))));
}

void GapExplorerWidget::onPlotClick(const QPoint& pos) {
    if (table_.groups.empty() || !plot_->axisRect()->rect().contains(pos)) return;
    const int c = int(std::lround(plot_->xAxis->pixelToCoord(pos.x())));
    const int g = int(std::lround(plot_->yAxis->pixelToCoord(pos.y())));
    if (c >= 0 && c < int(table_.checkpoints.size()) && g >= 0 && g < int(table_.groups.size())) selectCell(g, c);
}

void GapExplorerWidget::selectCell(int group, int checkpoint) {
    if (group < 0 || group >= int(table_.groups.size()) || checkpoint < 0 || checkpoint >= int(table_.checkpoints.size()))
        return;
    group_ = group;
    checkpoint_ = checkpoint;
    selection_->topLeft->setCoords(checkpoint - 0.5, group - 0.5);
    selection_->bottomRight->setCoords(checkpoint + 0.5, group + 0.5);
    selection_->setVisible(true);
    plot_->replot(QCustomPlot::rpQueuedReplot);
    const auto& row = table_.outcomes[size_t(checkpoint)];
    listed_ = table_.groups[size_t(group)].clips;
    std::stable_sort(listed_.begin(), listed_.end(),
                     [&row](int a, int b) { return row[size_t(a)].gap() > row[size_t(b)].gap(); });
    clips_->setRowCount(int(listed_.size()));
    for (int r = 0; r < int(listed_.size()); ++r) {
        const auto& c = table_.clips[size_t(listed_[size_t(r)])];
        const auto& o = row[size_t(listed_[size_t(r)])];
        QStringList groups;
        for (const auto& g : c.groups) groups << q(g);
        clips_->setItem(r, 0, new QTableWidgetItem(q(c.id)));
        clips_->setItem(r, 1, new QTableWidgetItem(groups.join(", ")));
        clips_->setItem(r, 2, new QTableWidgetItem(q(c.transcript)));
        clips_->setItem(r, 3, new QTableWidgetItem(q(c.reference)));
        clips_->setItem(r, 4, new QTableWidgetItem(q(o.speech_answer)));
        clips_->setItem(r, 5, new QTableWidgetItem(q(o.text_answer)));
        clips_->setItem(r, 6, new QTableWidgetItem(o.speech_correct ? "✓" : "✗"));
        clips_->setItem(r, 7, new QTableWidgetItem(o.text_correct ? "✓" : "✗"));
        clips_->setItem(r, 8, numberItem(o.gap(), 3));
    }
    clips_->resizeColumnsToContents();
    setStatus(QString("%1 · %2: %3 clips, gap %4 nats/token")
                  .arg(q(table_.groups[size_t(group)].name), q(table_.checkpoints[size_t(checkpoint)]))
                  .arg(listed_.size())
                  .arg(table_.groups[size_t(group)].cells[size_t(checkpoint)].gap, 0, 'f', 3));
}

QStringList GapExplorerWidget::listedClipIds() const {
    QStringList ids;
    for (int i : listed_) ids << q(table_.clips[size_t(i)].id);
    return ids;
}

QString GapExplorerWidget::clipName(int clip) const {
    const auto& c = table_.clips[size_t(clip)];
    QStringList groups;
    for (const auto& g : c.groups) groups << q(g);
    return QString("%1 · %2 · %3").arg(q(c.id), groups.join(", "), q(table_.checkpoints[size_t(checkpoint_)]));
}

bool GapExplorerWidget::listen(int row, int second) {
    if (row < 0 || row >= int(listed_.size()) || second >= int(listed_.size())) {
        setStatus("Select a clip first");
        return false;
    }
    const int a = listed_[size_t(row)];
    const int b = second >= 0 ? listed_[size_t(second)] : eval::contrastClip(table_, a, checkpoint_);
    if (b < 0 || b == a) {
        setStatus("No other rendition of this question in another group: select two clips to compare");
        return false;
    }
    emit listenRequested(clipName(a), q(table_.clips[size_t(a)].audio_path), clipName(b),
                         q(table_.clips[size_t(b)].audio_path));
    return true;
}

}  // namespace xopd::widgets
