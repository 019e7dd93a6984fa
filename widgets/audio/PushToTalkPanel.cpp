#include "widgets/audio/PushToTalkPanel.h"

#include "widgets/audio/WaveformView.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTimer>

#include <cmath>
#include <exception>

namespace xopd::widgets {

namespace {
/// The live waveform's x axis: 5 s, then the next multiple of 5 s the recording reaches.
double spanFor(double seconds) { return std::max(5.0, 5.0 * std::ceil(seconds / 5.0)); }
}  // namespace

PushToTalkPanel::PushToTalkPanel(QWidget* parent)
    : QWidget(parent),
      button_(new QPushButton("Hold to talk", this)),
      wave_(new WaveformView(this)),
      info_(new QLabel(this)),
      pump_(new QTimer(this)) {
    options_.sample_rate = 16000;
    button_->setObjectName("pushToTalk");
    button_->setToolTip("Hold to record a question, release to ask it (leading and trailing silence are trimmed)");
    wave_->setObjectName("pushToTalkWaveform");
    wave_->setMinimumHeight(48);
    wave_->setMaximumHeight(72);
    wave_->setTimeSpan(spanFor(0));
    info_->setMinimumWidth(140);
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(button_);
    row->addWidget(wave_, 1);
    row->addWidget(info_);
    connect(button_, &QPushButton::pressed, this, [this] { press(); });
    connect(button_, &QPushButton::released, this, &PushToTalkPanel::release);
    pump_->setInterval(50);
    connect(pump_, &QTimer::timeout, this, &PushToTalkPanel::poll);
}

PushToTalkPanel::~PushToTalkPanel() = default;

bool PushToTalkPanel::press() {
    if (recorder_) return true;
    try {
        recorder_ = std::make_unique<audio::AudioRecorder>(options_);
        recorder_->start();
    } catch (const std::exception& e) {
        recorder_.reset();
        info_->setText("no recording");
        emit failed(QString("Push to talk: %1").arg(QString::fromUtf8(e.what())));
        return false;
    }
    ticks_ = 0;
    wave_->setClip({});
    wave_->setTimeSpan(spanFor(0));
    info_->setText("● recording 0.0 s");
    button_->setDown(true);
    pump_->start();
    emit started();
    return true;
}

void PushToTalkPanel::poll() {
    if (!recorder_) return;
    try {
        recorder_->pump();
    } catch (const std::exception& e) {
        emit failed(QString("Push to talk: %1").arg(QString::fromUtf8(e.what())));
    }
    if (++ticks_ % 2 == 0) showLive();  // 10 Hz: the data rate is not the paint rate
}

void PushToTalkPanel::showLive() {
    audio::AudioClip live;
    live.samples = recorder_->samplesSoFar();
    live.sample_rate = int(std::lround(recorder_->deviceRate()));
    const double seconds = live.durationSeconds();
    wave_->setTimeSpan(spanFor(seconds));
    wave_->setClip(live);
    info_->setText(QString("● recording %1 s").arg(seconds, 0, 'f', 1));
    emit liveUpdated(seconds);
}

void PushToTalkPanel::release() {
    if (!recorder_) return;
    pump_->stop();
    button_->setDown(false);
    audio::AudioClip clip;
    try {
        clip = recorder_->stop();
    } catch (const std::exception& e) {
        recorder_.reset();
        emit failed(QString("Push to talk: %1").arg(QString::fromUtf8(e.what())));
        return;
    }
    recorder_.reset();
    const audio::SpeechBounds b = audio::findSpeechBounds(clip, trim_);
    audio::AudioClip kept;
    kept.sample_rate = clip.sample_rate;
    kept.samples.assign(clip.samples.begin() + b.begin, clip.samples.begin() + b.end);
    const double seconds = clip.durationSeconds();
    wave_->setTimeSpan(0);
    wave_->setClip(kept);
    info_->setText(b.found ? QString("%1 s (cut %2 s before, %3 s after)")
                                 .arg(kept.durationSeconds(), 0, 'f', 2)
                                 .arg(double(b.begin) / clip.sample_rate, 0, 'f', 2)
                                 .arg(double(int64_t(clip.samples.size()) - b.end) / clip.sample_rate, 0, 'f', 2)
                           : QString("%1 s (no speech found: kept whole)").arg(seconds, 0, 'f', 2));
    emit recorded(kept, b, seconds);
}

}  // namespace xopd::widgets
