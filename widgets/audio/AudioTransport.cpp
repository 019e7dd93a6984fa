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

audio::AudioClip AudioTransport::renderSlice(const audio::AudioClip& clip, double startS, double gainDb, int fadeMs) {
    audio::AudioClip out;
    out.sample_rate = clip.sample_rate;
    if (clip.sample_rate <= 0) return out;
    const size_t first = std::min(clip.samples.size(), size_t(std::max(0.0, startS) * clip.sample_rate));
    out.samples.assign(clip.samples.begin() + long(first), clip.samples.end());
    const float g = float(std::pow(10.0, gainDb / 20.0));
    const size_t fade = std::min(out.samples.size(), size_t(std::max(0, fadeMs) * clip.sample_rate / 1000));
    for (size_t i = 0; i < out.samples.size(); ++i) {
        float s = out.samples[i] * g;
        if (i < fade) s *= float(i) / float(fade);
        out.samples[i] = s;
    }
    return out;
}

bool AudioTransport::play(const audio::AudioClip& clip, double startS, double gainDb, int fadeMs) {
    try {
        if (!player_) player_ = std::make_unique<audio::AudioPlayer>(audio::PlayOptions{device_.toStdString()});
        clip_ = clip;
        startS_ = std::clamp(startS, 0.0, clip.durationSeconds());
        gainDb_ = gainDb;
        player_->play(renderSlice(clip, startS_, gainDb, fadeMs));
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

bool AudioTransport::switchTo(const audio::AudioClip& clip, double gainDb, int fadeMs) {
    const double pos = position();
    if (!isPlaying()) {
        clip_ = clip;
        gainDb_ = gainDb;
        return true;
    }
    return play(clip, pos, gainDb, fadeMs);
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
    return startS_ + player_->playedSeconds();
}

void AudioTransport::setLoop(double startS, double endS) {
    loopStart_ = startS;
    loopEnd_ = endS;
}

void AudioTransport::tick() {
    if (!player_) return;
    const double pos = position();
    emit positionChanged(pos);
    if (looping() && pos >= loopEnd_) {
        play(clip_, loopStart_, gainDb_, 10);
        return;
    }
    if (!player_->isPlaying()) {
        if (looping()) {
            play(clip_, loopStart_, gainDb_, 10);
            return;
        }
        lastPos_ = 0;
        timer_->stop();
        playing_ = false;
        emit positionChanged(clip_.durationSeconds());
        emit playingChanged(false);
    }
}

}  // namespace xopd::widgets
