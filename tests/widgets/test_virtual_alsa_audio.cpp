// Recording and playback from the widgets through a virtual ALSA device (VirtualAlsa.h: plug over
// the file plugin over null; no sound card). The prompt library's recorder hears a known recording
// and must add exactly that audio to the library, with the duration counter running and the
// clipping warning raised for its full-scale burst; the transport must hand exactly the clip (and
// the clip scaled by its playback gain) to the output device, and report the end of playback.
#include "tests/support/VirtualAlsa.h"

#include "core/audio/AudioDevices.h"
#include "widgets/audio/AudioTransport.h"
#include "widgets/audio/WaveformView.h"
#include "widgets/prompts/PromptLibraryModel.h"
#include "widgets/prompts/PromptLibraryWidget.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

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

        // Playback gain from 0.25 s on: −6.0206 dB halves every sample (±1 LSB of rounding).
        alsa_->clearOutput();
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
