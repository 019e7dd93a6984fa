#pragma once
// A clip preview: waveform (min/max per pixel column) or log-mel spectrogram (the Whisper front
// end of core/audio, computed once per clip on a worker thread), a playhead, an optional loop region, and click to
// seek. GUI thread only.

#include "core/audio/AudioClip.h"

#include <QImage>
#include <QWidget>

namespace xopd::widgets {

class WaveformView : public QWidget {
    Q_OBJECT
public:
    explicit WaveformView(QWidget* parent = nullptr);
    void setClip(const audio::AudioClip& clip);
    const audio::AudioClip& clip() const { return clip_; }
    /// Shows the log-mel spectrogram instead of the waveform.
    void setSpectrogram(bool on);
    bool spectrogram() const { return spectrogram_; }
    void setPlayhead(double seconds);
    double playhead() const { return playhead_; }
    /// The x axis spans at least this many seconds (0 = the clip's duration): a recording drawn
    /// into a fixed span grows from the left, as in Audacity, instead of being squeezed to fit.
    void setTimeSpan(double seconds);
    double timeSpan() const;
    /// Marks [startS, endS) (no region when endS <= startS).
    void setRegion(double startS, double endS);
    /// Seconds at a widget x coordinate.
    double secondsAt(int x) const;
    /// Whether the spectrogram image of the current clip is in (computed on a worker thread after
    /// setClip / setSpectrogram(true): spectrogramReady() says when).
    bool hasSpectrogramImage() const { return !spec_.isNull(); }
    /// The duration label ("1.25 s · 16000 Hz · log-mel") and where it is drawn: top right, on a
    /// plate of the base colour so it reads on any spectrogram.
    QString labelText() const;
    QRect labelRect() const;
    /// The spectrogram image: one column per 10 ms frame, one row per mel bin, the highest bin on
    /// top (row 0); brighter = louder (null until computed).
    const QImage& spectrogramImage() const { return spec_; }

signals:
    void seekRequested(double seconds);
    /// The spectrogram image of the current clip is in (it is computed on a worker thread).
    void spectrogramReady();

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent* e) override;

private:
    void computeSpectrogram();
    audio::AudioClip clip_;
    QImage spec_;
    quint64 specGeneration_ = 0;  ///< bumped per computation; older results are dropped
    bool spectrogram_ = false;
    double playhead_ = 0, regionStart_ = 0, regionEnd_ = 0;
    double minSpan_ = 0;
};

}  // namespace xopd::widgets
