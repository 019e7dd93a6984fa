#pragma once
// Configuration comparison of runs (W&B's Run Comparer): the resolved config of each run's
// run.json flattened to dotted keys ("loss.lambda", "train.lr", "student.path", ...), one row per
// key with each run's value (hot edits included: the values the run ran with), optionally only the keys whose values differ ("Diff only").
// Plain functions plus a small modeless dialog. GUI thread only.

#include <QDialog>
#include <QStringList>

#include <map>
#include <vector>

class QCheckBox;
class QTableWidget;

namespace xopd::widgets {

/// One key of the comparison and its value in each run ("" when a run lacks it).
struct ConfigDiffRow {
    QString key;
    QStringList values;
    bool differs = false;
};

/// The "config" object of DIR/run.json flattened to dotted keys (arrays as compact JSON;
/// run::RunFolder::flatConfig), with the run's hot edits (run::knobEdits) on the fields they
/// changed: "0.8 (hot edit before step 13; run.json 0.5)". Throws xopd::Error naming the file when it is missing or not JSON.
std::map<QString, QString> flattenRunConfig(const QString& runDir);

/// Rows for the given run folders, sorted by key; `diffOnly` keeps keys whose values differ.
std::vector<ConfigDiffRow> configDiff(const QStringList& runDirs, bool diffOnly);

class RunCompareDialog : public QDialog {
    Q_OBJECT
public:
    RunCompareDialog(QStringList ids, QStringList dirs, QWidget* parent = nullptr);
    /// Rows shown now (tests).
    int shownRows() const;
    void setDiffOnly(bool on);

private:
    void rebuild();
    QStringList ids_, dirs_;
    QCheckBox* diffOnly_;
    QTableWidget* table_;
};

}  // namespace xopd::widgets
