#pragma once
// The A/B listening screen: pick two outputs (prompt clips, teacher vs student answers rendered
// with TTS, before vs after, checkpoint vs checkpoint), run a blind A/B or ABX test with a seeded
// assignment, switch A/B/X instantly at the same playhead with a short fade, loudness-matched by
// playback gain (offset shown in dB, toggle to turn it off), A–B loop, webMUSHRA keys (Space,
// Esc/Backspace, 0/R reference, 1–3 = A/B/X, ←/→, L loop, A/B loop points, Shift+A/B clear),
// reveal, ABX tally with p-value, results saved as JSON. GUI thread only.
//
// An ABX trial cannot be answered before X was played, and with "Answer only after every clip was
// played" (webMUSHRA's rule) no trial can be answered before each of its slots was heard. The
// waveform shows the clip of the selected slot. New conditions (chooseConditions, or a new clip
// for a condition of the test) end a test that was revealed or that used other conditions.

#include "core/audio/AudioClip.h"
#include "widgets/ab/AbSession.h"

#include <QWidget>

#include <memory>

class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace xopd::widgets {

class AudioTransport;
class WaveformView;

class AbListeningWidget : public QWidget {
    Q_OBJECT
public:
    explicit AbListeningWidget(QWidget* parent = nullptr);

    /// Adds a clip that can be chosen as a condition (replaces one with the same name).
    void addCandidate(const QString& name, const audio::AudioClip& clip);
    QStringList candidateNames() const;
    /// Picks the two conditions by name.
    void chooseConditions(const QString& first, const QString& second);
    /// Starts a test with the chosen conditions and `seed`, which the Seed box then shows (so the
    /// assignment can be reproduced from the screen). Returns false (status message) when not
    /// possible, also for a seed above the box's range (2^31 − 1).
    bool startTest(AbMode mode, uint32_t seed, int trials);
    /// Starts a test with a freshly generated seed (what Start does while "New seed each test" is
    /// ticked, the default); the Seed box shows it. Returns false as startTest does.
    bool startTestWithNewSeed(AbMode mode, int trials);
    /// The Seed box's value and the "New seed each test" box (tests, screenshots).
    int seedShown() const;
    void setNewSeedEachTest(bool on);
    AbSession* session() const { return session_.get(); }
    int currentTrial() const { return trial_; }
    /// Selects slot 0 = A, 1 = B, 2 = X (switches playback at the same playhead).
    void selectSlot(int slot);
    int currentSlot() const { return slot_; }
    /// Answers the current trial and moves to the next. Refused (status message, returns false)
    /// while canAnswer() is false.
    bool answer(int slot);
    /// Whether the current trial may be answered: X played (ABX), and every slot played when
    /// "Answer only after every clip was played" is on.
    bool canAnswer() const;
    /// "Answer only after every clip was played" (off by default).
    void setRequirePlayback(bool on);
    /// Slots of the current trial that were played (bit i = slot i).
    int playedSlots() const { return heard_; }
    /// The waveform's text when no test runs (tests).
    QString hintText() const;
    /// Text of the slot buttons and the tally (tests: labels must stay hidden before reveal).
    QStringList slotTexts() const;
    QString tallyText() const;
    QString gainText() const;
    /// Sets the A–B loop points (seconds) and turns the loop on or off, as the A, B and L keys do at
    /// the playhead (tests, screenshots). The loop plays only where B > A.
    void setLoop(double a, double b, bool on);
    QString loopText() const;
    QList<QAction*> screenActions() const { return actions_; }

signals:
    void statusMessage(const QString& message);

private:
    struct Candidate {
        QString name;
        audio::AudioClip clip;
        double lufs;
    };
    const Candidate* candidate(int condition) const;
    double gainFor(int condition) const;
    void refresh();
    void togglePlay();
    void endTest();
    void markHeard();
    void applyLoop();  ///< the loop points to the transport, the waveform's region and the label

    std::vector<Candidate> candidates_;
    std::unique_ptr<AbSession> session_;
    int chosen_[2] = {-1, -1};
    int trial_ = 0, slot_ = 0;
    int heard_ = 0;  ///< slots of the current trial played so far (bit mask)
    double loopA_ = 0, loopB_ = 0;
    bool loopOn_ = false;

    QComboBox* first_;
    QComboBox* second_;
    QComboBox* mode_;
    QSpinBox* seed_;
    QCheckBox* newSeed_;
    QSpinBox* trials_;
    QCheckBox* match_;
    QCheckBox* debugLabels_;
    QCheckBox* requirePlayback_;
    QLineEdit* rater_;
    QPushButton* slotButtons_[3];
    QPushButton* answerButtons_[2];
    QLabel* trialLabel_;
    QLabel* tally_;
    QLabel* gain_;
    QLabel* loopLabel_;
    WaveformView* waveform_;
    AudioTransport* transport_;
    QList<QAction*> actions_;
};

}  // namespace xopd::widgets
