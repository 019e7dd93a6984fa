#pragma once
// The "Gap explorer" screen: where speech still hurts the student, and whether a run fixed it.
// Pick a prompt manifest, a grouping (voice, accent, rate, condition, tag, category) and the
// checkpoints (a run folder: before = its initial student, after = its latest checkpoint; and/or
// model folders, one a line); Compute evaluates them on a worker thread through core's torch-free
// session::exploreGaps (xopd eval --by does the same) and shows
//   - a table: one row per group, sorted by the gap of the last checkpoint (largest first), with
//     S %, T % and the gap (nats/token) per checkpoint, then n;
//   - a heat map (QCPColorMap): groups × checkpoints, colour = gap (the token view's diverging
//     palette, symmetric around 0: orange = speech hurts, blue = it helps), each cell's value written on it, groups in the table's order from the
//     top, the selected cell framed;
//   - the clips of the selected cell (a click on a heat-map cell or a table row): id, transcript,
//     reference, answers to speech and to text, gap; "Listen A/B" (or a double click) sends the
//     clip and its contrast (eval::contrastClip: the same question where speech hurts least, or the
//     second selected clip) to the A/B listening screen through listenRequested().
// GUI thread only; the evaluation never runs on it.

#include "core/eval/GapBreakdown.h"

#include <QString>
#include <QStringList>
#include <QWidget>

#include <atomic>
#include <memory>

class QCPColorMap;
class QCPColorScale;
class QCPItemRect;
class QCustomPlot;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace xopd::widgets {

class GapExplorerWidget : public QWidget {
    Q_OBJECT
public:
    explicit GapExplorerWidget(QWidget* parent = nullptr);
    ~GapExplorerWidget() override;

    /// Inputs of the next compute() (what the form shows).
    void setManifest(const QString& path);
    void setGrouping(const QString& by);
    void setRunFolder(const QString& dir);
    void setModelFolders(const QStringList& dirs);
    QString manifest() const;

    /// Starts the evaluation on a worker thread; false (message shown) while one runs.
    /// Emits computed() or failed() when it ends; the status line shows which checkpoint runs.
    bool compute();
    bool computing() const { return computing_; }
    /// Asks a running compute() to stop after the checkpoint in progress (it then fails with
    /// "stopped"). Also done, without waiting, when the widget is destroyed.
    void stop();

    /// Shows a ready table (compute() ends here; tests call it directly).
    void showTable(const eval::GapTable& table);
    const eval::GapTable& table() const { return table_; }

    /// Selects the cell (group row in table order, checkpoint column) and lists its clips.
    void selectCell(int group, int checkpoint);
    int selectedGroup() const { return group_; }
    int selectedCheckpoint() const { return checkpoint_; }
    /// Ids of the listed clips (the selected cell's), in list order (largest gap first).
    QStringList listedClipIds() const;
    /// Sends listed clip `row` (and its contrast, or listed clip `second` when >= 0) to A/B.
    /// Returns false (message shown) when nothing can be compared.
    bool listen(int row, int second = -1);

    // Views (tests, screenshots).
    QCustomPlot* heatPlot() const { return plot_; }
    QCPColorMap* heatMap() const { return map_; }
    QTableWidget* groupTable() const { return groups_; }
    QTableWidget* clipTable() const { return clips_; }
    /// Widget coordinates (in heatPlot()) of the centre of a heat-map cell.
    QPoint cellCentre(int group, int checkpoint) const;
    QString statusText() const;

signals:
    void computed();
    void failed(const QString& message);
    void statusMessage(const QString& message);
    /// Two clips for the A/B screen: their names (id · group · checkpoint) and audio files.
    void listenRequested(const QString& nameA, const QString& pathA, const QString& nameB, const QString& pathB);

private:
    void fillGroupTable();
    void fillHeatMap();
    void onPlotClick(const QPoint& pos);
    void setStatus(const QString& text);
    QString clipName(int clip) const;

    eval::GapTable table_;
    std::vector<int> listed_;  ///< clip indices of the selected cell, in list order
    int group_ = -1, checkpoint_ = -1;
    bool computing_ = false;
    std::shared_ptr<std::atomic<bool>> stop_;  ///< the running compute's stop flag

    QLineEdit* manifest_;
    QComboBox* by_;
    QLineEdit* run_;
    QPlainTextEdit* models_;
    QPushButton* compute_;
    QLabel* status_;
    QTableWidget* groups_;
    QCustomPlot* plot_;
    QCPColorMap* map_;
    QCPColorScale* scale_;
    QCPItemRect* selection_ = nullptr;  ///< frame around the selected cell
    QTableWidget* clips_;
    QPushButton* listen_;
};

}  // namespace xopd::widgets
