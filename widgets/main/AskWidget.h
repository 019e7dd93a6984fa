#pragma once
// The Ask screen (live-mic demo): pick a prompt (the model set's questions or any clip of the
// prompt library, including one just recorded with Ctrl+R), edit or type the transcript, and see
// at once the student's answer to the audio next to the teacher's answer to the transcript, with
// the token divergence view of the student's answers below (speech row A_cm, text row A_im). Each
// ask becomes one "step" of the view's scrubber, so earlier asks stay one slider move away.
//
// The student can be the set-up screen's (base) student or the latest checkpoint of a run (the
// picker lists the runs the main window offers: checkpointAskConfig builds the models from the
// run's folder on the worker thread).
//
// Push-to-talk (live demos): hold F4 or the "Hold to talk" button to record, release to ask. The
// live waveform grows while recording; on release the silence before and after the question is
// trimmed (core/audio/SilenceTrim.h), the clip joins the prompt library with the transcript typed
// in the field, and both models are asked. The answers stream in token by token as they are
// generated: the student's answer to the audio first, the teacher's beside it.
//
// Generation runs in an AskWorker on its own QThread; the GUI thread never waits for it.
// GUI thread only.

#include "core/audio/AudioClip.h"
#include "core/session/AskService.h"

#include <QWidget>

#include <vector>

class QAction;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTextBrowser;
class QThread;
class QTimer;

namespace xopd::widgets {

class AskWorker;
class PromptLibraryModel;
class PushToTalkPanel;
class TokenStore;
class TokenView;

/// A run checkpoint the Ask screen can answer with.
struct AskCheckpoint {
    QString label;          ///< shown in the picker ("run … · step-000040")
    QString runDir;         ///< RUN
    QString checkpointDir;  ///< RUN/checkpoints/<latest>
};

class AskWidget : public QWidget {
    Q_OBJECT
public:
    AskWidget(PromptLibraryModel* library, QWidget* parent = nullptr);
    ~AskWidget() override;

    /// Models to ask (student / teacher / data sections of a run config). Drops loaded models.
    void setModelConfig(const distill::DistillConfig& config, const QString& description);
    /// Loads the models now (else on the first ask or when the screen is first shown).
    void loadModels();
    /// Where push-to-talk recordings are written (default: a folder in the system's temp folder).
    void setRecordingFolder(const QString& folder) { recordingFolder_ = folder; }
    PushToTalkPanel* pushToTalk() const { return ptt_; }
    /// The answer of `part` (a session::AskPart) as streamed so far in the current or last ask.
    QString streamedAnswer(int part) const;

    /// The run checkpoints the student picker offers after the base student (replaces the list;
    /// a chosen checkpoint stays chosen while it is offered, else the base student is back).
    void setRunCheckpoints(const QList<AskCheckpoint>& checkpoints);
    /// Student picker: 0 = the base student of setModelConfig, i ≥ 1 = checkpoint i − 1. Choosing
    /// drops loaded models; they load again on the next ask (at once while the screen is shown).
    int studentChoiceCount() const;
    int studentChoice() const;
    void chooseStudent(int index);
    QString studentChoiceText(int index) const;
    /// Asks the chosen prompt with the transcript in the field. Returns false (status message)
    /// when there is nothing to ask or an ask is already running.
    bool ask();
    bool busy() const { return busy_; }
    bool hasModels() const { return loaded_; }

    /// Prompts offered in the picker (model set first, then the library). Each has a stable key,
    /// "model:<id>" or "library:<id>" (ids, never texts: the kit says each question in several
    /// voices); the choice is kept by key when the picker is rebuilt.
    int promptCount() const;
    void choosePrompt(int index);
    /// Chooses the library prompt with this id (the picker is brought up to date first). Returns
    /// false when the library has no such prompt.
    bool chooseLibraryPrompt(const QString& id);
    /// Key of the chosen prompt ("" when none).
    QString chosenPromptKey() const;
    /// The picker's text for the chosen prompt.
    QString chosenPromptLabel() const;
    /// The Audio line: the chosen clip's path (or why there is none).
    QString audioText() const;
    void setTranscript(const QString& text);
    QString transcript() const;

    QString studentAnswer() const { return last_.student_answer.c_str(); }
    QString teacherAnswer() const { return last_.teacher_answer.c_str(); }
    const session::AskAnswer& lastAnswer() const { return last_; }
    TokenStore* tokens() const { return tokens_; }
    TokenView* tokenView() const { return view_; }
    QList<QAction*> screenActions() const { return actions_; }

signals:
    void modelsLoaded(const QString& description);
    void answered();
    void failed(const QString& message);
    void statusMessage(const QString& message);
    /// "Send answers to A/B": both answers as text, for the main window to render with TTS.
    void answersForListening(const QString& studentAnswer, const QString& teacherAnswer);
    /// The record button was pressed: the main window starts/stops the library's recorder.
    void recordRequested();
    /// An answer grew by a token while generating: `part` is a session::AskPart.
    void answerStreamed(int part, const QString& textSoFar);

protected:
    void showEvent(QShowEvent* event) override;
    /// Push-to-talk's key release (F4 up, wherever the focus is), application-wide.
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    struct Choice {
        QString key;  ///< "model:<id>" or "library:<id>"
        QString label;
        data::PromptItem prompt;
    };
    void rebuildChoices();
    /// Shows choice `index`'s transcript and audio in the fields.
    void showChoice(int index);
    /// A library row changed: the picker's label, and the transcript field when it is that prompt.
    void libraryEdited(const QModelIndex& topLeft, const QModelIndex& bottomRight);
    void scheduleRebuild();
    void onLoaded(const QString& description, const std::vector<data::PromptItem>& prompts);
    void onAnswered(const session::AskAnswer& answer);
    void onFailed(const QString& message);
    void setBusy(bool busy, const QString& why = {});
    /// Asks `prompt` (transcript and clip set) with the knobs of the screen.
    bool askPrompt(const data::PromptItem& prompt);
    void onPartial(int part, const QString& text);
    void showStreamed();
    /// Push-to-talk released: the trimmed clip is saved, offered and asked.
    void askRecording(const audio::AudioClip& clip, double cutSeconds);
    /// Sends the chosen student (base config or checkpoint) to the worker.
    void configureWorker();

    PromptLibraryModel* library_;
    TokenStore* tokens_;
    TokenView* view_;
    QThread* thread_;
    AskWorker* worker_;
    distill::DistillConfig baseConfig_;
    QString baseDescription_;
    QList<AskCheckpoint> checkpoints_;
    std::vector<data::PromptItem> modelPrompts_;
    std::vector<Choice> choices_;
    session::AskAnswer last_;
    bool configured_ = false, loaded_ = false, loading_ = false, busy_ = false, rebuildPending_ = false;
    bool staleLoad_ = false;  ///< the load in flight is for a previous student choice
    QString pendingSelect_;  ///< key to choose at the next rebuild (a new recording)
    int64_t asks_ = 0;

    QComboBox* prompt_;
    QComboBox* studentPick_;
    QLineEdit* transcript_;
    QLabel* audio_;
    QLabel* models_;
    QLabel* state_;
    QSpinBox* maxTokens_;
    QDoubleSpinBox* temperature_;
    QSpinBox* seed_;
    QPushButton* askButton_;
    QTextBrowser* student_;
    QTextBrowser* teacher_;
    QAction* ask_;
    QAction* record_;
    QAction* listen_;
    QAction* talk_;
    QList<QAction*> actions_;
    PushToTalkPanel* ptt_;
    QString recordingFolder_;
    QString streamed_[4];  ///< by session::AskPart
    QTimer* streamPaint_;
};

}  // namespace xopd::widgets
