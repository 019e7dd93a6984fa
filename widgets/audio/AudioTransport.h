#pragma once
// Playback for the GUI on top of xopd::audio::AudioPlayer: play a clip from a position with a
// playback gain (dB; the clip itself is untouched) and a short fade-in, report the playhead at
// ~30 Hz, stop, switch to another clip at the same playhead with a crossfade (A/B) and loop a
// region. The player keeps one output stream running: a jump, a switch or a loop pass is done by
// its callback between two samples, never by reopening the device. Errors (no output device) are
// reported through failed(), never thrown. GUI thread only; PortAudio's thread never calls back
// into Qt.

#include "core/audio/AudioClip.h"

#include <QObject>

#include <cstdint>
#include <memory>

class QTimer;

namespace xopd::audio {
class AudioPlayer;
}

namespace xopd::widgets {

class AudioTransport : public QObject {
    Q_OBJECT
public:
    explicit AudioTransport(QObject* parent = nullptr);
    ~AudioTransport() override;

    /// Output device name ("" = default).
    void setDevice(const QString& name) { device_ = name; }
    /// Plays `clip` from `startS` with `gainDb`, fading in over `fadeMs`. Returns false (and emits
    /// failed) when no output device can be opened.
    bool play(const audio::AudioClip& clip, double startS = 0.0, double gainDb = 0.0, int fadeMs = 10);
    /// While playing: continues with `clip` at the player's own playhead, to the sample, with a
    /// linear crossfade of `fadeMs` from the clip playing. While stopped: makes `clip` the current
    /// clip, and `atS` (when >= 0) the position reported until the next play().
    bool switchTo(const audio::AudioClip& clip, double gainDb, int fadeMs = 15, double atS = -1.0);
    void stop();
    bool isPlaying() const;
    /// Playhead in seconds of the clip (the last position while stopped).
    double position() const;
    /// Loop [startS, endS) while playing; endS <= startS turns looping off. While looping, the player
    /// plays to the loop end (fading out, so playback never runs past it) and goes on from the loop
    /// start (fading in) on the same stream, pass after pass, with no gap; a start outside the loop
    /// starts at the loop start. A change applies to the pass playing; turning looping off lets the
    /// current pass play to its end.
    void setLoop(double startS, double endS);
    bool looping() const { return loopEnd_ > loopStart_; }
    double loopStart() const { return loopStart_; }
    double loopEnd() const { return loopEnd_; }
    /// Builds the slice that play() would hand to the device (tests): samples from startS (to endS
    /// when endS >= 0), scaled by gainDb, with a linear fade-in of fadeMs (and, when endS >= 0, a
    /// fade-out of fadeMs at the end: the loop border).
    static audio::AudioClip renderSlice(const audio::AudioClip& clip, double startS, double gainDb, int fadeMs,
                                        double endS = -1.0);

signals:
    void positionChanged(double seconds);
    void playingChanged(bool playing);
    /// Looping playback went back to the loop start (once per pass).
    void loopWrapped();
    void failed(const QString& message);

private:
    void tick();
    QString device_;
    std::unique_ptr<audio::AudioPlayer> player_;
    audio::AudioClip clip_;
    double startS_ = 0, gainDb_ = 0, lastPos_ = 0;
    double loopStart_ = 0, loopEnd_ = 0;
    double sliceEndS_ = 0;  ///< where the slice on the device ends (clip seconds)
    std::int64_t wraps_ = 0;  ///< the player's loop wraps already reported
    bool playing_ = false;
    QTimer* timer_;
};

}  // namespace xopd::widgets
