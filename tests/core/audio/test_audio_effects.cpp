// The libsox wrapper (core/audio/AudioEffects.h) and noise at an SNR (core/audio/NoiseMix.h), in
// memory (test_prompt_augmentation checks the written files):
// - generated noise: the same seed gives the same samples, also from two threads at once; another
//   seed other samples; white is flat and pink falls 3 dB per octave (band energies by a plain DFT,
//   AudioTestUtil.h: 100-200 Hz vs 1600-3200 Hz is 10 log10(100/1600) = -12 dB for white, 0 dB for
//   pink, +-2 dB);
// - mixAtSnr: the SNR over the active part, the full-scale guard (the mix scaled as a whole, the
//   SNR unchanged), and its refusals (silent speech, short noise, other rates);
// - speed and tempo give frames / factor; reverb and telephone keep the length;
// - bad effect names, options and factors throw with libsox's message.
#include "core/audio/AudioEffects.h"
#include "core/audio/NoiseMix.h"
#include "core/audio/SilenceTrim.h"
#include "core/common/Error.h"
#include "tests/core/audio/AudioTestUtil.h"
#include "tests/support/TestHelpers.h"

#include <QtTest/QtTest>

#include <cmath>
#include <thread>

using namespace xopd;
using namespace xopd::audio;

namespace {

constexpr int kRate = 16000;

AudioClip tone(double seconds, double freq, double amp, double lead = 0, double tail = 0) {
    AudioClip c;
    c.sample_rate = kRate;
    const auto n0 = size_t(lead * kRate), n1 = size_t(seconds * kRate), n2 = size_t(tail * kRate);
    c.samples.assign(n0 + n1 + n2, 0.0f);
    for (size_t i = 0; i < n1; ++i) c.samples[n0 + i] = float(amp * std::sin(2 * M_PI * freq * double(i) / kRate));
    return c;
}

double bandEnergy(const std::vector<float>& x, double lo, double hi) { return test::audio::bandEnergy(x, kRate, lo, hi); }

double snrOver(const std::vector<float>& s, const std::vector<float>& y, int64_t b, int64_t e, double gain = 1) {
    double ps = 0, pn = 0;
    for (int64_t i = b; i < e; ++i) {
        const double si = gain * s[size_t(i)];
        ps += si * si;
        pn += (y[size_t(i)] - si) * (y[size_t(i)] - si);
    }
    return 10 * std::log10(ps / pn);
}

}  // namespace

class TestAudioEffects : public QObject {
    Q_OBJECT

private slots:
    void noiseIsSeeded() {
        for (NoiseColor c : {NoiseColor::White, NoiseColor::Pink}) {
            const AudioClip a = makeNoise(c, 4000, kRate, 7), b = makeNoise(c, 4000, kRate, 7), o = makeNoise(c, 4000, kRate, 8);
            QCOMPARE(a.frames(), size_t(4000));
            QCOMPARE(a.samples, b.samples);
            QVERIFY(a.samples != o.samples);
            QVERIFY(test::rms(a.samples) > 0.05);
        }
        // Two threads at once draw the same as one after the other (the generator is not shared mid-run).
        const AudioClip want = makeNoise(NoiseColor::Pink, 20000, kRate, 3), other = makeNoise(NoiseColor::White, 20000, kRate, 4);
        for (int round = 0; round < 5; ++round) {
            AudioClip got1, got2;
            std::thread t1([&] { got1 = makeNoise(NoiseColor::Pink, 20000, kRate, 3); });
            std::thread t2([&] { got2 = makeNoise(NoiseColor::White, 20000, kRate, 4); });
            t1.join();
            t2.join();
            QCOMPARE(got1.samples, want.samples);
            QCOMPARE(got2.samples, other.samples);
        }
    }

    void noiseColours() {
        const AudioClip white = makeNoise(NoiseColor::White, 16000, kRate, 1), pink = makeNoise(NoiseColor::Pink, 16000, kRate, 1);
        auto tilt = [](const AudioClip& c) { return 10 * std::log10(bandEnergy(c.samples, 100, 200) / bandEnergy(c.samples, 1600, 3200)); };
        const double w = tilt(white), p = tilt(pink);
        qInfo("100-200 Hz vs 1600-3200 Hz: white %.2f dB, pink %.2f dB", w, p);
        QVERIFY2(std::fabs(w - (-12.04)) < 2, qPrintable(QString("white %1 dB").arg(w)));
        QVERIFY2(std::fabs(p) < 2, qPrintable(QString("pink %1 dB").arg(p)));
    }

    void mixAtSnrOverTheActivePart() {
        const AudioClip speech = tone(1.0, 300, 0.2, 0.7, 0.7);
        const AudioClip noise = makeNoise(NoiseColor::White, int64_t(speech.frames()), kRate, 2);
        const NoiseMix m = mixAtSnr(speech, noise, 6.0);
        const SpeechBounds b = findSpeechBounds(speech);
        QCOMPARE(m.active_begin, b.begin);
        QCOMPARE(m.active_end, b.end);
        QVERIFY(b.end - b.begin < int64_t(speech.frames()) * 3 / 4);  // the silences are outside
        QCOMPARE(m.mix_gain, 1.0);
        QVERIFY(std::fabs(snrOver(speech.samples, m.mixed.samples, b.begin, b.end) - 6.0) < 1e-3);
        // Over the whole clip it would be lower: the definition matters.
        QVERIFY(snrOver(speech.samples, m.mixed.samples, 0, int64_t(speech.frames())) < 4.5);
    }

    void loudMixIsScaledAsAWhole() {
        const AudioClip speech = tone(1.0, 300, 0.9);
        const AudioClip noise = makeNoise(NoiseColor::White, int64_t(speech.frames()), kRate, 2);
        const NoiseMix m = mixAtSnr(speech, noise, 0.0);
        QVERIFY(m.mix_gain < 1.0);
        float peak = 0;
        for (float x : m.mixed.samples) peak = std::max(peak, std::fabs(x));
        QVERIFY(peak <= 0.99f + 1e-6f);
        QVERIFY(std::fabs(snrOver(speech.samples, m.mixed.samples, m.active_begin, m.active_end, m.mix_gain)) < 1e-3);
    }

    void mixRefusals() {
        const AudioClip speech = tone(0.5, 300, 0.2);
        AudioClip silent = speech;
        std::fill(silent.samples.begin(), silent.samples.end(), 0.0f);
        const AudioClip noise = makeNoise(NoiseColor::White, int64_t(speech.frames()), kRate, 1);
        QVERIFY(test::errorOf([&] { mixAtSnr(silent, noise, 10); }).contains("digitally silent"));
        AudioClip shortNoise = noise;
        shortNoise.samples.resize(100);
        QVERIFY(test::errorOf([&] { mixAtSnr(speech, shortNoise, 10); }).contains("100 frames of noise"));
        AudioClip otherRate = noise;
        otherRate.sample_rate = 8000;
        QVERIFY(test::errorOf([&] { mixAtSnr(speech, otherRate, 10); }).contains("8000 Hz"));
        QVERIFY(test::errorOf([&] { mixAtSnr(speech, noise, NAN); }).contains("finite"));
    }

    void lengths() {
        const AudioClip c = tone(2.0, 440, 0.3);
        QCOMPARE(changeSpeed(c, 1.25).frames(), size_t(25600));
        QCOMPARE(changeSpeed(c, 0.8).frames(), size_t(40000));
        QVERIFY(std::abs(int64_t(changeTempo(c, 1.25).frames()) - 25600) < 256);
        QVERIFY(std::abs(int64_t(changeTempo(c, 0.8).frames()) - 40000) < 400);
        QCOMPARE(addReverb(c, 50).frames(), c.frames());
        QCOMPARE(telephoneBand(c).frames(), c.frames());
        QCOMPARE(changeSpeed(c, 1.25).sample_rate, kRate);
    }

    void refusals() {
        const AudioClip c = tone(0.5, 440, 0.3);
        QString e = test::errorOf([&] { runSoxEffects(c, {{"tempo", {"abc"}}}); });
        QVERIFY2(e.contains("libsox effect 'tempo abc'") && e.contains("usage"), qPrintable(e));
        e = test::errorOf([&] { runSoxEffects(c, {{"no-such-effect", {}}}); });
        QVERIFY2(e.contains("no effect named 'no-such-effect'"), qPrintable(e));
        QVERIFY(test::errorOf([&] { changeSpeed(c, 5); }).contains("speed factor 5 is out of range"));
        QVERIFY(test::errorOf([&] { changeTempo(c, 0); }).contains("tempo factor 0 is out of range"));
        QVERIFY(test::errorOf([&] { addReverb(c, 101); }).contains("out of range"));
        QVERIFY(test::errorOf([&] { runSoxEffects(AudioClip{}, {}); }).contains("no sample rate"));
        // After a failure, the next chain works.
        QCOMPARE(changeTempo(c, 1.0).frames(), c.frames());
    }
};

QTEST_APPLESS_MAIN(TestAudioEffects)
#include "test_audio_effects.moc"
