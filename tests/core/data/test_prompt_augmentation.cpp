// Prompt-set augmentation under acoustic conditions (core/data/PromptAugmentation.h), checked on
// what is written, through `xopd prompts augment` as a user runs it:
// - noise at SNR: the noise actually added is the written clip minus the clean source (additive);
//   10 log10(sum s^2 / sum (y - s)^2) over the speech's active part (NoiseMix.h's definition)
//   must be the requested SNR within 0.1 dB, for -5, 0, 10, 20 and 30 dB, white and pink;
// - speed 1.25 and tempo 0.8: duration within 1 % of frames / factor; the speed change moves a
//   440 Hz tone to 550 Hz while the tempo change keeps it (plain DFT, AudioTestUtil.h);
// - telephone: energy above 4 kHz at least 30 dB below the input's, by a plain DFT written here
//   (independent of libsox), while the 500-3000 Hz band stays within 1 dB;
// - reverb: the same duration, and energy after a burst where the input is silent;
// - the manifest: one row per clip x condition with the condition, source id, tags and the
//   source's transcript, reference, split and voice; stable ids; the same seed gives the same
//   bytes, another seed other noise;
// - bad input: a bad condition spec, a missing or unreadable audio file, a used output folder
//   and a cancel leave nothing behind and say what is wrong.
#include "core/audio/AudioFile.h"
#include "core/audio/SilenceTrim.h"
#include "core/common/Error.h"
#include "core/data/AcousticCondition.h"
#include "core/data/PromptAugmentation.h"
#include "core/data/PromptSet.h"
#include "tests/core/audio/AudioTestUtil.h"
#include "tests/support/TestHelpers.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <fstream>
#include <map>

using namespace xopd;
using namespace xopd::data;

namespace {

constexpr int kRate = 16000;

/// Speech-like clip: `lead` s of silence, 1.5 s of two amplitude-modulated tones, `tail` s of
/// silence. Peak below 0.25, so no condition clips.
audio::AudioClip speechLike(double lead, double tail, double f0 = 440.0) {
    audio::AudioClip c;
    c.sample_rate = kRate;
    const auto n0 = size_t(lead * kRate), n1 = size_t(1.5 * kRate), n2 = size_t(tail * kRate);
    c.samples.assign(n0 + n1 + n2, 0.0f);
    for (size_t i = 0; i < n1; ++i) {
        const double t = double(i) / kRate;
        const double env = 0.6 + 0.4 * std::sin(2 * M_PI * 3.0 * t);
        c.samples[n0 + i] = float(env * (0.15 * std::sin(2 * M_PI * f0 * t) + 0.05 * std::sin(2 * M_PI * 1870.0 * t)));
    }
    return c;
}

void writeFile(const QString& path, const std::string& text) { std::ofstream(path.toStdString()) << text; }

/// A two-prompt manifest in `dir`: q1 (speech-like, 0.5 s silence either side) and q2 (white-ish
/// Gaussian noise at -20 dBFS, 1 s, for the band check).
QString makeSet(const QTemporaryDir& dir) {
    QDir().mkpath(dir.filePath("src"));
    audio::writeAudioFile(dir.filePath("src/q1.wav").toStdString(), speechLike(0.5, 0.5), audio::AudioFileFormat::WavPcm16);
    audio::AudioClip broad;
    broad.sample_rate = kRate;
    broad.samples = test::audio::noise(kRate, 0.1, 11);
    audio::writeAudioFile(dir.filePath("src/q2.wav").toStdString(), broad, audio::AudioFileFormat::WavPcm16);
    const QString manifest = dir.filePath("src/set.jsonl");
    writeFile(manifest,
              "{\"id\":\"q1\",\"audio\":\"q1.wav\",\"transcript\":\"what is two plus two\",\"reference\":\"four\","
              "\"split\":\"eval\",\"tags\":[\"math\"],\"voice\":\"en-us\"}\n"
              "{\"id\":\"q2\",\"audio\":\"q2.wav\",\"transcript\":\"say hi\",\"reference\":\"hi\",\"split\":\"train\"}\n");
    return manifest;
}

audio::AudioClip readClip(const std::string& path) { return audio::readAudioFile(path); }

/// SNR in dB of `noisy` against `clean` over clean's active part (NoiseMix.h's definition).
double measuredSnr(const audio::AudioClip& clean, const audio::AudioClip& noisy) {
    const audio::SpeechBounds b = audio::findSpeechBounds(clean);
    double ps = 0, pn = 0;
    for (int64_t i = b.begin; i < b.end; ++i) {
        const double s = clean.samples[size_t(i)], n = double(noisy.samples[size_t(i)]) - s;
        ps += s * s;
        pn += n * n;
    }
    return 10 * std::log10(ps / pn);
}

using test::audio::bandEnergy;

std::map<std::string, PromptItem> byId(const PromptSet& set) {
    std::map<std::string, PromptItem> m;
    for (const auto& item : set.items) m[item.id] = item;
    return m;
}

}  // namespace

class TestPromptAugmentation : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    QString manifest_;
    PromptSet out_;

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        manifest_ = makeSet(dir_);
        QStringList args{"prompts", "augment", "--in", manifest_, "--out", dir_.filePath("out"), "--seed", "5"};
        for (const char* c : {"snr=-5", "snr=0", "snr=10", "snr=20", "snr=30", "snr=10,noise=pink", "speed=1.25",
                              "tempo=0.8", "reverb=60", "telephone", "clean"})
            args << "--condition" << c;
        const test::ProcessResult r = test::runCli(args, 300000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
        QVERIFY2(r.out.contains("22 clips (2 prompts x 11 conditions) written to"), qPrintable(r.out));
        out_ = loadPromptSet(dir_.filePath("out/prompts.jsonl").toStdString());
        QVERIFY(!QFileInfo::exists(dir_.filePath("out.tmp-") + QString::number(QCoreApplication::applicationPid())));
    }

    void snrOfWrittenClipIsTheRequestedOne_data() {
        QTest::addColumn<QString>("id");
        QTest::addColumn<double>("snr");
        QTest::newRow("-5 dB white") << "q1@snr--5dB-noise-white" << -5.0;
        QTest::newRow("0 dB white") << "q1@snr-0dB-noise-white" << 0.0;
        QTest::newRow("10 dB white") << "q1@snr-10dB-noise-white" << 10.0;
        QTest::newRow("20 dB white") << "q1@snr-20dB-noise-white" << 20.0;
        QTest::newRow("30 dB white") << "q1@snr-30dB-noise-white" << 30.0;
        QTest::newRow("10 dB pink") << "q1@snr-10dB-noise-pink" << 10.0;
        QTest::newRow("20 dB on noise") << "q2@snr-20dB-noise-white" << 20.0;
    }
    void snrOfWrittenClipIsTheRequestedOne() {
        QFETCH(QString, id);
        QFETCH(double, snr);
        const auto rows = byId(out_);
        QVERIFY2(rows.count(id.toStdString()), qPrintable(id));
        const PromptItem& row = rows.at(id.toStdString());
        const auto clean = readClip(dir_.filePath("src/" + QString::fromStdString(row.source_id) + ".wav").toStdString());
        const auto noisy = readClip(row.audio_path);
        QCOMPARE(noisy.frames(), clean.frames());
        const double measured = measuredSnr(clean, noisy);
        qInfo("%s: asked %.1f dB, measured %.4f dB", qPrintable(id), snr, measured);
        QVERIFY2(std::fabs(measured - snr) <= 0.1, qPrintable(QString("asked %1 dB, measured %2 dB").arg(snr).arg(measured)));
        // The noise covers the silences too (a whole-clip SNR would differ by several dB).
        if (row.source_id == "q1") QVERIFY(std::fabs(noisy.samples[100]) > 0);
    }

    void speedAndTempoChangeTheDuration() {
        const auto rows = byId(out_);
        const auto clean = readClip(dir_.filePath("src/q1.wav").toStdString());
        const auto fast = readClip(rows.at("q1@speed-1.25").audio_path);
        const auto slow = readClip(rows.at("q1@tempo-0.8").audio_path);
        QCOMPARE(fast.sample_rate, kRate);
        QCOMPARE(slow.sample_rate, kRate);
        const double want_fast = clean.durationSeconds() / 1.25, want_slow = clean.durationSeconds() / 0.8;
        qInfo("speed 1.25: %.4f s (expected %.4f); tempo 0.8: %.4f s (expected %.4f)", fast.durationSeconds(), want_fast,
              slow.durationSeconds(), want_slow);
        QVERIFY2(std::fabs(fast.durationSeconds() / want_fast - 1) < 0.01, qPrintable(QString::number(fast.durationSeconds())));
        QVERIFY2(std::fabs(slow.durationSeconds() / want_slow - 1) < 0.01, qPrintable(QString::number(slow.durationSeconds())));
        // Speed moves the pitch with the duration; tempo keeps it (the 440 Hz tone of q1).
        auto middle = [](const audio::AudioClip& c) {
            const size_t n = c.frames();
            return std::vector<float>(c.samples.begin() + long(n * 2 / 5), c.samples.begin() + long(n * 3 / 5));
        };
        const double f_fast = test::audio::dominantFrequency(middle(fast), kRate, 200, 1000);
        const double f_slow = test::audio::dominantFrequency(middle(slow), kRate, 200, 1000);
        qInfo("440 Hz tone after speed 1.25: %.2f Hz; after tempo 0.8: %.2f Hz", f_fast, f_slow);
        QVERIFY2(std::fabs(f_fast - 550.0) < 5, qPrintable(QString::number(f_fast)));
        QVERIFY2(std::fabs(f_slow - 440.0) < 5, qPrintable(QString::number(f_slow)));
    }

    void telephoneRemovesTheBandAbove4kHz() {
        const auto rows = byId(out_);
        const auto in = readClip(dir_.filePath("src/q2.wav").toStdString());
        const auto out = readClip(rows.at("q2@telephone").audio_path);
        QCOMPARE(out.frames(), in.frames());
        // 0.5 s from the middle: plain DFT of 8000 points.
        auto cut = [](const audio::AudioClip& c) {
            return std::vector<float>(c.samples.begin() + 4000, c.samples.begin() + 12000);
        };
        const double high_in = bandEnergy(cut(in), kRate, 4000, 8000), high_out = bandEnergy(cut(out), kRate, 4000, 8000);
        const double drop_db = 10 * std::log10(high_out / high_in);
        const double pass_db = 10 * std::log10(bandEnergy(cut(out), kRate, 500, 3000) / bandEnergy(cut(in), kRate, 500, 3000));
        qInfo("telephone: 4-8 kHz %.1f dB, 500-3000 Hz %.2f dB against the input", drop_db, pass_db);
        QVERIFY2(drop_db <= -30, qPrintable(QString("above 4 kHz: %1 dB").arg(drop_db)));
        QVERIFY2(std::fabs(pass_db) < 1.0, qPrintable(QString("500-3000 Hz: %1 dB").arg(pass_db)));
    }

    void reverbKeepsTheDurationAndAddsATail() {
        const auto rows = byId(out_);
        const auto in = readClip(dir_.filePath("src/q1.wav").toStdString());
        const auto out = readClip(rows.at("q1@reverb-60").audio_path);
        QCOMPARE(out.frames(), in.frames());
        // The 0.2 s right after the burst (2.0 s .. 2.2 s) is digital silence in the input.
        double tail_in = 0, tail_out = 0;
        for (size_t i = size_t(2.0 * kRate); i < size_t(2.2 * kRate); ++i) {
            tail_in += double(in.samples[i]) * in.samples[i];
            tail_out += double(out.samples[i]) * out.samples[i];
        }
        QCOMPARE(tail_in, 0.0);
        qInfo("reverb=60: %zu frames in, %zu out; 2.0-2.2 s after the burst %.1f dBFS", in.frames(), out.frames(),
              10 * std::log10(tail_out / (0.2 * kRate)));
        QVERIFY2(tail_out / (0.2 * kRate) > 1e-6, qPrintable(QString::number(tail_out)));  // above -60 dBFS
    }

    void manifestRowsCarryTheCondition() {
        QCOMPARE(out_.items.size(), size_t(22));
        // Input order, conditions in the order given.
        QCOMPARE(out_.items[0].id, std::string("q1@snr--5dB-noise-white"));
        QCOMPARE(out_.items[11].id, std::string("q2@snr--5dB-noise-white"));
        const auto rows = byId(out_);
        const PromptItem& r = rows.at("q1@snr-10dB-noise-pink");
        QCOMPARE(r.condition, std::string("snr=10dB,noise=pink"));
        QCOMPARE(r.source_id, std::string("q1"));
        QCOMPARE(r.transcript, std::string("what is two plus two"));
        QCOMPARE(*r.reference, std::string("four"));
        QCOMPARE(r.split, std::string("eval"));
        QCOMPARE(r.voice, std::string("en-us"));
        QCOMPARE(r.tags, (std::vector<std::string>{"math", "augmented", "snr=10dB;noise=pink"}));
        QCOMPARE(r.audio, std::string("audio/q1@snr-10dB-noise-pink.wav"));
        QCOMPARE(rows.at("q2@speed-1.25").condition, std::string("speed=1.25"));
        QCOMPARE(rows.at("q2@tempo-0.8").condition, std::string("tempo=0.8"));
        QCOMPARE(rows.at("q2@reverb-60").condition, std::string("reverb=60"));
        QCOMPARE(rows.at("q2@telephone").condition, std::string("telephone"));
        QCOMPARE(rows.at("q2@clean").condition, std::string("clean"));
        QCOMPARE(*rows.at("q2@clean").reference, std::string("hi"));
        // clean is the source, sample for sample.
        QCOMPARE(readClip(rows.at("q2@clean").audio_path).samples, readClip(dir_.filePath("src/q2.wav").toStdString()).samples);
    }

    void sameSeedSameBytesOtherSeedOtherNoise() {
        AugmentOptions o;
        o.conditions = {parseAcousticCondition("snr=10"), parseAcousticCondition("snr=10,noise=pink")};
        o.seed = 5;
        augmentPromptSet(manifest_.toStdString(), dir_.filePath("again").toStdString(), o);
        o.seed = 6;
        augmentPromptSet(manifest_.toStdString(), dir_.filePath("other").toStdString(), o);
        auto bytes = [](const QString& p) {
            QFile f(p);
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        };
        for (const QString name : {"q1@snr-10dB-noise-white.wav", "q1@snr-10dB-noise-pink.wav"}) {
            const QByteArray first = bytes(dir_.filePath("out/audio/" + name));
            QVERIFY(!first.isEmpty());
            QCOMPARE(bytes(dir_.filePath("again/audio/" + name)), first);
            QVERIFY(bytes(dir_.filePath("other/audio/" + name)) != first);
        }
    }

    void badSpecsAreRefusedByName_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown") << "sped=1.1" << "unknown effect 'sped'";
        QTest::newRow("not a number") << "speed=fast" << "speed: 'fast' is not a number";
        QTest::newRow("range") << "tempo=9" << "tempo=9 is out of range (0.25 .. 4)";
        QTest::newRow("no value") << "snr" << "snr needs a value";
        QTest::newRow("bad noise parameter") << "snr=10,colour=pink" << "unknown parameter 'colour=pink'";
        QTest::newRow("value on telephone") << "telephone=8" << "telephone takes no value";
        QTest::newRow("empty step") << "speed=1.1+" << "an empty step";
    }
    void badSpecsAreRefusedByName() {
        QFETCH(QString, spec);
        QFETCH(QString, expected);
        const QString e = test::errorOf([&] { parseAcousticCondition(spec.toStdString()); });
        QVERIFY2(e.contains("condition '" + spec + "'") && e.contains(expected), qPrintable(e));
        // Through the CLI: status 1, the message, and no output folder.
        const QString out = dir_.filePath("bad-spec");
        const test::ProcessResult r =
            test::runCli({"prompts", "augment", "--in", manifest_, "--out", out, "--condition", spec});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains(expected), qPrintable(r.err));
        QVERIFY(!QFileInfo::exists(out));
    }

    void badInputLeavesNothing() {
        QTemporaryDir d;
        QDir().mkpath(d.filePath("src"));
        audio::writeAudioFile(d.filePath("src/ok.wav").toStdString(), speechLike(0.1, 0.1), audio::AudioFileFormat::WavPcm16);
        writeFile(d.filePath("src/junk.wav"), "RIFF this is not a wave file at all");
        writeFile(d.filePath("src/missing.jsonl"),
                  "{\"id\":\"a\",\"audio\":\"ok.wav\",\"transcript\":\"t\",\"split\":\"train\"}\n"
                  "{\"id\":\"b\",\"audio\":\"gone.wav\",\"transcript\":\"t\",\"split\":\"train\"}\n");
        writeFile(d.filePath("src/junk.jsonl"),
                  "{\"id\":\"a\",\"audio\":\"ok.wav\",\"transcript\":\"t\",\"split\":\"train\"}\n"
                  "{\"id\":\"b\",\"audio\":\"junk.wav\",\"transcript\":\"t\",\"split\":\"train\"}\n");
        AugmentOptions o;
        o.conditions = {parseAcousticCondition("snr=10")};
        const std::string out = d.filePath("out").toStdString();
        QString e = test::errorOf([&] { augmentPromptSet(d.filePath("src/missing.jsonl").toStdString(), out, o); });
        QVERIFY2(e.contains("line 2: audio:") && e.contains(d.filePath("src/gone.wav")) && e.contains("does not exist"),
                 qPrintable(e));
        e = test::errorOf([&] { augmentPromptSet(d.filePath("src/junk.jsonl").toStdString(), out, o); });
        QVERIFY2(e.contains("prompt 'b'") && e.contains(d.filePath("src/junk.wav")), qPrintable(e));
        // The first clip had been written into the temporary folder: it is gone with it.
        QCOMPARE(QDir(d.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot), QStringList{"src"});

        // An output folder in use is refused; an empty one is taken.
        QDir().mkpath(d.filePath("used/x"));
        e = test::errorOf([&] { augmentPromptSet(d.filePath("src/missing.jsonl").toStdString(), d.filePath("used").toStdString(), o); });
        QVERIFY2(e.contains("line 2"), qPrintable(e));  // the manifest is checked first
        writeFile(d.filePath("src/good.jsonl"), "{\"id\":\"a\",\"audio\":\"ok.wav\",\"transcript\":\"t\",\"split\":\"train\"}\n");
        e = test::errorOf([&] { augmentPromptSet(d.filePath("src/good.jsonl").toStdString(), d.filePath("used").toStdString(), o); });
        QVERIFY2(e.contains(d.filePath("used")) && e.contains("already exists and is not empty"), qPrintable(e));
        QDir().mkpath(d.filePath("empty"));
        QCOMPARE(augmentPromptSet(d.filePath("src/good.jsonl").toStdString(), (d.filePath("empty") + "/").toStdString(), o).clips, 1);
        QVERIFY(QFileInfo::exists(d.filePath("empty/prompts.jsonl")));

        // A condition given twice, and a noise file that is not there.
        o.conditions = {parseAcousticCondition("snr=10"), parseAcousticCondition("snr=10dB,noise=white")};
        e = test::errorOf([&] { augmentPromptSet(d.filePath("src/good.jsonl").toStdString(), d.filePath("twice").toStdString(), o); });
        QVERIFY2(e.contains("'snr=10dB,noise=white' is given twice"), qPrintable(e));
        o.conditions = {parseAcousticCondition("snr=5,noise=" + d.filePath("no-noise.wav").toStdString())};
        e = test::errorOf([&] { augmentPromptSet(d.filePath("src/good.jsonl").toStdString(), d.filePath("nf").toStdString(), o); });
        QVERIFY2(e.contains(d.filePath("no-noise.wav")) && e.contains("condition 'snr=5dB,noise=file:no-noise.wav'"), qPrintable(e));
        QVERIFY(!QFileInfo::exists(d.filePath("nf")));

        // Cancel after the first clip: nothing kept.
        o.conditions = {parseAcousticCondition("speed=1.1"), parseAcousticCondition("tempo=1.1")};
        int polls = 0;
        o.abort = [&polls] { return ++polls > 1; };
        QVERIFY_THROWS_EXCEPTION(AugmentCancelled,
                                 augmentPromptSet(d.filePath("src/good.jsonl").toStdString(), d.filePath("cancelled").toStdString(), o));
        QVERIFY(!QFileInfo::exists(d.filePath("cancelled")));
        QCOMPARE(QDir(d.path()).entryList({"*.tmp-*"}, QDir::AllEntries), QStringList());
    }

    void noiseFromAFileAtTheRequestedSnr() {
        QTemporaryDir d;
        audio::AudioClip hum;
        hum.sample_rate = 8000;  // resampled to the clip's 16 kHz when read
        for (int i = 0; i < 4000; ++i) hum.samples.push_back(float(0.3 * std::sin(2 * M_PI * 120.0 * i / 8000.0) + 0.05 * std::sin(2 * M_PI * 900.0 * i / 8000.0)));
        audio::writeAudioFile(d.filePath("hum.wav").toStdString(), hum, audio::AudioFileFormat::WavFloat32);
        const auto clean = speechLike(0.3, 0.3);
        const AcousticCondition c = parseAcousticCondition("snr=3,noise=" + d.filePath("hum.wav").toStdString());
        QCOMPARE(c.name(), std::string("snr=3dB,noise=file:hum.wav"));
        const auto noisy = applyAcousticCondition(clean, c, 9);  // the file (0.5 s) is looped over 2.1 s
        QVERIFY(std::fabs(measuredSnr(clean, noisy) - 3.0) <= 0.1);
    }
};

QTEST_APPLESS_MAIN(TestPromptAugmentation)
#include "test_prompt_augmentation.moc"
