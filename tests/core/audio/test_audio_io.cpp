// Loudness (libebur128), TTS (espeak-ng) and capture/playback through PortAudio on a virtual ALSA
// device: the test writes an ~/.asoundrc (HOME points at a temporary folder) whose default pcm is a
// `plug` (S16_LE, 16 kHz, mono) over a `file` pcm with slave "null": capture reads `infile`,
// playback writes `file`. A known recording goes in and the same audio must come out.
#include "core/audio/AudioClip.h"
#include "core/audio/AudioDevices.h"
#include "core/audio/Loudness.h"
#include "core/audio/Tts.h"
#include "core/common/Error.h"

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

double rms(const std::vector<float>& x) {
    double s = 0;
    for (float v : x) s += double(v) * v;
    return x.empty() ? 0 : std::sqrt(s / double(x.size()));
}

/// Samples of a raw S16_LE file as floats in [-1, 1).
std::vector<float> readRawS16(const QString& path) {
    std::ifstream in(path.toStdString(), std::ios::binary);
    std::vector<float> out;
    int16_t v;
    while (in.read(reinterpret_cast<char*>(&v), 2)) out.push_back(float(v) / 32768.0f);
    return out;
}

/// Index where `needle` (first 200 samples) starts inside `hay`, or -1.
long findStart(const std::vector<float>& hay, const std::vector<float>& needle) {
    const size_t n = std::min<size_t>(200, needle.size());
    for (size_t off = 0; off + n <= hay.size(); ++off) {
        bool same = true;
        for (size_t i = 0; i < n && same; ++i) same = std::fabs(hay[off + i] - needle[i]) < 1e-4f;
        if (same) return long(off);
    }
    return -1;
}

}  // namespace

class TestAudioIo : public QObject {
    Q_OBJECT
    QTemporaryDir home_;
    QString in_raw_, out_raw_;
    std::vector<float> known_;  // what the virtual microphone "hears"

private slots:
    void initTestCase() {
        QVERIFY(home_.isValid());
        in_raw_ = home_.filePath("in.raw");
        out_raw_ = home_.filePath("out.raw");
        // The known recording: 3 s of a 440 Hz tone with a 2 Hz amplitude wobble, as S16_LE.
        std::ofstream raw(in_raw_.toStdString(), std::ios::binary);
        for (int i = 0; i < 3 * 16000; ++i) {
            const double t = i / 16000.0;
            const auto v = int16_t(std::lround(12000 * (0.6 + 0.4 * std::sin(2 * M_PI * 2 * t)) *
                                                std::sin(2 * M_PI * 440 * t)));
            raw.write(reinterpret_cast<const char*>(&v), 2);
            known_.push_back(float(v) / 32768.0f);
        }
        raw.close();
        std::ofstream rc(home_.filePath(".asoundrc").toStdString());
        rc << "pcm.!default {\n  type plug\n  slave { pcm \"xopdfile\"; format S16_LE; rate 16000; channels 1 }\n}\n"
           << "pcm.xopdfile {\n  type file\n  slave.pcm \"null\"\n  file \"" << out_raw_.toStdString() << "\"\n"
           << "  infile \"" << in_raw_.toStdString() << "\"\n  format \"raw\"\n}\n";
        rc.close();
        qputenv("HOME", home_.path().toUtf8());
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
        QVERIFY(rms(c.samples) > 0.01);
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
        const AudioClip c = recordClip(o, 1.0, [&](float peak, double) { maxPeak = std::max(maxPeak, peak); });
        QCOMPARE(c.sample_rate, 16000);
        QVERIFY2(c.frames() >= 15000 && c.frames() <= 17600, qPrintable(QString::number(c.frames())));
        // The stream runs at 16 kHz (the plug's rate), so the samples are the file's, in order.
        const long start = findStart(c.samples, known_);
        QVERIFY2(start >= 0 && start < 2000, qPrintable(QString::number(start)));
        const size_t n = std::min(c.samples.size() - size_t(start), known_.size());
        for (size_t i = 0; i < n; ++i)
            if (std::fabs(c.samples[size_t(start) + i] - known_[i]) > 1e-4f)
                QFAIL(qPrintable(QString("sample %1 differs").arg(i)));
        QVERIFY(maxPeak > 0.3f && maxPeak <= 0.37f);  // 12000 / 32768 = 0.366
    }

    void playWritesTheSameAudio() {
        QFile::remove(out_raw_);
        AudioClip clip;
        clip.sample_rate = 16000;
        clip.samples.assign(known_.begin(), known_.begin() + 16000);
        playClip(clip);
        const std::vector<float> out = readRawS16(out_raw_);
        const long start = findStart(out, clip.samples);
        QVERIFY2(start >= 0, "the played clip should appear in the device's output file");
        QVERIFY(out.size() >= size_t(start) + clip.samples.size());
        for (size_t i = 0; i < clip.samples.size(); ++i)
            if (std::fabs(out[size_t(start) + i] - clip.samples[i]) > 1e-4f)
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
