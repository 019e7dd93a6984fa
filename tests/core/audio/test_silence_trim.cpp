// Silence trimming relative to the noise floor (core/audio/SilenceTrim.h) on synthetic audio whose
// speech bounds are known by construction: noise, then a tone in the same noise, then noise. The
// trimmed bounds must be the tone's start and end widened by the pad, within one analysis frame
// (20 ms): a frame that holds any of the tone is speech. Also: a floor 25 dB louder (a noisy room,
// where a fixed |x| threshold of 0.01 would trim nothing) trims the same; silence alone and a
// clip shorter than a frame are kept whole.
#include "core/audio/SilenceTrim.h"

#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace xopd::audio;

namespace {

constexpr int kRate = 16000;

/// `lead` s of noise, `tone` s of a 440 Hz tone of amplitude `amp` over the same noise, `tail` s of
/// noise; the noise is uniform in [-noise, noise] (seeded).
AudioClip noiseToneNoise(double lead, double tone, double tail, float noise, float amp) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-noise, noise);
    AudioClip c;
    c.sample_rate = kRate;
    const auto n0 = size_t(std::lround(lead * kRate)), n1 = size_t(std::lround(tone * kRate)),
               n2 = size_t(std::lround(tail * kRate));
    for (size_t i = 0; i < n0 + n1 + n2; ++i) {
        float s = u(rng);
        if (i >= n0 && i < n0 + n1) s += amp * float(std::sin(2 * M_PI * 440.0 * double(i - n0) / kRate));
        c.samples.push_back(s);
    }
    return c;
}

}  // namespace

class TestSilenceTrim : public QObject {
    Q_OBJECT
private slots:
    void boundsAreTheToneWidenedByThePad_data() {
        QTest::addColumn<float>("noise");
        QTest::addColumn<float>("amp");
        QTest::newRow("quiet room (-60 dBFS noise)") << 0.0017f << 0.3f;
        QTest::newRow("noisy room (-35 dBFS noise)") << 0.03f << 0.5f;
    }
    void boundsAreTheToneWidenedByThePad() {
        QFETCH(float, noise);
        QFETCH(float, amp);
        // The tone starts off the 20 ms frame grid (0.905 s) so that the tolerance is exercised.
        const double lead = 0.905, tone = 1.2, tail = 0.6;
        const AudioClip c = noiseToneNoise(lead, tone, tail, noise, amp);
        SilenceTrimOptions o;  // 20 ms frames, pad 100 ms
        const SpeechBounds b = findSpeechBounds(c, o);
        QVERIFY(b.found);
        const double tol = o.frame_ms / 1000.0;
        const double begin = double(b.begin) / kRate, end = double(b.end) / kRate;
        const double want_begin = lead - o.pad_ms / 1000.0, want_end = lead + tone + o.pad_ms / 1000.0;
        QVERIFY2(std::fabs(begin - want_begin) <= tol, qPrintable(QString("begin %1 s, want %2 s").arg(begin).arg(want_begin)));
        QVERIFY2(std::fabs(end - want_end) <= tol, qPrintable(QString("end %1 s, want %2 s").arg(end).arg(want_end)));
        // The floor is the noise's level: uniform noise of half-width a has RMS a / sqrt(3).
        const double noise_db = 20 * std::log10(noise / std::sqrt(3.0));
        QVERIFY2(std::fabs(b.floor_dbfs - noise_db) < 1.0, qPrintable(QString::number(b.floor_dbfs)));
        const AudioClip t = trimSilence(c, o);
        QCOMPARE(int64_t(t.samples.size()), b.end - b.begin);
        QCOMPARE(t.sample_rate, kRate);
        QCOMPARE(t.samples.front(), c.samples[size_t(b.begin)]);
        // About 0.9 s of leading silence is gone.
        QVERIFY(c.durationSeconds() - t.durationSeconds() > 0.9 + 0.5 - 2 * 0.1 - 2 * tol);
    }

    void silenceAloneIsKeptWhole() {
        const AudioClip c = noiseToneNoise(1.0, 0.0, 0.0, 0.002f, 0.0f);
        const SpeechBounds b = findSpeechBounds(c);
        QVERIFY(!b.found);
        QCOMPARE(b.begin, int64_t(0));
        QCOMPARE(b.end, int64_t(c.samples.size()));
        QCOMPARE(trimSilence(c).samples.size(), c.samples.size());
    }

    void tooShortOrEmptyIsKeptWhole() {
        AudioClip c;
        c.sample_rate = kRate;
        c.samples.assign(100, 0.5f);  // shorter than one 20 ms frame
        QCOMPARE(trimSilence(c).samples.size(), size_t(100));
        QVERIFY(!findSpeechBounds(AudioClip{}).found);
    }
};

QTEST_APPLESS_MAIN(TestSilenceTrim)
#include "test_silence_trim.moc"
