// Whisper log-mel front end against an independent float64 numpy reference
// (tests/reference/audio/whisper_features_ref.py, written from the spec's formulas).
//
// Tolerance: max |C++ - reference| <= 1e-4 log-mel units for the float64 path. The C++ float64
// path differs from the reference only by FFT algorithm rounding (~1e-15 relative) and the final
// rounding to float32 (<= 1.2e-7 * |value| <= 3e-7 for values in [-1.5, 2.5]); 1e-4 leaves room for
// libm differences while any real deviation (window, padding, dropped frame, filter bank, clamp)
// moves values by >= 1e-2. The float32 path (HF's torch arithmetic) is held to 2e-3: bins up to
// 80 dB below the frame peak keep ~1e-7 relative FFT error of the peak, i.e. up to ~1e-3 relative
// in their own power, ~5e-4 in log10 units.
#include "core/common/Error.h"
#include "core/audio/AudioFile.h"
#include "core/audio/Npy.h"
#include "core/audio/Tts.h"
#include "core/audio/WhisperFeatures.h"
#include "core/audio/WhisperFeaturesTorch.h"
#include "tests/core/audio/AudioTestUtil.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace xopd::audio;
using namespace xopd::test;
using namespace xopd::test::audio;

Q_DECLARE_METATYPE(std::vector<float>)

namespace {

/// Runs the reference on 16 kHz samples; returns [bins * 3000] float64 ([bins * n / 160] with no_pad).
std::vector<double> reference(const std::vector<float>& x, int bins, bool no_pad = false) {
    QTemporaryDir dir;
    const QString in = dir.filePath("in.f32"), out = dir.filePath("out.f64");
    writeRawFloat32(in, x);
    QStringList args = {whisperReferenceScript(), in, out, "--mel-bins", QString::number(bins)};
    if (no_pad) args << "--no-pad";
    const ProcessResult r = runProgram(pythonWithNumpy(), args, 120000);
    if (r.exitCode != 0) qWarning() << r.err;
    return readRawFloat64(out);
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return 1e9;
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
    return m;
}

}  // namespace

class TestWhisperFeatures : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        if (pythonWithNumpy().isEmpty()) QSKIP("no python3 with numpy for the reference");
    }

    void filterBankMatchesReference() {
        for (int bins : {80, 128}) {
            QTemporaryDir dir;
            const QString out = dir.filePath("fb.f64");
            const ProcessResult r = runProgram(pythonWithNumpy(), {whisperReferenceScript(), "--filters", out,
                                                                   "--mel-bins", QString::number(bins)});
            QCOMPARE(r.exitCode, 0);
            const std::vector<double> ref = readRawFloat64(out);
            const std::vector<double> fb = whisperMelFilterBank(bins);
            QCOMPARE(fb.size(), ref.size());
            double m = 0;
            for (size_t i = 0; i < fb.size(); ++i) m = std::max(m, std::abs(fb[i] - ref[i]));
            QVERIFY2(m < 1e-12, qPrintable(QString("filter bank max diff %1").arg(m)));
        }
    }

    void matchesReference_data() {
        QTest::addColumn<std::vector<float>>("samples");
        QTest::addColumn<int>("bins");
        const int sr = kWhisperSampleRate;
        std::vector<float> two = sineTone(1000, 5.0, sr, 0.3);
        const std::vector<float> hi = sineTone(3500, 5.0, sr, 0.1);
        for (size_t i = 0; i < two.size(); ++i) two[i] += hi[i];
        QTest::newRow("tone 440 Hz, 2 s") << sineTone(440, 2.0, sr, 0.5) << 128;
        QTest::newRow("tones 1k+3.5k, 5 s, 80 bins") << two << 80;
        QTest::newRow("chirp 100-7900 Hz, 10 s") << chirp(100, 7900, 10.0, sr) << 128;
        QTest::newRow("noise 1 s") << noise(sr, 0.1) << 128;
        QTest::newRow("under 1 ms (10 samples)") << noise(10, 0.3, 7) << 128;
        std::vector<float> longer = noise(static_cast<size_t>(31.5 * sr), 0.05, 3);
        const std::vector<float> tone = sineTone(700, 31.5, sr, 0.2);
        for (size_t i = 0; i < longer.size(); ++i) longer[i] += tone[i];
        QTest::newRow("over 30 s (31.5 s)") << longer << 128;
        TtsOptions tts;
        tts.sample_rate = sr;
        QTest::newRow("espeak speech") << synthesizeSpeech("The quick brown fox jumps over the lazy dog.", tts).samples
                                       << 128;
    }

    void matchesReference() {
        QFETCH(std::vector<float>, samples);
        QFETCH(int, bins);
        const std::vector<double> ref = reference(samples, bins);
        QCOMPARE(ref.size(), size_t(bins) * kWhisperFrames);

        WhisperFeatureOptions opt;
        opt.mel_bins = bins;
        const WhisperFeatures f64 = computeWhisperFeatures(samples, opt);
        QCOMPARE(f64.mel_bins, bins);
        const double d64 = maxAbsDiff(f64.values, ref);
        opt.precision = FeaturePrecision::Float32;
        const double d32 = maxAbsDiff(computeWhisperFeatures(samples, opt).values, ref);
        qInfo("max |diff| vs float64 reference: float64 path %.3g, float32 path %.3g", d64, d32);
        QVERIFY2(d64 <= 1e-4, qPrintable(QString("float64 path max diff %1").arg(d64)));
        QVERIFY2(d32 <= 2e-3, qPrintable(QString("float32 path max diff %1").arg(d32)));

        // Attention mask: 1 for t < ceil(min(n, 480000) / 160).
        const int expect_valid = static_cast<int>((std::min<size_t>(samples.size(), 480000) + 159) / 160);
        QCOMPARE(f64.valid_frames, expect_valid);
        QCOMPARE(f64.attention_mask.size(), size_t(kWhisperFrames));
        for (int t = 0; t < kWhisperFrames; ++t) QCOMPARE(f64.attention_mask[t], t < expect_valid ? 1 : 0);
    }

    // Qwen3-Omni's processor: the clip itself, no 30 s padding (padding="longest" for one clip):
    // n // 160 frames, all valid, the last frames from the reflected clip (not from zeros).
    void unpaddedMatchesReference() {
        std::vector<float> x(16000 * 2 + 237);  // 2.01 s: not a multiple of the hop
        std::mt19937 rng(5);
        std::normal_distribution<float> noise(0.f, 0.1f);
        for (size_t i = 0; i < x.size(); ++i) x[i] = noise(rng) + 0.3f * std::sin(0.05f * float(i));
        const std::vector<double> ref = reference(x, 128, /*no_pad=*/true);
        const int frames = int(x.size() / 160);
        QCOMPARE(ref.size(), size_t(128) * size_t(frames));
        WhisperFeatureOptions opt;
        opt.pad_to_30s = false;
        const WhisperFeatures f = computeWhisperFeatures(x, opt);
        QCOMPARE(f.frames, frames);
        QCOMPARE(f.valid_frames, frames);
        QVERIFY2(maxAbsDiff(f.values, ref) <= 1e-4, qPrintable(QString::number(maxAbsDiff(f.values, ref))));
        // Padded to 30 s, the same frames hold the same values (the reflection at the end only reaches
        // the frame the extractor drops), but ceil(n / 160) frames count as valid, one more.
        const WhisperFeatures padded = computeWhisperFeatures(x, WhisperFeatureOptions{});
        QCOMPARE(padded.valid_frames, frames + 1);
        double same = 0;
        for (int b = 0; b < 128; ++b)
            for (int t = 0; t < frames; ++t) same = std::max(same, std::abs(double(padded.at(b, t)) - double(f.at(b, t))));
        QVERIFY2(same <= 1e-5, qPrintable(QString::number(same)));
    }

    void silenceIsMinusOnePointFive() {
        const WhisperFeatures f = computeWhisperFeatures(std::vector<float>(48000, 0.0f));
        for (float v : f.values) QCOMPARE(v, -1.5f);
        QCOMPARE(f.valid_frames, 300);
        const WhisperFeatures e = computeWhisperFeatures(std::vector<float>{});
        QCOMPARE(e.valid_frames, 0);
        QCOMPARE(e.values.front(), -1.5f);
    }

    void longerThan30sIsTruncated() {
        const std::vector<float> x = chirp(200, 3000, 33.0, kWhisperSampleRate);
        const std::vector<float> head(x.begin(), x.begin() + kWhisperSamples);
        QCOMPARE(computeWhisperFeatures(x).values, computeWhisperFeatures(head).values);
    }

    void otherRatesAreResampled() {
        // A 1 kHz tone at 44.1 kHz must give the same features as the tone made at 16 kHz.
        const AudioClip c44{sineTone(1000, 2.0, 44100, 0.5), 44100};
        const std::vector<float> a = computeWhisperFeatures(c44).values;
        const std::vector<float> b = computeWhisperFeatures(sineTone(1000, 2.0, 16000, 0.5)).values;
        double m = 0;
        for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::abs(a[i] - b[i])));
        // soxr HQ leaves ~1e-5 relative error; in dB-like units that only matters in near-empty bins
        QVERIFY2(m < 0.2, qPrintable(QString("max diff %1").arg(m)));
    }

    void tokenCounts() {
        // §3.4 table and formula: L -> T1 = (L-1)//2+1 -> n = (T1-2)//2+1.
        QCOMPARE(audioTokenCount(whisperValidFrames(16000)), 25);
        QCOMPARE(audioTokenCount(whisperValidFrames(160000)), 250);
        QCOMPARE(audioTokenCount(whisperValidFrames(480000)), 750);
        QCOMPARE(audioTokenCount(whisperValidFrames(600000)), 750);
        for (int n : {64321, 64500, 64960}) QCOMPARE(audioTokenCount(whisperValidFrames(n)), 101);
        QCOMPARE(audioTokenCount(whisperValidFrames(64320)), 100);
        QCOMPARE(audioTokenCount(whisperValidFrames(64961)), 102);
        for (int L : {403, 404, 405, 406}) QCOMPARE(audioTokenCount(L), 101);
        QCOMPARE(audioTokenCount(0), 0);
        QCOMPARE(audioTokenCount(1), 0);
        QCOMPARE(audioTokenCount(3), 1);
        QCOMPARE(whisperValidFrames(10), 1);  // a clip under 1 ms still has one frame
        // Brute force against the python-style floor-division formula written differently.
        for (int L = 0; L <= 3000; ++L) {
            const int t1 = static_cast<int>(std::floor((L - 1) / 2.0)) + 1;
            const int n = static_cast<int>(std::floor((t1 - 2) / 2.0)) + 1;
            QCOMPARE(audioTokenCount(L), std::max(0, n));
        }
    }

    void batchedTensorApi() {
        const std::vector<float> a = sineTone(440, 1.0, 16000), b = noise(16000, 0.1);
        torch::Tensor wave = torch::stack({torch::tensor(a), torch::tensor(b)});
        const WhisperFeatureTensors t = whisperFeatureTensors(wave);
        QCOMPARE(t.features.sizes(), (torch::IntArrayRef{2, 128, 3000}));
        QCOMPARE(t.attention_mask.sum().item<int64_t>(), 200);
        const WhisperFeatures fb = computeWhisperFeatures(b);
        const torch::Tensor single = torch::from_blob(const_cast<float*>(fb.values.data()), {128, 3000});
        QVERIFY(torch::allclose(t.features[1], single, 0, 1e-6));  // per-example max, not batch max
    }

    void badOptionsThrow() {
        WhisperFeatureOptions opt;
        opt.mel_bins = 64;
        QVERIFY_THROWS_EXCEPTION(xopd::Error, computeWhisperFeatures(std::vector<float>(100), opt));
    }

    void cliWritesNpy() {
        QTemporaryDir dir;
        const std::vector<float> x = chirp(300, 5000, 4.0, 16000, 0.4);
        const QString wav = dir.filePath("chirp.wav"), npy = dir.filePath("f.npy");
        writeAudioFile(wav.toStdString(), AudioClip{x, 16000}, AudioFileFormat::WavFloat32);
        const ProcessResult r = runCli({"features", "--audio", wav, "--out", npy, "--mel-bins", "80"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("valid frames: 400"));
        QVERIFY(r.out.contains("audio tokens: 100"));
        const NpyArray a = readNpyFloat32(npy.toStdString());
        QCOMPARE(a.shape, (std::vector<std::int64_t>{80, 3000}));
        QVERIFY(maxAbsDiff(a.values, reference(x, 80)) <= 1e-4);
        // numpy itself reads the file with the same shape and values
        const ProcessResult py = runProgram(pythonWithNumpy(), {"-c", "import numpy,sys; a=numpy.load(sys.argv[1]); "
                                                                      "print(a.dtype, a.shape, float(a[3,7]))", npy});
        QCOMPARE(py.exitCode, 0);
        QVERIFY2(py.out.startsWith("float32 (80, 3000) "), qPrintable(py.out));
        QVERIFY(std::abs(py.out.split(' ').last().trimmed().toDouble() - a.values[3 * 3000 + 7]) < 1e-6);
    }
};

QTEST_APPLESS_MAIN(TestWhisperFeatures)
#include "test_whisper_features.moc"
