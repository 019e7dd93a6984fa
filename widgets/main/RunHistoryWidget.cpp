#include "widgets/main/RunHistoryWidget.h"

#include "widgets/common/RunColors.h"
#include "widgets/common/Theme.h"
#include "widgets/main/RunConfigDiff.h"
#include "widgets/main/RunHistoryModel.h"

#include <QAction>
#include <QCheckBox>
#include <QColorDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

#include <exception>
#include <utility>

namespace xopd::widgets {

namespace {
QAction* makeAction(QWidget* parent, const QString& text, const QKeySequence& key, const QString& tip) {
    auto* a = new QAction(text, parent);
    a->setShortcut(key);
    a->setStatusTip(tip);
    a->setToolTip(QString("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
    return a;
}
}  // namespace

RunHistoryWidget::RunHistoryWidget(RunHistoryModel* model, QWidget* parent)
    : QWidget(parent), model_(model), proxy_(new QSortFilterProxyModel(this)), table_(new QTableView(this)) {
    refresh_ = makeAction(this, "&Refresh run list", QKeySequence(Qt::Key_F5), "Re-read the run folders of the workspace");
    overlay_ = makeAction(this, "&Overlay selected runs", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L),
                          "Overlay the selected runs on the charts of the live monitor (each in its own colour)");
    open_ = makeAction(this, "Open &run", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_G),
                       "Open the selected run: load its metrics and tokens and follow it while it is written");
    resume_ = makeAction(this, "Res&ume selected run", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R),
                         "Resume the selected stopped or interrupted run from its last checkpoint (same run id)");
    fork_ = makeAction(this, "&Fork selected run…", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F),
                       "Fork the selected run from one of its checkpoints into a new run that records its parent");
    colour_ = makeAction(this, "Change run &colour…", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K),
                         "Pick the colour of the selected run on every chart");
    compare_ = makeAction(this, "Co&mpare configurations", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M),
                          "Compare the configurations of the selected runs (Diff only shows the keys that differ)");
    actions_ = {refresh_, overlay_, open_, resume_, fork_, colour_, compare_};
    connect(compare_, &QAction::triggered, this, [this] {
        if (selectedDirs().size() < 2) {
            emit statusMessage("Select two or more runs to compare");
            return;
        }
        try {
            auto* d = new RunCompareDialog(selectedIds(), selectedDirs(), this);
            d->setAttribute(Qt::WA_DeleteOnClose);
            d->show();
        } catch (const std::exception& e) {
            emit statusMessage(QString::fromUtf8(e.what()));
        }
    });
    connect(refresh_, &QAction::triggered, this, [this] {
        announceRefresh_ = true;
        model_->refresh();  // read on a worker thread; the table updates when it is done
    });
    connect(model_, &RunHistoryModel::refreshed, this, [this](const QStringList& problems) {
        if (!std::exchange(announceRefresh_, false)) return;  // only the refreshes asked for here
        emit statusMessage(problems.isEmpty() ? QString("%1 runs in %2").arg(model_->rowCount()).arg(model_->root())
                                              : problems.join("; "));
    });
    connect(overlay_, &QAction::triggered, this, [this] {
        if (selectedIds().isEmpty()) emit statusMessage("Select one or more runs to overlay");
        else emit overlayRequested(selectedIds(), selectedDirs());
    });
    auto single = [this](void (RunHistoryWidget::*sig)(const QString&), const char* what) {
        return [this, sig, what] {
            const QStringList dirs = selectedDirs();
            if (dirs.size() != 1) emit statusMessage(QString("Select exactly one run to %1").arg(what));
            else emit(this->*sig)(dirs.front());
        };
    };
    connect(open_, &QAction::triggered, this, single(&RunHistoryWidget::openRequested, "open"));
    connect(resume_, &QAction::triggered, this, single(&RunHistoryWidget::resumeRequested, "resume"));
    connect(fork_, &QAction::triggered, this, single(&RunHistoryWidget::forkRequested, "fork"));
    connect(colour_, &QAction::triggered, this, [this] {
        const QStringList ids = selectedIds();
        if (ids.size() != 1) {
            emit statusMessage("Select exactly one run to colour");
            return;
        }
        const QColor c = QColorDialog::getColor(RunColors::color(ids.front(), currentTheme() == ThemeKind::Dark), this,
                                                "Run colour of " + ids.front());
        if (!c.isValid()) return;
        RunColors::setOverride(ids.front(), c);
        model_->coloursChanged();
        emit colourChanged(ids.front());
    });

    proxy_->setSourceModel(model_);
    proxy_->setSortRole(RunHistoryModel::SortRole);
    proxy_->setFilterKeyColumn(-1);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(RunHistoryModel::Started, Qt::DescendingOrder);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setColumnWidth(RunHistoryModel::Color, 18);
    table_->setAlternatingRowColors(true);
    connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
        if (i.column() == RunHistoryModel::Color) colour_->trigger();
        else overlay_->trigger();
    });

    filter_ = new QLineEdit(this);
    filter_->setPlaceholderText("Filter runs (any column)");
    filter_->setClearButtonEnabled(true);
    regex_ = new QCheckBox("Regex", this);
    count_ = new QLabel(this);
    connect(filter_, &QLineEdit::textChanged, this, &RunHistoryWidget::updateFilter);
    connect(regex_, &QCheckBox::toggled, this, &RunHistoryWidget::updateFilter);
    connect(model_, &QAbstractItemModel::modelReset, this, [this] {
        updateFilter();
        table_->resizeColumnsToContents();
        table_->setColumnWidth(RunHistoryModel::Color, 18);
    });

    auto* bar = new QHBoxLayout;
    bar->addWidget(filter_, 1);
    bar->addWidget(regex_);
    for (QAction* a : actions_) {
        auto* b = new QToolButton(this);
        b->setDefaultAction(a);
        b->setToolButtonStyle(Qt::ToolButtonTextOnly);
        bar->addWidget(b);
    }
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(table_, 1);
    layout->addWidget(count_);
    updateFilter();
}

void RunHistoryWidget::updateFilter() {
    const QString t = filter_->text();
    if (regex_->isChecked()) {
        QRegularExpression re(t, QRegularExpression::CaseInsensitiveOption);
        if (!re.isValid()) {
            count_->setText("Invalid regular expression: " + re.errorString());
            return;
        }
        proxy_->setFilterRegularExpression(re);
    } else {
        proxy_->setFilterFixedString(t);
    }
    count_->setText(QString("%1 of %2 runs · %3").arg(proxy_->rowCount()).arg(model_->rowCount()).arg(model_->root()));
}

void RunHistoryWidget::setFilter(const QString& text) { filter_->setText(text); }

QStringList RunHistoryWidget::selectedIds() const {
    QStringList out;
    for (const QModelIndex& i : table_->selectionModel()->selectedRows())
        out << model_->row(proxy_->mapToSource(i).row()).id;
    return out;
}

QStringList RunHistoryWidget::selectedDirs() const {
    QStringList out;
    for (const QModelIndex& i : table_->selectionModel()->selectedRows())
        out << model_->row(proxy_->mapToSource(i).row()).dir;
    return out;
}

void RunHistoryWidget::selectRun(const QString& id) {
    const int r = model_->rowOf(id);
    if (r < 0) return;
    const QModelIndex i = proxy_->mapFromSource(model_->index(r, RunHistoryModel::Run));
    table_->selectionModel()->select(i, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    table_->scrollTo(i);
}

}  // namespace xopd::widgets
