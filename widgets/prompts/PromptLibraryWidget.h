#pragma once
// The prompt library screen: the prompt table (sort, filter by text or regex), import of files,
// folders and JSONL manifests (buttons or drag and drop), recording from a chosen microphone
// (Ctrl+R starts/stops; live peak meter, duration counter at 5 Hz, clipping warning), speech
// synthesis with a voice picker, a waveform / log-mel spectrogram preview with playhead and click
// to seek, Space plays and Esc stops. "Augment…" (AugmentDialog) puts the selected or the shown
// prompts under acoustic conditions (core/data/PromptAugmentation.h) on a worker thread, with a
// progress bar and Cancel; the new clips (WORKSPACE/augmented/<time>/) join the library tagged with
// their condition. GUI thread only; the recorder is pumped from a GUI timer (PortAudio's thread only
// touches the core's ring buffer).

#include "widgets/prompts/PromptLibraryModel.h"

#include <QWidget>

#include <atomic>
#include <memory>

class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QSortFilterProxyModel;
class QTableView;
class QTimer;

namespace xopd::audio {
class AudioRecorder;
}

namespace xopd::widgets {

class AudioTransport;
class WaveformView;

class PromptLibraryWidget : public QWidget {
    Q_OBJECT
public:
    PromptLibraryWidget(PromptLibraryModel* model, QWidget* parent = nullptr);
    ~PromptLibraryWidget() override;

    /// Folder where recordings and synthesized clips are written.
    void setWorkspaceFolder(const QString& folder) { workspace_ = folder; }
    QList<QAction*> screenActions() const { return actions_; }
    QTableView* table() const { return table_; }
    QSortFilterProxyModel* proxy() const { return proxy_; }
    WaveformView* waveform() const { return waveform_; }
    /// Selected source row (−1 when none).
    int currentRow() const;
    void selectRow(int sourceRow);

    /// Recording (also bound to Ctrl+R). startRecording returns false and shows why when the device
    /// cannot be opened.
    bool startRecording();
    /// Stops, writes the clip into the workspace and adds it; returns its row (−1 on failure).
    int stopRecording();
    bool isRecording() const { return recorder_ != nullptr; }
    QString recordingStatus() const;
    /// The live input meter (0..100, the peak since its last 5 Hz update) and the clipping warning
    /// ("" when none).
    int meterLevel() const;
    QString clipWarningText() const;
    /// A loading indicator above the table ("" hides it): a busy bar and `message`, while a large
    /// set is read off the GUI thread.
    void setLoading(const QString& message);
    bool isLoading() const;
    QString loadingText() const;
    /// Refreshes the input-device and voice lists.
    void refreshDevices();

    /// Opens the Augment dialog (window-modal, not blocking); its OK starts startAugment().
    void openAugmentDialog();
    /// Augments the prompts of `sourceRows` under `specs` (AcousticCondition.h) on a worker thread,
    /// into WORKSPACE/augmented/<time>/. Returns false (and says why in statusMessage) when the
    /// specs do not parse, no row has a transcript, or an augmentation is already running. Rows
    /// without a transcript are left out (reported through importProblems).
    bool startAugment(const QList<int>& sourceRows, const QStringList& specs, unsigned seed);
    bool isAugmenting() const { return augmentJob_ != nullptr; }
    /// Asks the running augmentation to stop; nothing of it is kept.
    void cancelAugment();
    /// The progress line under the filter while augmenting ("" otherwise).
    QString augmentStatus() const;

signals:
    /// A prompt was chosen for the Ask screen (double click).
    void promptActivated(int sourceRow);
    void statusMessage(const QString& message);
    /// An import left files out: one line per problem, naming the file (for the Log panel).
    void importProblems(const QStringList& problems);
    /// An augmentation added `rows` prompts (from `manifest`), or failed / was cancelled.
    void augmentFinished(int rows, const QString& manifest);
    void augmentFailed(const QString& message);

protected:
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;

private:
    void importPaths(const QStringList& paths);
    void showCurrent();
    void play();
    void synthesize();
    void pollRecorder();
    void pollAugment();
    void endAugment();

    PromptLibraryModel* model_;
    QSortFilterProxyModel* proxy_;
    QTableView* table_;
    QLineEdit* filter_;
    QCheckBox* regex_;
    QComboBox* inputDevice_;
    QProgressBar* meter_;
    QLabel* recLabel_;
    QLabel* clipWarning_;
    QLineEdit* ttsText_;
    QComboBox* voice_;
    QCheckBox* spectro_;
    QLabel* loudness_;
    QWidget* loading_;
    QLabel* loadingLabel_;
    WaveformView* waveform_;
    AudioTransport* transport_;
    QTimer* pump_;
    std::unique_ptr<audio::AudioRecorder> recorder_;
    float peakSinceUi_ = 0;
    bool clipped_ = false;
    int uiTicks_ = 0;
    QString workspace_;
    QList<QAction*> actions_;
    /// Progress of the running augmentation, shared with its worker.
    struct AugmentJob {
        std::atomic<int> done{0}, total{0};
        std::atomic<bool> cancel{false};
    };
    std::shared_ptr<AugmentJob> augmentJob_;
    QWidget* augmentBox_;
    QLabel* augmentLabel_;
    QProgressBar* augmentBar_;
    QTimer* augmentTimer_;
};

}  // namespace xopd::widgets
