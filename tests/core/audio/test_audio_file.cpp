// Audio file I/O: every libsndfile format reads with the right duration and content, mono
// downmix, soxr resampling keeps a tone's frequency, atomic writes, and bad input gives an
// xopd::Error that names the file (API) or exit code 1 with the file on stderr (CLI).
#include "core/audio/AudioFile.h"
#include "core/audio/Npy.h"
#include "core/audio/Resampler.h"
#include "core/common/Error.h"
#include "tests/core/audio/AudioTestUtil.h"
#include "tests/support/TestHelpers.h"

#include <sndfile.h>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <sys/stat.h>

using namespace xopd::audio;
using namespace xopd::test;
using namespace xopd::test::audio;

namespace {

/// Writes interleaved samples with libsndfile directly (independent of writeAudioFile).
void sfWrite(const QString& path, int format, int rate, int channels, const std::vector<float>& interleaved) {
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = channels;
    info.format = format;
    SNDFILE* f = sf_open(path.toUtf8().constData(), SFM_WRITE, &info);
    QVERIFY2(f, sf_strerror(nullptr));
    QCOMPARE(sf_writef_float(f, interleaved.data(), sf_count_t(interleaved.size() / channels)),
             sf_count_t(interleaved.size() / channels));
    sf_close(f);
}

void writeBytes(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

}  // namespace

class TestAudioFile : public QObject {
    Q_OBJECT
private slots:
    void everyFormatReads_data() {
        QTest::addColumn<int>("format");
        QTest::addColumn<int>("rate");
        QTest::addColumn<double>("tolerance");  // max |read - written| per sample
        QTest::newRow("wav u8 8k") << (SF_FORMAT_WAV | SF_FORMAT_PCM_U8) << 8000 << 1.0 / 64;
        QTest::newRow("wav s16 16k") << (SF_FORMAT_WAV | SF_FORMAT_PCM_16) << 16000 << 1.0 / 16384;
        QTest::newRow("wav s24 22.05k") << (SF_FORMAT_WAV | SF_FORMAT_PCM_24) << 22050 << 1e-6;
        QTest::newRow("wav s32 44.1k") << (SF_FORMAT_WAV | SF_FORMAT_PCM_32) << 44100 << 1e-7;
        QTest::newRow("wav float 48k") << (SF_FORMAT_WAV | SF_FORMAT_FLOAT) << 48000 << 0.0;
        QTest::newRow("wav double 16k") << (SF_FORMAT_WAV | SF_FORMAT_DOUBLE) << 16000 << 1e-7;
        QTest::newRow("flac 16 44.1k") << (SF_FORMAT_FLAC | SF_FORMAT_PCM_16) << 44100 << 1.0 / 16384;
        QTest::newRow("flac 24 48k") << (SF_FORMAT_FLAC | SF_FORMAT_PCM_24) << 48000 << 1e-6;
        QTest::newRow("ogg vorbis 44.1k") << (SF_FORMAT_OGG | SF_FORMAT_VORBIS) << 44100 << -1.0;
        QTest::newRow("aiff s16 32k") << (SF_FORMAT_AIFF | SF_FORMAT_PCM_16) << 32000 << 1.0 / 16384;
        QTest::newRow("wav ulaw 8k") << (SF_FORMAT_WAV | SF_FORMAT_ULAW) << 8000 << 0.02;
    }

    void everyFormatReads() {
        QFETCH(int, format);
        QFETCH(int, rate);
        QFETCH(double, tolerance);
        QTemporaryDir dir;
        const char* ext = (format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC  ? "flac"
                          : (format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG ? "ogg"
                          : (format & SF_FORMAT_TYPEMASK) == SF_FORMAT_AIFF ? "aiff"
                                                                            : "wav";
        const QString path = dir.filePath(QString("a.") + ext);
        const double seconds = 1.37;
        const std::vector<float> x = sineTone(440, seconds, rate, 0.5);
        sfWrite(path, format, rate, 1, x);

        const AudioFileInfo info = probeAudioFile(path.toStdString());
        QCOMPARE(info.sample_rate, rate);
        QCOMPARE(info.channels, 1);
        QCOMPARE(info.frames, std::int64_t(x.size()));
        QVERIFY(std::abs(info.durationSeconds() - seconds) < 1.0 / rate);
        QVERIFY(!info.container.empty() && !info.encoding.empty());

        AudioFileInfo info2;
        const AudioClip clip = readAudioFile(path.toStdString(), {}, &info2);
        QCOMPARE(info2.frames, info.frames);
        QCOMPARE(clip.sample_rate, rate);
        QCOMPARE(clip.frames(), x.size());
        if (tolerance >= 0) {
            double m = 0;
            for (size_t i = 0; i < x.size(); ++i) m = std::max(m, double(std::abs(clip.samples[i] - x[i])));
            QVERIFY2(m <= tolerance, qPrintable(QString("max diff %1").arg(m)));
        } else {  // lossy: same tone, same level
            QVERIFY(std::abs(dominantFrequency(std::vector<float>(clip.samples.begin(), clip.samples.begin() + rate / 4),
                                               rate, 100, 2000) - 440) < 2);
            QVERIFY(std::abs(xopd::test::rms(clip.samples) - xopd::test::rms(x)) < 0.02);
        }
    }

    void stereoIsDownmixed() {
        QTemporaryDir dir;
        const QString path = dir.filePath("st.wav");
        const std::vector<float> l = sineTone(300, 0.5, 16000, 0.8);
        std::vector<float> inter;
        for (float v : l) inter.insert(inter.end(), {v, 0.25f});
        sfWrite(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 2, inter);
        AudioFileInfo info;
        const AudioClip c = readAudioFile(path.toStdString(), {}, &info);
        QCOMPARE(info.channels, 2);
        QCOMPARE(c.frames(), l.size());
        for (size_t i = 0; i < l.size(); i += 97) QVERIFY(std::abs(c.samples[i] - (l[i] + 0.25f) / 2) < 1e-6);
    }

    void resampledToneKeepsItsFrequency() {
        QTemporaryDir dir;
        const QString path = dir.filePath("t44.wav");
        const std::vector<float> x = sineTone(1000, 2.0, 44100, 0.5);
        sfWrite(path, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 44100, 1, x);
        const AudioClip c = readAudioFile(path.toStdString(), {16000});
        QCOMPARE(c.sample_rate, 16000);
        QCOMPARE(c.frames(), size_t(32000));
        const std::vector<float> mid(c.samples.begin() + 8000, c.samples.begin() + 12000);  // away from edges
        const double f = dominantFrequency(mid, 16000);
        QVERIFY2(std::abs(f - 1000) < 1.0, qPrintable(QString("measured %1 Hz").arg(f)));
        QVERIFY(std::abs(xopd::test::rms(mid) - 0.5 / std::sqrt(2.0)) < 0.005);  // level kept
        // Zero crossings over the middle second: 2 per period.
        int crossings = 0;
        for (size_t i = 4001; i < 20000; ++i) crossings += (c.samples[i - 1] < 0) != (c.samples[i] < 0);
        QVERIFY(std::abs(crossings - 1999) <= 2);
        // Up-sampling too: 16k -> 48k.
        const std::vector<float> up = resample(sineTone(3000, 1.0, 16000, 0.5), 16000, 48000);
        QCOMPARE(up.size(), size_t(48000));
        QVERIFY(std::abs(dominantFrequency(std::vector<float>(up.begin() + 12000, up.begin() + 24000), 48000, 100, 8000) -
                         3000) < 1.0);
    }

    void writeRoundTrips_data() {
        QTest::addColumn<int>("format");
        QTest::addColumn<QString>("ext");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("wav16") << int(AudioFileFormat::WavPcm16) << "wav" << 1.0 / 32768;
        QTest::newRow("wavf32") << int(AudioFileFormat::WavFloat32) << "wav" << 0.0;
        QTest::newRow("flac16") << int(AudioFileFormat::Flac16) << "flac" << 1.0 / 32768;
        QTest::newRow("flac24") << int(AudioFileFormat::Flac24) << "flac" << 1.0 / 8388608 * 1.01;
    }

    void writeRoundTrips() {
        QFETCH(int, format);
        QFETCH(QString, ext);
        QFETCH(double, tolerance);
        QTemporaryDir dir;
        const QString path = dir.filePath("w." + ext);
        const AudioClip c{noise(22050, 0.2, 5), 22050};
        writeAudioFile(path.toStdString(), c, AudioFileFormat(format));
        const AudioClip r = readAudioFile(path.toStdString());
        QCOMPARE(r.sample_rate, 22050);
        QCOMPARE(r.frames(), c.frames());
        double m = 0;
        for (size_t i = 0; i < c.frames(); ++i) m = std::max(m, double(std::abs(r.samples[i] - c.samples[i])));
        QVERIFY2(m <= tolerance, qPrintable(QString("max diff %1").arg(m)));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"w." + ext});  // no temporary left
    }

    void writeIsAtomic() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("keep.wav").toStdString();
        writeAudioFile(path, AudioClip{sineTone(440, 0.2, 16000), 16000}, AudioFileFormat::WavPcm16);
        AudioClip bad{sineTone(440, 0.2, 16000), 16000};
        bad.samples[100] = std::nanf("");
        QVERIFY(xopd::test::errorOf([&] { writeAudioFile(path, bad, AudioFileFormat::WavPcm16); }).contains("keep.wav"));
        QCOMPARE(readAudioFile(path).frames(), size_t(3200));  // the old file is intact
        const QString missing = xopd::test::errorOf([&] {
            writeAudioFile(dir.filePath("no/such/dir/x.wav").toStdString(), AudioClip{{0.f}, 16000},
                           AudioFileFormat::WavPcm16);
        });
        QVERIFY2(missing.contains("no/such/dir/x.wav"), qPrintable(missing));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"keep.wav"});
        QVERIFY(xopd::test::errorOf([] { formatForPath("x.mp3"); }).contains("x.mp3"));
    }

    void badInputNamesTheFile_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("problem");
        // A valid 0.1 s WAV to cut up.
        QTemporaryDir dir;
        const QString good = dir.filePath("g.wav");
        sfWrite(good, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, sineTone(440, 0.1, 16000));
        QFile gf(good);
        QVERIFY(gf.open(QIODevice::ReadOnly));
        const QByteArray wav = gf.readAll();
        QByteArray huge = wav;  // data chunk claims 0x7ffffff0 bytes: ~18.6 hours at 16 kHz 16 bit
        const int data_at = huge.indexOf("data");
        QVERIFY(data_at > 0);
        const quint32 claim = 0x7ffffff0u;
        huge.replace(data_at + 4, 4, QByteArray(reinterpret_cast<const char*>(&claim), 4));
        QByteArray random(4096, '\0');
        std::mt19937 gen(3);
        for (char& ch : random) ch = static_cast<char>(gen() & 0xff);
        QTest::newRow("empty") << "empty.wav" << QByteArray() << "empty";
        QTest::newRow("truncated header") << "cut.wav" << wav.left(30) << "not a readable audio file";
        QTest::newRow("text named .wav") << "notes.wav" << QByteArray("hello, this is not audio\n") << "not a readable";
        QTest::newRow("random bytes .flac") << "noise.flac" << random << "not a readable";
        QTest::newRow("claims hours") << "huge.wav" << huge << "header claims";
        QTest::newRow("missing") << "" << QByteArray() << "no such file";
    }

    void badInputNamesTheFile() {
        QFETCH(QString, name);
        QFETCH(QByteArray, bytes);
        QFETCH(QString, problem);
        QTemporaryDir dir;
        QString path = dir.filePath(name.isEmpty() ? "missing.wav" : name);
        if (!name.isEmpty()) writeBytes(path, bytes);
        const QString e1 = xopd::test::errorOf([&] { probeAudioFile(path.toStdString()); });
        const QString e2 = xopd::test::errorOf([&] { readAudioFile(path.toStdString()); });
        QVERIFY2(e1.contains(path) && e1.contains(problem), qPrintable(e1));
        QVERIFY2(e2.contains(path) && e2.contains(problem), qPrintable(e2));
        for (const QStringList& args : {QStringList{"audio", "info", path},
                                        QStringList{"features", "--audio", path, "--out", dir.filePath("f.npy")},
                                        QStringList{"play", path}}) {
            const ProcessResult r = runCli(args);
            QVERIFY2(r.exitCode == 1, qPrintable(args.join(' ') + ": " + r.err));
            QVERIFY2(r.err.contains("xopd: error: '" + path + "'"), qPrintable(r.err));
        }
        QVERIFY(!QFile::exists(dir.filePath("f.npy")));
    }

    // A FIFO (named pipe) is named for what it is, not read as an empty file (issue 18.8).
    void aFifoIsNotAnAudioFile() {
        QTemporaryDir dir;
        const QString path = dir.filePath("pipe.wav");
        QVERIFY(::mkfifo(path.toStdString().c_str(), 0644) == 0);
        const QString e = xopd::test::errorOf([&] { readAudioFile(path.toStdString()); });
        QVERIFY2(e.contains(path) && e.contains("FIFO"), qPrintable(e));
    }

    void truncatedFlacIsRefused() {
        QTemporaryDir dir;
        const QString path = dir.filePath("t.flac");
        sfWrite(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, noise(48000, 0.2, 9));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.resize(f.size() / 2));
        f.close();
        const QString e = xopd::test::errorOf([&] { readAudioFile(path.toStdString()); });
        QVERIFY2(e.contains(path), qPrintable(e));
    }

    void durationLimit() {
        QTemporaryDir dir;
        const QString path = dir.filePath("two.wav");
        sfWrite(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, std::vector<float>(16000, 0.1f));
        const QString e = xopd::test::errorOf([&] { readAudioFile(path.toStdString(), {0, 1.5}); });
        QVERIFY2(e.contains(path) && e.contains("more than the limit"), qPrintable(e));
        QCOMPARE(readAudioFile(path.toStdString(), {0, 2.0}).frames(), size_t(16000));
    }

    // Only the window asked for is decoded (issue 18.8): the damaged second half of a FLAC is never
    // reached, and the window matches the start of a full read, resampling included.
    void readsOnlyTheWindowAskedFor() {
        QTemporaryDir dir;
        const QString cut = dir.filePath("cut.flac");
        sfWrite(cut, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, noise(48000, 0.2, 9));
        QFile f(cut);
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.resize(f.size() / 2));
        f.close();
        AudioReadOptions ro;
        ro.max_read_s = 0.5;
        QCOMPARE(readAudioFile(cut.toStdString(), ro).frames(), size_t(8000));

        const QString tone = dir.filePath("t.wav");
        sfWrite(tone, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 1, sineTone(700, 3.0, 44100, 0.5));
        ro.target_rate = 16000;
        ro.max_read_s = 1.0;
        AudioFileInfo info;
        const AudioClip window = readAudioFile(tone.toStdString(), ro, &info);
        const AudioClip whole = readAudioFile(tone.toStdString(), {16000});
        QCOMPARE(info.frames, std::int64_t(3 * 44100));  // the header facts are the whole file's
        QCOMPARE(window.frames(), size_t(16000));
        double m = 0;
        for (size_t i = 0; i < window.frames(); ++i) m = std::max(m, double(std::abs(window.samples[i] - whole.samples[i])));
        QVERIFY2(m < 1e-4, qPrintable(QString("max diff %1").arg(m)));
    }

    // rate x channels x duration is bounded before decoding (issue 18.8).
    void sampleValuesAreBounded() {
        QTemporaryDir dir;
        const QString path = dir.filePath("quad.wav");
        sfWrite(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 4, std::vector<float>(4 * 8000, 0.1f));
        AudioReadOptions ro;
        ro.max_sample_values = 10000;
        const QString e = xopd::test::errorOf([&] { readAudioFile(path.toStdString(), ro); });
        QVERIFY2(e.contains(path) && e.contains("4 channels") && e.contains("32000 sample values"), qPrintable(e));
        ro.max_read_s = 0.25;  // 2000 frames + 0.1 s margin = 2800 frames x 4 = 11200: still over
        QVERIFY(!xopd::test::errorOf([&] { readAudioFile(path.toStdString(), ro); }).isEmpty());
        ro.max_read_s = 0.1;  // 1600 frames x 4
        QCOMPARE(readAudioFile(path.toStdString(), ro).frames(), size_t(800));
    }

    // Float samples of 1e30 (+600 dBFS) are refused, not read as sound (issue 18.8): refusing rather
    // than warning because their squares overflow the float power spectrum (features become NaN).
    void absurdFloatSamplesAreRefused() {
        QTemporaryDir dir;
        const QString path = dir.filePath("loud.wav");
        std::vector<float> x = sineTone(440, 0.2, 16000, 0.5);
        x[100] = 1e30f;
        sfWrite(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, x);
        const QString e = xopd::test::errorOf([&] { readAudioFile(path.toStdString()); });
        QVERIFY2(e.contains(path) && e.contains("600 dBFS"), qPrintable(e));
        const ProcessResult r = runCli({"audio", "info", path});
        QVERIFY2(r.exitCode == 1 && r.err.contains(path) && r.err.contains("dBFS"), qPrintable(r.err));
        x[100] = 4.0f;  // +12 dBFS over full scale is a float file's right
        sfWrite(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, x);
        QCOMPARE(readAudioFile(path.toStdString()).frames(), x.size());
    }

    void cliInfo() {
        QTemporaryDir dir;
        const QString path = dir.filePath("i.flac");
        std::vector<float> inter;
        for (float v : sineTone(997, 3.0, 48000, 1.0)) inter.insert(inter.end(), {v, v});
        sfWrite(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 48000, 2, inter);
        const ProcessResult r = runCli({"audio", "info", path});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("sample rate: 48000 Hz"), qPrintable(r.out));
        QVERIFY(r.out.contains("channels: 2"));
        QVERIFY(r.out.contains("frames: 144000"));
        QVERIFY(r.out.contains("duration: 3.000 s"));
        QVERIFY(r.out.contains("FLAC"));
        QVERIFY2(r.out.contains("loudness: -3.0"), qPrintable(r.out));  // 997 Hz full scale: -3.01 LUFS
        QVERIFY(r.out.contains("sample peak: -0.00 dBFS") || r.out.contains("sample peak: 0.00 dBFS"));
    }

    void npyRoundTrip() {
        QTemporaryDir dir;
        const std::string p = dir.filePath("a.npy").toStdString();
        const std::vector<float> v = noise(6, 1.0);
        writeNpyFloat32(p, v, {2, 3});
        const NpyArray a = readNpyFloat32(p);
        QCOMPARE(a.shape, (std::vector<std::int64_t>{2, 3}));
        QCOMPARE(a.values, v);
        QFile f(QString::fromStdString(p));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE((f.size() - 24) % 64, 0);  // header padded to 64 bytes
        QVERIFY_THROWS_EXCEPTION(xopd::Error, writeNpyFloat32(p, v, {4, 2}));
    }
};

QTEST_APPLESS_MAIN(TestAudioFile)
#include "test_audio_file.moc"
