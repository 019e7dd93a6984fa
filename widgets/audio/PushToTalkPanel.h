#pragma once
// Push-to-talk for live demos: hold the button (or the key its owner binds, AskWidget: F4) to
// record, release to hand the recording on. While it records, the live waveform grows from the
// left in a fixed time span (as in Audacity) and the duration counts up; on release the leading
// and trailing silence are trimmed relative to the noise floor (core/audio/SilenceTrim.h), so the
// model hears the question, not the second of room before it.
//
//   auto* ptt = new PushToTalkPanel(this);
//   connect(ptt, &PushToTalkPanel::recorded, this, [](const audio::AudioClip& clip) { ask(clip); });
//
// The recorder (core AudioRecorder, PortAudio) is pumped by a GUI timer every 50 ms; the waveform
// and counter are redrawn at 10 Hz. GUI thread only.

#include "core/audio/AudioClip.h"
#include "core/audio/AudioDevices.h"
#include "core/audio/SilenceTrim.h"

#include <QWidget>

#include <memory>

class QLabel;
class QPushButton;
class QTimer;

namespace xopd::widgets {

class WaveformView;

class PushToTalkPanel : public QWidget {
    Q_OBJECT
public:
    explicit PushToTalkPanel(QWidget* parent = nullptr);
    ~PushToTalkPanel() override;

    /// Device and limits of the recordings (default: the default input at 16 kHz, no limit).
    void setRecordOptions(const audio::RecordOptions& options) { options_ = options; }
    /// How silence is trimmed on release.
    void setTrimOptions(const audio::SilenceTrimOptions& options) { trim_ = options; }

    /// Starts recording (the button or key went down). Returns false, with failed(), when no
    /// input device opens; true when already recording.
    bool press();
    /// Stops (the button or key went up): trims, then emits recorded(). Nothing when not recording.
    void release();
    bool isRecording() const { return recorder_ != nullptr; }

    QPushButton* button() const { return button_; }
    WaveformView* waveform() const { return wave_; }

signals:
    void started();
    /// The recording with its silence trimmed; `bounds` says what was kept of the `seconds` recorded.
    void recorded(const audio::AudioClip& clip, const audio::SpeechBounds& bounds, double seconds);
    /// The live waveform was redrawn with `seconds` of recording (about 10 times a second).
    void liveUpdated(double seconds);
    void failed(const QString& message);

private:
    void poll();
    void showLive();

    audio::RecordOptions options_;
    audio::SilenceTrimOptions trim_;
    std::unique_ptr<audio::AudioRecorder> recorder_;
    QPushButton* button_;
    WaveformView* wave_;
    QLabel* info_;
    QTimer* pump_;
    int ticks_ = 0;
};

}  // namespace xopd::widgets
