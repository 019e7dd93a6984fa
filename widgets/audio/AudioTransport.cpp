#include "widgets/audio/AudioTransport.h"

#include "core/audio/AudioDevices.h"

#include <QTimer>

#include <algorithm>
#include <cmath>

namespace xopd::widgets {

AudioTransport::AudioTransport(QObject* parent) : QObject(parent), timer_(new QTimer(this)) {
    timer_->setInterval(33);
    connect(timer_, &QTimer::timeout, this, &AudioTransport::tick);
}

AudioTransport::~AudioTransport() {
    if (player_) player_->stop();
}

audio::AudioClip AudioTransport::renderSlice(const audio::AudioClip& clip, double startS, double gainDb, int fadeMs,
                                             double endS) {
    audio::AudioClip out;
    out.sample_rate = clip.sample_rate;
    if (clip.sample_rate <= 0) return out;
    const size_t first = std::min(clip.samples.size(), size_t(std::max(0.0, startS) * clip.sample_rate));
    const size_t last = endS < 0 ? clip.samples.size()
                                 : std::clamp(size_t(std::llround(endS * clip.sample_rate)), first, clip.samples.size());
    out.samples.assign(clip.samples.begin() + long(first), clip.samples.begin() + long(last));
    const float g = float(std::pow(10.0, gainDb / 20.0));
    const size_t n = out.samples.size();
    const size_t fade = std::min(n, size_t(std::max(0, fadeMs) * clip.sample_rate / 1000));
    for (size_t i = 0; i < n; ++i) {
        float s = out.samples[i] * g;
        if (i < fade) s *= float(i) / float(fade);
        // Loop border: fade out so the jump back to the loop start does not click.
        if (endS >= 0 && fade > 0 && n - 1 - i < fade) s *= float(n - 1 - i) / float(fade);
        out.samples[i] = s;
    }
    return out;
}

bool AudioTransport::play(const audio::AudioClip& clip, double startS, double gainDb, int fadeMs) {
    try {
        if (!player_) player_ = std::make_unique<audio::AudioPlayer>(audio::PlayOptions{device_.toStdString()});
        clip_ = clip;
        startS_ = std::clamp(startS, 0.0, clip.durationSeconds());
        sliceEndS_ = clip.durationSeconds();
        if (looping()) {
            if (startS_ < loopStart_ || startS_ >= loopEnd_) startS_ = std::min(loopStart_, clip.durationSeconds());
            sliceEndS_ = std::min(loopEnd_, clip.durationSeconds());
        }
        gainDb_ = gainDb;
        // What renderSlice() builds, played by the player from the clip itself: while playing, the
        // running stream jumps (no reopen, no gap).
        audio::PlayCue cue;
        cue.start_s = startS_;
        cue.end_s = looping() ? sliceEndS_ : -1.0;
        cue.gain = float(std::pow(10.0, gainDb / 20.0));
        cue.fade_ms = fadeMs;
        // The loop's passes are played by the player's callback on the running stream.
        if (looping()) cue.loop_start_s = std::min(loopStart_, clip.durationSeconds());
        player_->play(clip, cue);
        wraps_ = 0;
    } catch (const std::exception& e) {
        player_.reset();
        emit failed(QString::fromUtf8(e.what()));
        return false;
    }
    lastPos_ = startS_;
    if (!playing_) {
        playing_ = true;
        emit playingChanged(true);
    }
    timer_->start();
    return true;
}

bool AudioTransport::switchTo(const audio::AudioClip& clip, double gainDb, int fadeMs, double atS) {
    if (!isPlaying()) {
        clip_ = clip;
        gainDb_ = gainDb;
        if (atS >= 0) lastPos_ = atS;
        return true;
    }
    // At the player's own playhead, to the sample: the crossfade needs both clips at one position.
    try {
        const bool switched = player_->switchTo(clip, float(std::pow(10.0, gainDb / 20.0)), fadeMs,
                                                looping() ? sliceEndS_ : -1.0, looping() ? loopStart_ : -1.0);
        wraps_ = 0;
        clip_ = clip;
        gainDb_ = gainDb;
        if (!switched) sliceEndS_ = clip.durationSeconds();  // it had just ended: the end reports as usual
        return true;
    } catch (const std::exception& e) {
        emit failed(QString::fromUtf8(e.what()));
        return false;
    }
}

void AudioTransport::stop() {
    lastPos_ = position();
    if (player_) player_->stop();
    timer_->stop();
    if (playing_) {
        playing_ = false;
        emit playingChanged(false);
    }
}

bool AudioTransport::isPlaying() const { return playing_; }

double AudioTransport::position() const {
    if (!playing_ || !player_) return lastPos_;
    // The player counts whole frames: the start it was given may lie a fraction of one after them.
    const double p = player_->positionSeconds();
    return p < startS_ && p > startS_ - 1e-3 ? startS_ : p;
}

void AudioTransport::setLoop(double startS, double endS) {
    loopStart_ = startS;
    loopEnd_ = endS;
    if (!playing_ || !player_ || !player_->isPlaying()) return;
    // The running cue follows at once: the same clip at the same playhead (a crossfade of identical
    // samples), with the new loop, or none (the current pass then plays to its end). A loop set
    // while the playhead is past its end is taken by tick(), which jumps to the loop start.
    const double gain = std::pow(10.0, gainDb_ / 20.0);
    try {
        if (!looping()) {
            player_->switchTo(clip_, float(gain), 10, sliceEndS_ < clip_.durationSeconds() ? sliceEndS_ : -1.0);
        } else if (position() < loopEnd_) {
            sliceEndS_ = std::min(loopEnd_, clip_.durationSeconds());
            player_->switchTo(clip_, float(gain), 10, sliceEndS_, std::min(loopStart_, clip_.durationSeconds()));
        }
        wraps_ = 0;
    } catch (const std::exception& e) {
        emit failed(QString::fromUtf8(e.what()));
    }
}

void AudioTransport::tick() {
    if (!player_) return;
    const double pos = position();
    if (const std::int64_t w = player_->loopWraps(); w > wraps_) {
        startS_ = std::min(loopStart_, clip_.durationSeconds());
        for (; wraps_ < w; ++wraps_) emit loopWrapped();
    }
    emit positionChanged(pos);
    // Back to the loop start once the loop's slice has played out (it ends at the loop end), or
    // when the loop was set during a pass that runs past its end.
    if (looping() && (!player_->isPlaying() || (sliceEndS_ > loopEnd_ && pos >= loopEnd_))) {
        if (play(clip_, loopStart_, gainDb_, 10)) {
            emit positionChanged(startS_);  // the playhead jumps back now, not at the next tick
            emit loopWrapped();
        }
        return;
    }
    if (!player_->isPlaying()) {
        lastPos_ = 0;
        timer_->stop();
        playing_ = false;
        emit positionChanged(clip_.durationSeconds());
        emit playingChanged(false);
    }
}

}  // namespace xopd::widgets
