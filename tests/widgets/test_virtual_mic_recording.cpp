// The workbench's recording (the prompt library's recorder) through a microphone that keeps real
// time (tests/support/VirtualMic.h: PulseAudio's module-pipe-source behind ALSA's pulse plugin,
// issue 16.5): several seconds of espeak-ng speech fed while the library records must come back
// whole, correlation >= 0.99 at the best lag (tests/reference/audio/best_lag_correlation.py, numpy).
// Skips only when pulseaudio is not installed.
#include "tests/support/VirtualMic.h"

#include "core/audio/AudioFile.h"
#include "core/audio/Tts.h"
#include "widgets/prompts/PromptLibraryModel.h"
#include "widgets/prompts/PromptLibraryWidget.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <memory>

using namespace xopd;
using namespace xopd::widgets;

class TestVirtualMicRecording : public QObject {
    Q_OBJECT
    std::unique_ptr<xopd::test::VirtualMic> mic_;
    QTemporaryDir workspace_;

private slots:
    void initTestCase() {
        if (!xopd::test::VirtualMic::available()) QSKIP("pulseaudio is not installed: no virtual microphone");
        // Before anything in this process starts PortAudio.
        mic_ = std::make_unique<xopd::test::VirtualMic>();
        QVERIFY2(mic_->ok(), qPrintable(mic_->error()));
        QVERIFY(workspace_.isValid());
    }

    void libraryRecordsSecondsOfSpeechWhole() {
        audio::TtsOptions tts;
        tts.sample_rate = mic_->rate();
        const audio::AudioClip speech =
            audio::synthesizeSpeech("Which colour is the sky on a clear day? Answer with one word, please.", tts);
        QVERIFY2(speech.durationSeconds() > 3.0, qPrintable(QString::number(speech.durationSeconds())));

        PromptLibraryModel model;
        PromptLibraryWidget w(&model);
        w.setWorkspaceFolder(workspace_.path());
        w.resize(900, 600);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy status(&w, &PromptLibraryWidget::statusMessage);
        QVERIFY2(w.startRecording(), qPrintable(status.isEmpty() ? QString() : status.last().at(0).toString()));
        // The duration counter moves: capture runs, and the speech goes in from then on.
        QTRY_VERIFY_WITH_TIMEOUT(w.recordingStatus() != "0.0 s", 20000);
        const std::vector<float> fed = mic_->say(speech.samples);
        QTRY_VERIFY_WITH_TIMEOUT(mic_->spoken(), int(speech.durationSeconds() * 1000) + 30000);
        QTest::qWait(1500);  // what is in the pipe and the server's buffers reaches the recorder
        const int row = w.stopRecording();
        QVERIFY2(row >= 0, qPrintable(status.isEmpty() ? QString() : status.last().at(0).toString()));
        const audio::AudioClip got = model.loadClip(row);
        QCOMPARE(got.sample_rate, mic_->rate());
        QVERIFY2(got.durationSeconds() > speech.durationSeconds(), qPrintable(QString::number(got.durationSeconds())));
        const auto m = xopd::test::VirtualMic::bestLag(fed, got.samples);
        QVERIFY2(m.error.isEmpty(), qPrintable(m.error));
        qInfo("speech %.2f s in a %.2f s recording: lag %ld frames, correlation %.6f", speech.durationSeconds(),
              got.durationSeconds(), m.lag, m.correlation);
        QVERIFY2(m.correlation >= 0.99, qPrintable(QString("correlation %1 at lag %2").arg(m.correlation).arg(m.lag)));
    }
};

QTEST_MAIN(TestVirtualMicRecording)
#include "test_virtual_mic_recording.moc"
