#pragma once
// The run history screen: the run table of a workspace (RunHistoryModel behind a sort/filter
// proxy; filter by text or regex over every column), with actions to overlay the selected runs on
// the charts (each run keeps its stable colour; double-click the colour cell to change it), open a
// run to follow it, resume a stopped or interrupted run, and fork a run from one of its checkpoint
// steps, and compare the configurations of the selected runs (Diff only). The main window carries
// the run actions out. GUI thread only.

#include <QWidget>

class QAction;
class QCheckBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace xopd::widgets {

class RunHistoryModel;

class RunHistoryWidget : public QWidget {
    Q_OBJECT
public:
    explicit RunHistoryWidget(RunHistoryModel* model, QWidget* parent = nullptr);

    QTableView* table() const { return table_; }
    QSortFilterProxyModel* proxy() const { return proxy_; }
    /// Ids and folders of the selected runs, in table order.
    QStringList selectedIds() const;
    QStringList selectedDirs() const;
    void selectRun(const QString& id);
    void setFilter(const QString& text);
    QList<QAction*> screenActions() const { return actions_; }
    QAction* overlayAction() const { return overlay_; }
    QAction* resumeAction() const { return resume_; }
    QAction* forkAction() const { return fork_; }
    QAction* refreshAction() const { return refresh_; }

signals:
    void overlayRequested(const QStringList& ids, const QStringList& dirs);
    void openRequested(const QString& dir);
    void resumeRequested(const QString& dir);
    /// Fork asked for; the main window asks for the step.
    void forkRequested(const QString& dir);
    void colourChanged(const QString& id);
    void statusMessage(const QString& message);

private:
    void updateFilter();
    RunHistoryModel* model_;
    QSortFilterProxyModel* proxy_;
    QTableView* table_;
    QLineEdit* filter_;
    QCheckBox* regex_;
    QLabel* count_;
    QAction *refresh_, *overlay_, *open_, *resume_, *fork_, *colour_, *compare_;
    bool announceRefresh_ = false;  ///< the Refresh action asked: say how many runs were found
    QList<QAction*> actions_;
};

}  // namespace xopd::widgets
