// `xopd record` of several seconds through a microphone that keeps real time (tests/support/
// VirtualMic.h: PulseAudio's module-pipe-source behind ALSA's pulse plugin, issue 16.5): espeak-ng
// speech fed into the pipe while the CLI records must come back whole, correlation >= 0.99 at the
// best lag (tests/reference/audio/best_lag_correlation.py, numpy). Skips only when pulseaudio is not
// installed.
#include "core/audio/AudioFile.h"
#include "core/audio/Tts.h"
#include "tests/support/TestSupport.h"
#include "tests/support/VirtualMic.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <memory>

using namespace xopd;

class TestVirtualMicRecord : public QObject {
    Q_OBJECT
    std::unique_ptr<test::VirtualMic> mic_;

private slots:
    void initTestCase() {
        if (!test::VirtualMic::available()) QSKIP("pulseaudio is not installed: no virtual microphone");
        mic_ = std::make_unique<test::VirtualMic>();
        QVERIFY2(mic_->ok(), qPrintable(mic_->error()));
    }

    void recordsSecondsOfSpeechWhole() {
        audio::TtsOptions tts;
        tts.sample_rate = mic_->rate();
        const audio::AudioClip speech =
            audio::synthesizeSpeech("What is the capital of France? Please answer in one word, then count to three.", tts);
        QVERIFY2(speech.durationSeconds() > 3.0, qPrintable(QString::number(speech.durationSeconds())));
        QTemporaryDir tmp;
        const QString out = tmp.filePath("question.wav");
        const double seconds = std::ceil(speech.durationSeconds()) + 3.0;  // whole seconds: the frame count is exact

        QProcess rec;
        rec.start(test::cliPath(), {"record", "--seconds", QString::number(seconds), "--out", out});
        QVERIFY(rec.waitForStarted(10000));
        // The peak meter's first line means capture runs: the speech goes in from then on.
        QByteArray err;
        while (!err.contains("recording") && rec.state() == QProcess::Running) {
            rec.waitForReadyRead(100);
            err += rec.readAllStandardError();
        }
        QVERIFY2(err.contains("recording"), err.constData());
        const std::vector<float> fed = mic_->say(speech.samples);
        QVERIFY2(rec.waitForFinished(int(seconds * 1000) + 60000), "xopd record did not finish");
        err += rec.readAllStandardError();
        QVERIFY2(rec.exitStatus() == QProcess::NormalExit && rec.exitCode() == 0, err.constData());
        QVERIFY(mic_->spoken());

        const audio::AudioClip got = audio::readAudioFile(out.toStdString());
        QCOMPARE(got.sample_rate, mic_->rate());
        QCOMPARE(double(got.frames()), std::round(seconds * mic_->rate()));
        const auto m = test::VirtualMic::bestLag(fed, got.samples);
        QVERIFY2(m.error.isEmpty(), qPrintable(m.error));
        qInfo("speech %.2f s in a %.2f s recording: lag %ld frames, correlation %.6f", speech.durationSeconds(), seconds, m.lag,
              m.correlation);
        QVERIFY2(m.correlation >= 0.99, qPrintable(QString("correlation %1 at lag %2").arg(m.correlation).arg(m.lag)));
    }
};

QTEST_APPLESS_MAIN(TestVirtualMicRecord)
#include "test_virtual_mic_record.moc"
