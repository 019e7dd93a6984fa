#include "widgets/main/RunConfigDiff.h"

#include "core/distill/Knobs.h"
#include "core/run/RunFolder.h"
#include "core/run/RunKnobs.h"

#include <QCheckBox>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

#include <set>

namespace xopd::widgets {

std::map<QString, QString> flattenRunConfig(const QString& runDir) {
    std::map<QString, QString> out;
    for (const auto& [key, value] : run::RunFolder(runDir.toStdString()).flatConfig())
        out[QString::fromStdString(key)] = QString::fromStdString(value);
    // The values the run ran with: its hot edits, each on the field it changes, with where it began.
    std::map<QString, QString> started;
    for (const auto& k : run::knobEdits(runDir.toStdString())) {
        const QString field = QString::fromStdString(distill::knob(k.name).field);
        if (!started.count(field)) started[field] = out.count(field) ? out[field] : QString("–");
        out[field] = QString("%1 (hot edit before step %2; run.json %3)")
                         .arg(QString::number(k.value, 'g', 6))
                         .arg(k.before_step)
                         .arg(started[field]);
    }
    return out;
}

std::vector<ConfigDiffRow> configDiff(const QStringList& runDirs, bool diffOnly) {
    std::vector<std::map<QString, QString>> configs;
    std::set<QString> keys;
    for (const QString& d : runDirs) {
        configs.push_back(flattenRunConfig(d));
        for (const auto& [k, v] : configs.back()) keys.insert(k);
    }
    std::vector<ConfigDiffRow> rows;
    for (const QString& k : keys) {
        ConfigDiffRow r;
        r.key = k;
        for (const auto& c : configs) {
            auto it = c.find(k);
            r.values << (it == c.end() ? QString() : it->second);
        }
        for (const QString& v : r.values) r.differs = r.differs || v != r.values.front();
        if (!diffOnly || r.differs) rows.push_back(std::move(r));
    }
    return rows;
}

RunCompareDialog::RunCompareDialog(QStringList ids, QStringList dirs, QWidget* parent)
    : QDialog(parent), ids_(std::move(ids)), dirs_(std::move(dirs)) {
    setWindowTitle("Compare run configurations");
    setModal(false);
    diffOnly_ = new QCheckBox("Diff only", this);
    diffOnly_->setChecked(true);
    table_ = new QTableWidget(this);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->horizontalHeader()->setStretchLastSection(true);
    auto* l = new QVBoxLayout(this);
    l->addWidget(diffOnly_);
    l->addWidget(table_, 1);
    connect(diffOnly_, &QCheckBox::toggled, this, &RunCompareDialog::rebuild);
    resize(900, 600);
    rebuild();
}

void RunCompareDialog::setDiffOnly(bool on) { diffOnly_->setChecked(on); }
int RunCompareDialog::shownRows() const { return table_->rowCount(); }

void RunCompareDialog::rebuild() {
    const auto rows = configDiff(dirs_, diffOnly_->isChecked());
    table_->clear();
    table_->setColumnCount(int(ids_.size()) + 1);
    table_->setHorizontalHeaderLabels(QStringList{"key"} + ids_);
    table_->setRowCount(int(rows.size()));
    for (int r = 0; r < int(rows.size()); ++r) {
        auto* key = new QTableWidgetItem(rows[size_t(r)].key);
        if (rows[size_t(r)].differs) {
            QFont f = key->font();
            f.setBold(true);
            key->setFont(f);
        }
        table_->setItem(r, 0, key);
        for (int c = 0; c < rows[size_t(r)].values.size(); ++c) table_->setItem(r, c + 1, new QTableWidgetItem(rows[size_t(r)].values[c]));
    }
    table_->resizeColumnsToContents();
}

}  // namespace xopd::widgets
