// Recording and playback from the widgets through a virtual ALSA device (VirtualAlsa.h: plug over
// the file plugin over null; no sound card). The prompt library's recorder hears a known recording
// and must add exactly that audio to the library, with the duration counter running and the
// clipping warning raised for its full-scale burst; the live peak meter reads the input's level and
// warns of clipping while recording; the transport must hand exactly the clip (and the clip scaled
// by its playback gain) to the output device, and report the end of playback; click to seek is
// checked on the device's output with a "timecode" clip whose samples name their own index. A/B
// switching, a jump while playing and the A-B loop are measured on a device that keeps real time
// (test_ab_device_output): this one drains as fast as it is fed, so the player, which never
// starves, races through a clip, and a stream that completes loses its last period here.
#include "tests/support/VirtualAlsa.h"

#include "core/audio/AudioDevices.h"
#include "core/audio/AudioFile.h"
#include "widgets/ab/AbListeningWidget.h"
#include "widgets/audio/AudioTransport.h"
#include "widgets/audio/WaveformView.h"
#include "widgets/prompts/PromptLibraryModel.h"
#include "widgets/prompts/PromptLibraryWidget.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QProgressBar>
#include <QThread>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <memory>

using namespace xopd;
using namespace xopd::widgets;

namespace {
/// 0.75 s at 16 kHz: a 440 Hz tone with a 3 Hz wobble, and a 10 ms full-scale burst at 0.5 s.
std::vector<float> knownRecording() {
    std::vector<float> x(12000);
    for (size_t i = 0; i < x.size(); ++i) {
        const double t = double(i) / 16000.0;
        x[i] = float(0.4 * (0.6 + 0.4 * std::sin(2 * M_PI * 3 * t)) * std::sin(2 * M_PI * 440 * t + 0.3));
    }
    for (size_t i = 8000; i < 8160; ++i) x[i] = (i / 20) % 2 ? 1.0f : -1.0f;
    return x;
}

/// A clip whose every sample names its own index: s[i] = (((i · mult) mod 2^16) − 32768) / 32768, a
/// 16-bit value (exact through the device) that is noise to the ear. `mult` is odd, so the index
/// mod 2^16 can be read back from one played sample (Timecode::index): the output shows which part
/// of which clip was played.
struct Timecode {
    uint32_t mult, inverse = 1;
    explicit Timecode(uint32_t m) : mult(m) {
        while (((inverse * mult) & 0xffffu) != 1u) inverse += 2;  // odd mult: an odd inverse exists
    }
    audio::AudioClip clip(double seconds, int rate = 16000) const {
        audio::AudioClip c{std::vector<float>(size_t(seconds * rate)), rate};
        for (size_t i = 0; i < c.samples.size(); ++i) c.samples[i] = float(int((uint32_t(i) * mult) & 0xffffu) - 32768) / 32768.0f;
        return c;
    }
    /// Clip index mod 2^16 of a played sample.
    long index(float v) const {
        const auto k = uint32_t(std::lround(double(v) * 32768.0) + 32768) & 0xffffu;
        return long((k * inverse) & 0xffffu);
    }
    /// The first run of `run` consecutive clip indices in `out`: {out offset, clip index mod 2^16}, or {−1, −1}.
    std::pair<long, long> firstIntact(const std::vector<float>& out, size_t run = 16) const {
        for (size_t j = 0; j + run <= out.size(); ++j) {
            const long at = index(out[j]);
            bool ok = true;
            for (size_t k = 1; k < run && ok; ++k) ok = index(out[j + k]) == ((at + long(k)) & 0xffff);
            if (ok) return {long(j), at};
        }
        return {-1, -1};
    }
    /// Every intact run of `run` consecutive clip indices in `out`: {out offset, clip index mod 2^16}.
    std::vector<std::pair<long, long>> intactRuns(const std::vector<float>& out, size_t run = 16) const {
        std::vector<std::pair<long, long>> runs;
        for (size_t j = 0; j + run <= out.size(); ++j) {
            const long at = index(out[j]);
            bool ok = true;
            for (size_t k = 1; k < run && ok; ++k) ok = index(out[j + k]) == ((at + long(k)) & 0xffff);
            if (!ok) continue;
            runs.push_back({long(j), at});
            while (j + 1 < out.size() && index(out[j + 1]) == ((index(out[j]) + 1) & 0xffff)) ++j;
        }
        return runs;
    }
    /// Clip index mod 2^16 of the last sample of the intact run that starts at out offset `from`.
    long lastOfRun(const std::vector<float>& out, long from) const {
        long j = from;
        while (j + 1 < long(out.size()) && index(out[size_t(j) + 1]) == ((index(out[size_t(j)]) + 1) & 0xffff)) ++j;
        return index(out[size_t(j)]);
    }
};

/// Signed distance a − b of two indices mod 2^16, in [−32768, 32768).
long modDiff(long a, long b) { return ((a - b + 32768) & 0xffff) - 32768; }

QAction* actionNamed(const QList<QAction*>& actions, const QString& text) {
    for (QAction* a : actions)
        if (a->text() == text) return a;
    return nullptr;
}
}  // namespace

class TestVirtualAlsaAudio : public QObject {
    Q_OBJECT
    std::unique_ptr<xopd::test::VirtualAlsa> alsa_;
    QTemporaryDir workspace_;

private slots:
    void initTestCase() {
        // Before anything in this process starts PortAudio.
        alsa_ = std::make_unique<xopd::test::VirtualAlsa>(knownRecording());
        QVERIFY(alsa_->ok());
        QVERIFY(workspace_.isValid());
        const auto devices = audio::listAudioDevices();
        bool hasAlsa = false, input = false, output = false;
        for (const auto& d : devices) {
            hasAlsa |= d.host_api == "ALSA";
            input |= d.max_input_channels > 0;
            output |= d.max_output_channels > 0;
        }
        if (!hasAlsa) QSKIP("PortAudio was built without ALSA: no virtual device possible");
        QVERIFY2(input && output, "the virtual ALSA device should give an input and an output");
    }

    void recordingAddsTheKnownAudio() {
        PromptLibraryModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        PromptLibraryWidget w(&model);
        w.setWorkspaceFolder(workspace_.path());
        w.resize(900, 600);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        // The input list offers the default input first, then the devices.
        auto* inputs = w.findChild<QComboBox*>();
        QVERIFY(inputs && inputs->count() >= 2);
        QCOMPARE(inputs->itemData(0).toString(), QString());
        QSignalSpy status(&w, &PromptLibraryWidget::statusMessage);

        QVERIFY(!w.isRecording());
        QVERIFY(w.startRecording());
        QVERIFY(w.isRecording());
        // The duration counter moves while recording (it updates at 5 Hz from the GUI timer).
        QTRY_VERIFY_WITH_TIMEOUT(w.recordingStatus() != "0.0 s", 10000);
        const int row = w.stopRecording();
        QVERIFY(!w.isRecording());
        QVERIFY2(row >= 0, qPrintable(status.isEmpty() ? QString() : status.last().at(0).toString()));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(w.currentRow(), row);  // the new recording is selected
        const PromptEntry& e = model.entry(row);
        QCOMPARE(e.source, QString("recorded"));
        QCOMPARE(e.sampleRate, 16000);
        QCOMPARE(e.channels, 1);
        QVERIFY(e.path.startsWith(QDir(workspace_.path()).absoluteFilePath("recordings")));
        QVERIFY(std::isfinite(e.lufs));
        // The known recording, sample for sample (16 bit in, 16-bit WAV out: exact).
        const audio::AudioClip clip = model.loadClip(row);
        const auto& known = alsa_->known();
        QVERIFY2(clip.frames() >= known.size(), qPrintable(QString::number(clip.frames())));
        const long start = xopd::test::VirtualAlsa::find(clip.samples, known);
        QVERIFY2(start >= 0 && start < 4000, qPrintable(QString::number(start)));
        for (size_t i = 0; i < known.size(); ++i)
            if (std::fabs(clip.samples[size_t(start) + i] - known[i]) > 1e-6f) {
                // Say whether audio was lost or repeated: where does the rest of the recording resume?
                const std::vector<float> rest(known.begin() + long(i), known.end());
                const long resume = xopd::test::VirtualAlsa::find(clip.samples, rest, 128);
                QFAIL(qPrintable(QString("recorded sample %1 (clip offset %2) differs: %3 vs %4; the rest resumes at clip "
                                         "offset %5")
                                     .arg(i)
                                     .arg(start + long(i))
                                     .arg(clip.samples[size_t(start) + i])
                                     .arg(known[i])
                                     .arg(resume)));
            }
        // The burst clipped, and the screen says so.
        QVERIFY2(w.recordingStatus().contains("CLIPPING"), qPrintable(w.recordingStatus()));
        // The preview shows the recording.
        QCOMPARE(w.waveform()->clip().frames(), clip.frames());
    }

    void playbackWritesTheClip() {
        AudioTransport t;
        QSignalSpy playing(&t, &AudioTransport::playingChanged);
        QSignalSpy wrapped(&t, &AudioTransport::loopWrapped);
        QSignalSpy position(&t, &AudioTransport::positionChanged);
        QSignalSpy failed(&t, &AudioTransport::failed);
        audio::AudioClip clip{alsa_->known(), 16000};
        clip.samples.resize(8000);  // 0.5 s: fits the player's prefill (see VirtualAlsa.h)

        alsa_->clearOutput();
        QVERIFY(t.play(clip, 0.0, 0.0, /*fadeMs=*/0));
        QCOMPARE(failed.count(), 0);
        QVERIFY(t.isPlaying());
        QTRY_VERIFY_WITH_TIMEOUT(!t.isPlaying(), 10000);
        QCOMPARE(playing.count(), 2);  // started, ended
        QCOMPARE(playing.at(1).at(0).toBool(), false);
        QVERIFY(!position.isEmpty());
        QCOMPARE(position.last().at(0).toDouble(), clip.durationSeconds());
        std::vector<float> out = alsa_->played();
        long start = xopd::test::VirtualAlsa::find(out, clip.samples);
        QVERIFY2(start >= 0, qPrintable(QString("clip not found in %1 output samples").arg(out.size())));
        QVERIFY(out.size() >= size_t(start) + clip.frames());
        for (size_t i = 0; i < clip.frames(); ++i)
            if (std::fabs(out[size_t(start) + i] - clip.samples[i]) > 1e-6f)
                QFAIL(qPrintable(QString("played sample %1 differs").arg(i)));

        // Playback gain from 0.25 s on: −6.0206 dB halves every sample (±1 LSB of rounding). The
        // player keeps its stream (and the file pcm its file) open: the slice follows the clip.
        QVERIFY(t.play(clip, 0.25, 20 * std::log10(0.5), 0));
        QTRY_VERIFY_WITH_TIMEOUT(!t.isPlaying(), 10000);
        out = alsa_->played();
        std::vector<float> want(clip.samples.begin() + 4000, clip.samples.end());
        for (float& v : want) v *= 0.5f;
        start = xopd::test::VirtualAlsa::find(out, want, 256, 1.01f / 32768);
        QVERIFY2(start >= 0, "the attenuated slice should appear in the output");
        for (size_t i = 0; i < want.size(); ++i)
            if (std::fabs(out[size_t(start) + i] - want[i]) > 1.01f / 32768)
                QFAIL(qPrintable(QString("attenuated sample %1 differs").arg(i)));
    }

    // The meter shows the input's own level (a half-scale tone reads 50 %, never a clipping
    // warning); a tone driven past full scale reads 100 % and raises the warning while recording,
    // before it is stopped.
    void peakMeterFollowsTheInput() {
        for (bool clipped : {false, true}) {
            // As long as the device's whole first buffer: past the end of its infile the virtual
            // device delivers stale memory (VirtualAlsa.h), which must not reach the meter.
            std::vector<float> x(xopd::test::VirtualAlsa::kIntactCaptureFrames);
            for (size_t i = 0; i < x.size(); ++i) {
                const double v = (clipped ? 1.6 : 0.5) * std::sin(2 * M_PI * 440 * double(i) / 16000.0);
                x[i] = float(std::clamp(v, -1.0, 1.0));
            }
            QVERIFY(alsa_->setRecording(x));
            float peak = 0;
            for (float v : alsa_->known()) peak = std::max(peak, std::fabs(v));

            PromptLibraryModel model;
            PromptLibraryWidget w(&model);
            w.setWorkspaceFolder(workspace_.path());
            w.show();
            auto* meter = w.findChild<QProgressBar*>();
            QVERIFY(meter);
            int highest = 0;
            connect(meter, &QProgressBar::valueChanged, this, [&](int v) { highest = std::max(highest, v); });
            QVERIFY(w.startRecording());
            QTRY_VERIFY_WITH_TIMEOUT(highest > 0, 10000);
            QTest::qWait(600);  // three more meter updates
            QVERIFY(w.isRecording());
            QVERIFY2(std::abs(highest - int(std::lround(100 * peak))) <= 1,
                     qPrintable(QString("meter %1 for a peak of %2").arg(highest).arg(peak)));
            if (clipped) {
                QCOMPARE(highest, 100);
                QVERIFY2(w.clipWarningText().contains("CLIPPING"), qPrintable(w.clipWarningText()));
            } else {
                QCOMPARE(highest, 50);
                QCOMPARE(w.clipWarningText(), QString());
            }
            QVERIFY(w.isRecording());  // the verdict above came live
            QVERIFY(w.stopRecording() >= 0);
            QCOMPARE(w.recordingStatus().contains("CLIPPING"), clipped);
        }
    }

    // Click to seek on the library's preview: stopped, the click moves the playhead and Play starts
    // there; playing, the click restarts the transport at the clicked point. The device's output
    // shows where playback started (a timecode clip: each sample names its index).
    void clickToSeekMovesTheTransport() {
        const Timecode tc(40503);
        const QString path = QDir(workspace_.path()).filePath("timecode.wav");
        audio::writeAudioFile(path.toStdString(), tc.clip(120.0), audio::AudioFileFormat::WavPcm16);
        PromptLibraryModel model;
        QVERIFY(model.addPath(path).isEmpty());
        PromptLibraryWidget w(&model);
        w.resize(900, 600);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.selectRow(0);
        WaveformView* wave = w.waveform();
        QCOMPARE(wave->clip().frames(), size_t(120 * 16000));
        auto* transport = w.findChild<AudioTransport*>();
        QVERIFY(transport);
        QAction* play = actionNamed(w.screenActions(), "&Play");
        QVERIFY(play);
        const int fade = 160;  // the library plays with a 10 ms fade-in

        const int x1 = wave->width() * 3 / 10;
        const double at1 = wave->secondsAt(x1);
        QTest::mouseClick(wave, Qt::LeftButton, {}, QPoint(x1, wave->height() / 2));
        QCOMPARE(wave->playhead(), at1);
        QVERIFY(!transport->isPlaying());
        play->trigger();
        QVERIFY(transport->isPlaying());
        QVERIFY2(transport->position() >= at1, qPrintable(QString("%1 < %2").arg(transport->position()).arg(at1)));
        QTest::qWait(50);
        transport->stop();
        auto [off1, idx1] = tc.firstIntact(alsa_->played());
        QVERIFY2(off1 >= 0, "no intact audio in the output");
        QVERIFY2(std::abs(modDiff(idx1, std::lround(at1 * 16000) + fade)) <= 2,
                 qPrintable(QString("playback started at sample %1 (mod 2^16), clicked %2 s").arg(idx1 - fade).arg(at1)));

        // Playing, a click jumps there: measured on a device that keeps real time
        // (test_ab_device_output), since this one may have played the whole clip by then.
    }

    void missingDeviceIsReportedNotThrown() {
        AudioTransport t;
        t.setDevice("no-such-speaker-xyz");
        QSignalSpy failed(&t, &AudioTransport::failed);
        audio::AudioClip clip{std::vector<float>(1600, 0.1f), 16000};
        QVERIFY(!t.play(clip));
        QCOMPARE(failed.count(), 1);
        QVERIFY(failed.at(0).at(0).toString().contains("no-such-speaker-xyz"));
        QVERIFY(!t.isPlaying());
    }
};

QTEST_MAIN(TestVirtualAlsaAudio)
#include "test_virtual_alsa_audio.moc"
