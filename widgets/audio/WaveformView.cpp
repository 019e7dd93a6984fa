#include "widgets/audio/WaveformView.h"

#include "core/audio/WhisperFeatures.h"
#include "widgets/common/Background.h"

#include <QMouseEvent>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace xopd::widgets {

WaveformView::WaveformView(QWidget* parent) : QWidget(parent) {
    setMinimumHeight(110);
    setCursor(Qt::PointingHandCursor);
    setToolTip("Click to seek");
}

void WaveformView::setClip(const audio::AudioClip& clip) {
    clip_ = clip;
    spec_ = QImage();
    ++specGeneration_;  // a spectrogram still being computed is of the old clip
    playhead_ = 0;
    if (spectrogram_) computeSpectrogram();
    update();
}

void WaveformView::setSpectrogram(bool on) {
    spectrogram_ = on;
    if (on && spec_.isNull()) computeSpectrogram();
    update();
}

namespace {

/// The log-mel image of (the first 30 s of) a clip: one column per frame, the highest mel bin on
/// top, a magma-like ramp. Pure function: runs on a worker thread. Null when it cannot be computed.
QImage spectrogramImageOf(audio::AudioClip clip) {
    try {
        if (clip.durationSeconds() > 30.0) clip.samples.resize(size_t(30.0 * clip.sample_rate));
        const auto f = audio::computeWhisperFeatures(clip, {128, audio::FeaturePrecision::Float32});
        const int frames = std::max(1, f.valid_frames);
        QImage img(frames, f.mel_bins, QImage::Format_RGB32);
        float lo = 1e9f, hi = -1e9f;
        for (int b = 0; b < f.mel_bins; ++b)
            for (int t = 0; t < frames; ++t) {
                lo = std::min(lo, f.at(b, t));
                hi = std::max(hi, f.at(b, t));
            }
        const float span = std::max(1e-6f, hi - lo);
        for (int b = 0; b < f.mel_bins; ++b) {
            auto* row = reinterpret_cast<QRgb*>(img.scanLine(f.mel_bins - 1 - b));
            for (int t = 0; t < frames; ++t) {
                const float v = (f.at(b, t) - lo) / span;  // 0..1, magma-like ramp
                const int r = int(255 * std::clamp(1.5f * v, 0.f, 1.f));
                const int g = int(255 * std::clamp(1.6f * v - 0.6f, 0.f, 1.f));
                const int bl = int(255 * std::clamp(v < 0.5f ? 0.3f + v : 1.3f - v, 0.f, 1.f));
                row[t] = qRgb(r, g, bl);
            }
        }
        return img;
    } catch (const std::exception&) {
        return {};
    }
}

}  // namespace

void WaveformView::computeSpectrogram() {
    if (clip_.empty() || clip_.sample_rate <= 0) return;
    // The STFT runs on a worker thread; a result for an older clip is dropped (generation).
    const quint64 generation = ++specGeneration_;
    runInBackground(
        this, [clip = clip_] { return spectrogramImageOf(clip); },
        [this, generation](const QImage& image) {
            if (generation != specGeneration_) return;
            spec_ = image;
            update();
            emit spectrogramReady();
        },
        [](const QString&) {});  // spectrogramImageOf does not throw
}

double WaveformView::secondsAt(int x) const {
    const double d = clip_.durationSeconds();
    return width() > 0 ? std::min(d, std::clamp(double(x) / width(), 0.0, 1.0) * timeSpan()) : 0.0;
}

void WaveformView::setTimeSpan(double seconds) {
    minSpan_ = std::max(0.0, seconds);
    update();
}

double WaveformView::timeSpan() const { return std::max(clip_.durationSeconds(), minSpan_); }

void WaveformView::setPlayhead(double s) {
    playhead_ = s;
    update();
}

void WaveformView::setRegion(double a, double b) {
    regionStart_ = a;
    regionEnd_ = b;
    update();
}

void WaveformView::mousePressEvent(QMouseEvent* e) {
    if (clip_.empty()) return;
    const double s = secondsAt(int(e->position().x()));
    setPlayhead(s);
    emit seekRequested(s);
}

void WaveformView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().base());
    const double dur = timeSpan();  // the x axis; the clip fills clip_.durationSeconds() of it
    const double fill = dur > 0 ? clip_.durationSeconds() / dur : 0.0;
    if (clip_.empty()) {
        p.setPen(palette().placeholderText().color());
        p.drawText(rect(), Qt::AlignCenter, "No clip selected");
        return;
    }
    if (spectrogram_ && !spec_.isNull()) {
        const double shown = spec_.width() * 0.01;  // 10 ms per frame
        p.drawImage(QRectF(0, 0, width() * std::min(fill, shown / dur), height()), spec_);
    } else {
        const int h = height(), mid = h / 2;
        p.setPen(palette().mid().color());
        p.drawLine(0, mid, width(), mid);
        const int w = std::max(1, int(std::lround(width() * fill)));
        p.setPen(palette().highlight().color());
        const size_t n = clip_.samples.size();
        for (int x = 0; x < w; ++x) {
            const size_t a = n * size_t(x) / size_t(w), b = std::max(a + 1, n * size_t(x + 1) / size_t(w));
            float lo = 0, hi = 0;
            for (size_t i = a; i < std::min(b, n); ++i) {
                lo = std::min(lo, clip_.samples[i]);
                hi = std::max(hi, clip_.samples[i]);
            }
            p.drawLine(x, mid - int(hi * (mid - 2)), x, mid - int(lo * (mid - 2)));
        }
    }
    if (regionEnd_ > regionStart_ && dur > 0) {
        QColor c(255, 200, 0, 60);
        p.fillRect(QRectF(regionStart_ / dur * width(), 0, (regionEnd_ - regionStart_) / dur * width(), height()), c);
    }
    if (dur > 0) {
        const int x = int(playhead_ / dur * width());
        p.setPen(QPen(QColor(0xd6, 0x27, 0x28), 2));
        p.drawLine(x, 0, x, height());
    }
    // On its own plate: the spectrogram (or waveform) under it can be any colour.
    const QRect plate = labelRect();
    QColor back = palette().base().color();
    back.setAlpha(225);
    p.fillRect(plate, back);
    p.setPen(palette().text().color());
    p.drawText(plate, Qt::AlignCenter, labelText());
}

QString WaveformView::labelText() const {
    if (clip_.empty()) return {};
    return QString("%1 s · %2 Hz%3").arg(clip_.durationSeconds(), 0, 'f', 2).arg(clip_.sample_rate).arg(spectrogram_ ? " · log-mel" : "");
}

QRect WaveformView::labelRect() const {
    const QFontMetrics fm = fontMetrics();
    const int w = fm.horizontalAdvance(labelText()) + 8, h = fm.height() + 4;
    return {width() - w - 2, 2, w, h};
}

}  // namespace xopd::widgets
