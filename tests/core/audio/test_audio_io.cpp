// Loudness (libebur128), TTS (espeak-ng) and capture/playback through PortAudio on a virtual ALSA
// device (tests/support/VirtualAlsa.h: a plug over ALSA's file plugin over null, no sound card):
// a known recording goes in and the same audio must come out, through the CLI-level functions
// recordClip() and playClip().
#include "core/audio/AudioClip.h"
#include "core/audio/AudioDevices.h"
#include "core/audio/Loudness.h"
#include "core/audio/Tts.h"
#include "core/common/Error.h"
#include "tests/support/TestHelpers.h"
#include "tests/support/VirtualAlsa.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <numeric>

using namespace xopd::audio;

namespace {

AudioClip sine(double freq, double amplitude, double seconds, int rate = 48000) {
    AudioClip c;
    c.sample_rate = rate;
    c.samples.resize(size_t(seconds * rate));
    for (size_t i = 0; i < c.samples.size(); ++i)
        c.samples[i] = float(amplitude * std::sin(2 * M_PI * freq * double(i) / rate));
    return c;
}

}  // namespace

/// The virtual microphone's recording: 1.2 s of a 440 Hz tone with a 2 Hz wobble (peak 0.366).
std::vector<float> knownRecording() {
    std::vector<float> x(19200);
    for (size_t i = 0; i < x.size(); ++i) {
        const double t = double(i) / 16000.0;
        x[i] = float(12000.0 / 32768.0 * (0.6 + 0.4 * std::sin(2 * M_PI * 2 * t)) * std::sin(2 * M_PI * 440 * t));
    }
    return x;
}

class TestAudioIo : public QObject {
    Q_OBJECT
    std::unique_ptr<xopd::test::VirtualAlsa> alsa_;

private slots:
    void initTestCase() {
        alsa_ = std::make_unique<xopd::test::VirtualAlsa>(knownRecording());  // before PortAudio starts
        QVERIFY(alsa_->ok());
    }

    void loudnessOfAKnownTone() {
        // BS.1770: a full-scale 997 Hz sine in one channel reads -3.01 LUFS; K-weighting is ~0 dB there.
        const LoudnessReport full = measureLoudness(sine(997, 1.0, 5.0));
        QVERIFY2(std::fabs(full.integrated_lufs - -3.01) < 0.1, qPrintable(QString::number(full.integrated_lufs)));
        AudioClip quiet = sine(997, 0.1, 5.0);  // -20 dB
        QVERIFY(std::fabs(measureLoudness(quiet).integrated_lufs - -23.01) < 0.1);
        QVERIFY(std::fabs(measureLoudness(quiet).samplePeakDbfs() - -20.0) < 0.01);
        applyGainDb(quiet, 6.0);
        QVERIFY(std::fabs(measureLoudness(quiet).integrated_lufs - -17.01) < 0.1);
        const double gain = normalizeLoudness(quiet, -23.0);
        QVERIFY(std::fabs(gain - -6.0) < 0.1);
        QVERIFY(std::fabs(measureLoudness(quiet).integrated_lufs - -23.0) < 0.05);
        AudioClip silence = sine(997, 0.0, 2.0);
        QVERIFY(std::isinf(measureLoudness(silence).integrated_lufs));
        QVERIFY_THROWS_EXCEPTION(xopd::Error, normalizeLoudness(silence, -23.0));
    }

    void ttsSpeaksPlausibly() {
        TtsOptions o;
        o.sample_rate = 16000;
        const AudioClip c = synthesizeSpeech("What is three plus four?", o);
        QCOMPARE(c.sample_rate, 16000);
        // Five words at 175 wpm: about 1.7 s of speech plus espeak's pauses.
        QVERIFY2(c.durationSeconds() > 0.8 && c.durationSeconds() < 4.0, qPrintable(QString::number(c.durationSeconds())));
        QVERIFY(xopd::test::rms(c.samples) > 0.01);
        o.rate_wpm = 350;
        QVERIFY(synthesizeSpeech("What is three plus four?", o).durationSeconds() < c.durationSeconds());
        QVERIFY(!listVoices().empty());
        QVERIFY_THROWS_EXCEPTION(xopd::Error, synthesizeSpeech("", o));
        TtsOptions bad;
        bad.voice = "no-such-voice-xyz";
        QVERIFY_THROWS_EXCEPTION(xopd::Error, synthesizeSpeech("hello", bad));
        bad = TtsOptions{};
        bad.rate_wpm = 5;
        QVERIFY_THROWS_EXCEPTION(xopd::Error, synthesizeSpeech("hello", bad));
    }

    void virtualDeviceIsListed() {
        const auto devices = listAudioDevices();
        bool input = false, output = false;
        for (const auto& d : devices) {
            input |= d.max_input_channels > 0;
            output |= d.max_output_channels > 0;
        }
        QVERIFY2(input && output, "the virtual ALSA device should give an input and an output");
    }

    void recordGivesTheKnownAudio() {
        RecordOptions o;
        o.sample_rate = 16000;
        float maxPeak = 0;
        int calls = 0;
        // The virtual device delivers faster than real time: the clip must still be exactly 1 s.
        const AudioClip c = recordClip(o, 1.0, [&](float peak, double) {
            maxPeak = std::max(maxPeak, peak);
            ++calls;
        });
        QCOMPARE(c.sample_rate, 16000);
        QCOMPARE(c.frames(), size_t(16000));
        const std::vector<float>& known = alsa_->known();
        const long start = xopd::test::VirtualAlsa::find(c.samples, known);
        QVERIFY2(start == 0, qPrintable(QString("the recording starts at offset %1 of the clip").arg(start)));
        for (size_t i = 0; i < c.frames(); ++i)
            if (std::fabs(c.samples[i] - known[i]) > 1e-6f) QFAIL(qPrintable(QString("sample %1 differs").arg(i)));
        // The meter shows the latest block's peak (the last block may be a few frames long): above
        // zero and never above the recording's own peak, 12000 / 32768 = 0.366.
        QVERIFY(calls >= 1);
        QVERIFY2(maxPeak > 0.0f && maxPeak <= 0.37f, qPrintable(QString::number(maxPeak)));
    }

    void playWritesTheSameAudio() {
        alsa_->clearOutput();
        AudioClip clip;
        clip.sample_rate = 16000;
        clip.samples.assign(alsa_->known().begin(), alsa_->known().begin() + 8000);  // fits the prefill
        playClip(clip);
        const std::vector<float> out = alsa_->played();
        const long start = xopd::test::VirtualAlsa::find(out, clip.samples);
        QVERIFY2(start >= 0, "the played clip should appear in the device's output file");
        QVERIFY(out.size() >= size_t(start) + clip.samples.size());
        for (size_t i = 0; i < clip.samples.size(); ++i)
            if (std::fabs(out[size_t(start) + i] - clip.samples[i]) > 1e-6f)
                QFAIL(qPrintable(QString("sample %1 differs").arg(i)));
    }

    void unknownDeviceIsAClearError() {
        RecordOptions o;
        o.device = "no-such-microphone";
        try {
            AudioRecorder r(o);
            QFAIL("expected an error");
        } catch (const xopd::Error& e) {
            QVERIFY2(std::string(e.what()).find("no-such-microphone") != std::string::npos, e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TestAudioIo)
#include "test_audio_io.moc"
