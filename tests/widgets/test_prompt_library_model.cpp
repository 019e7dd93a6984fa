// PromptLibraryModel under QAbstractItemModelTester (both the model and the sort/filter proxy the
// screen uses): import of files, folders (recursive, with a broken file reported and skipped) and
// JSONL manifests; edits of transcript, split and tags; removal; a manifest round trip; loudness
// against the analytic BS.1770 value of a sine; the header facts against hand-written WAV files.
#include "widgets/prompts/PromptLibraryModel.h"

#include "core/audio/AudioFile.h"
#include "core/audio/Loudness.h"
#include "tests/support/TestSupport.h"

#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>

using namespace xopd;
using namespace xopd::widgets;
using Model = PromptLibraryModel;

namespace {

void writeClip(const QString& path, double seconds, int rate, double amplitude, double hz = 997.0) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    audio::AudioClip c{xopd::test::sineTone(hz, seconds, rate, amplitude), rate};
    audio::writeAudioFile(path.toStdString(), c, path.endsWith(".flac") ? audio::AudioFileFormat::Flac16
                                                                         : audio::AudioFileFormat::WavPcm16);
}

/// A 16-bit PCM WAV written byte by byte (independent of libsndfile's writer).
void writeWavByHand(const QString& path, int rate, int channels, int frames) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    auto u32 = [&](quint32 v) { f.write(reinterpret_cast<const char*>(&v), 4); };
    auto u16 = [&](quint16 v) { f.write(reinterpret_cast<const char*>(&v), 2); };
    const quint32 data = quint32(frames * channels * 2);
    f.write("RIFF");
    u32(36 + data);
    f.write("WAVEfmt ");
    u32(16);
    u16(1);
    u16(quint16(channels));
    u32(quint32(rate));
    u32(quint32(rate * channels * 2));
    u16(quint16(channels * 2));
    u16(16);
    f.write("data");
    u32(data);
    for (int i = 0; i < frames * channels; ++i) u16(quint16(qint16(1000 * std::sin(0.01 * i))));
}

QVariant cell(const Model& m, int row, int col, int role = Qt::DisplayRole) { return m.data(m.index(row, col), role); }

}  // namespace

class TestPromptLibraryModel : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

private slots:
    void initTestCase() { QVERIFY(tmp_.isValid()); }

    void importFilesWithHeaderFactsAndLoudness() {
        Model m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QString a = tmp_.filePath("files/tone.wav");
        writeClip(a, 1.0, 16000, 0.5);
        const QString stereo = tmp_.filePath("files/stereo.wav");
        writeWavByHand(stereo, 22050, 2, 11025);
        QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);

        QCOMPARE(m.addFile(a), 0);
        QCOMPARE(m.addFile(stereo, "imported", "a stereo clip"), 1);
        QCOMPARE(m.addFile(a), 2);  // same file twice: a unique id
        QCOMPARE(inserted.count(), 3);
        QCOMPARE(m.rowCount(), 3);
        QCOMPARE(m.columnCount(), int(Model::ColumnCount));
        QCOMPARE(cell(m, 0, Model::Name).toString(), QString("tone"));
        QCOMPARE(cell(m, 2, Model::Name).toString(), QString("tone-2"));
        QCOMPARE(m.rowOf("tone-2"), 2);
        QCOMPARE(m.rowOf("nope"), -1);
        QCOMPARE(cell(m, 0, Model::Duration).toString(), QString("1.00 s"));
        QCOMPARE(cell(m, 0, Model::Duration, Model::SortRole).toDouble(), 1.0);
        QCOMPARE(cell(m, 0, Model::Format).toString(), QString("16000 Hz · 1 ch"));
        QCOMPARE(cell(m, 1, Model::Format).toString(), QString("22050 Hz · 2 ch"));
        QCOMPARE(cell(m, 1, Model::Duration, Model::SortRole).toDouble(), 0.5);
        QCOMPARE(cell(m, 0, Model::Source).toString(), QString("imported"));
        QCOMPARE(cell(m, 0, Model::Split).toString(), QString("train"));
        QCOMPARE(cell(m, 1, Model::Transcript).toString(), QString("a stereo clip"));
        QCOMPARE(m.entry(0).path, QFileInfo(a).absoluteFilePath());
        QCOMPARE(cell(m, 0, Model::Name, Qt::ToolTipRole).toString(), QFileInfo(a).absoluteFilePath());
        // BS.1770: a full-scale 997 Hz sine in one channel reads −3.01 LUFS, so amplitude ½ reads
        // −3.01 − 6.02 = −9.03 LUFS (the K-weighting is ≈ 0 dB net at 1 kHz).
        QVERIFY2(std::abs(m.entry(0).lufs - (-9.03)) < 0.1, qPrintable(QString::number(m.entry(0).lufs)));
        QCOMPARE(cell(m, 0, Model::Loudness).toString(), QString::number(m.entry(0).lufs, 'f', 1) + " LUFS");
        QCOMPARE(m.loadClip(0).sample_rate, 16000);
        QCOMPARE(m.loadClip(0).frames(), size_t(16000));
        QVERIFY_THROWS_EXCEPTION(std::exception, m.loadClip(7));
        QVERIFY_THROWS_EXCEPTION(std::exception, m.addFile(tmp_.filePath("files/missing.wav")));
        QCOMPARE(m.rowCount(), 3);
        QCOMPARE(m.headerData(Model::Transcript, Qt::Horizontal).toString(), QString("Transcript"));
    }

    void importFolderRecursivelyReportingBrokenFiles() {
        Model m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QString dir = tmp_.filePath("folder");
        writeClip(dir + "/b.wav", 0.5, 16000, 0.3);
        writeClip(dir + "/a.flac", 0.5, 22050, 0.3);
        writeClip(dir + "/deep/er/c.wav", 0.75, 8000, 0.3);
        QFile junk(dir + "/broken.wav");
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("this is not a wave file");
        junk.close();
        QFile notes(dir + "/notes.txt");
        QVERIFY(notes.open(QIODevice::WriteOnly));
        notes.write("ignored: not audio");
        notes.close();

        const QStringList problems = m.addPath(dir);
        QCOMPARE(problems.size(), 1);
        QVERIFY2(problems[0].contains("broken.wav"), qPrintable(problems[0]));
        QStringList names;
        for (int r = 0; r < m.rowCount(); ++r) names << cell(m, r, Model::Name).toString();
        QCOMPARE(names, (QStringList{"a", "b", "c"}));  // sorted by path: a.flac, b.wav, deep/er/c.wav
        QCOMPARE(cell(m, 2, Model::Format).toString(), QString("8000 Hz · 1 ch"));
        QCOMPARE(cell(m, 0, Model::Duration, Model::SortRole).toDouble(), 0.5);  // 11025 frames at 22050 Hz
    }

    void importManifest() {
        Model m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QString dir = tmp_.filePath("manifest");
        writeClip(dir + "/audio/q1.wav", 0.5, 16000, 0.2);
        writeClip(dir + "/audio/q2.wav", 1.5, 16000, 0.2);
        QFile f(dir + "/set.jsonl");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"id": "q1", "audio": "audio/q1.wav", "transcript": "what is three plus four", "split": "eval", "tags": ["arithmetic", "short"], "voice": "en"})"
                "\n\n"
                R"({"id": "q2", "audio": "audio/q2.wav", "transcript": "name a colour", "reference": "red", "split": "train"})"
                "\n");
        f.close();
        QCOMPARE(m.addPath(dir + "/set.jsonl"), QStringList());
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(cell(m, 0, Model::Name).toString(), QString("q1"));
        QCOMPARE(cell(m, 0, Model::Source).toString(), QString("manifest"));
        QCOMPARE(cell(m, 0, Model::Split).toString(), QString("eval"));
        QCOMPARE(cell(m, 0, Model::Tags).toString(), QString("arithmetic, short"));
        QCOMPARE(cell(m, 0, Model::Transcript).toString(), QString("what is three plus four"));
        QCOMPARE(m.entry(0).voice, QString("en"));
        QCOMPARE(m.entry(1).path, QFileInfo(dir + "/audio/q2.wav").absoluteFilePath());
        QCOMPARE(cell(m, 1, Model::Duration, Model::SortRole).toDouble(), 1.5);
        // Importing it again keeps ids unique.
        QCOMPARE(m.addManifest(dir + "/set.jsonl"), 2);
        QCOMPARE(cell(m, 2, Model::Name).toString(), QString("q1-2"));

        // A bad manifest: reported by addPath, thrown by addManifest, nothing added.
        QFile bad(dir + "/bad.jsonl");
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write(R"({"id": "x", "audio": "audio/q1.wav", "split": "train"})" "\n");  // no transcript
        bad.close();
        const QStringList problems = m.addPath(dir + "/bad.jsonl");
        QCOMPARE(problems.size(), 1);
        QVERIFY2(problems[0].contains("transcript"), qPrintable(problems[0]));
        QVERIFY_THROWS_EXCEPTION(std::exception, m.addManifest(dir + "/bad.jsonl"));
        QCOMPARE(m.rowCount(), 4);
    }

    void editTranscriptSplitAndTags() {
        Model m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        writeClip(tmp_.filePath("edit/e.wav"), 0.5, 16000, 0.2);
        m.addFile(tmp_.filePath("edit/e.wav"));
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);

        QVERIFY(m.flags(m.index(0, Model::Transcript)) & Qt::ItemIsEditable);
        QVERIFY(m.flags(m.index(0, Model::Split)) & Qt::ItemIsEditable);
        QVERIFY(m.flags(m.index(0, Model::Tags)) & Qt::ItemIsEditable);
        for (int col : {Model::Name, Model::Duration, Model::Format, Model::Source, Model::Loudness})
            QVERIFY(!(m.flags(m.index(0, col)) & Qt::ItemIsEditable));

        QVERIFY(m.setData(m.index(0, Model::Transcript), "  how many legs does a spider have \n"));
        QCOMPARE(cell(m, 0, Model::Transcript).toString(), QString("how many legs does a spider have"));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex(), m.index(0, Model::Transcript));

        QVERIFY(m.setData(m.index(0, Model::Tags), "animals, counting,, short "));
        QCOMPARE(m.entry(0).tags, (QStringList{"animals", "counting", "short"}));
        QCOMPARE(cell(m, 0, Model::Tags, Qt::EditRole).toString(), QString("animals, counting, short"));

        QVERIFY(m.setData(m.index(0, Model::Split), "test"));
        QCOMPARE(m.entry(0).split, QString("test"));
        QVERIFY(!m.setData(m.index(0, Model::Split), "holdout"));  // not a known split
        QCOMPARE(m.entry(0).split, QString("test"));
        QVERIFY(!m.setData(m.index(0, Model::Name), "renamed"));
        QVERIFY(!m.setData(m.index(0, Model::Transcript), "x", Qt::DisplayRole));
        QCOMPARE(changed.count(), 3);
    }

    void proxySortsAndFiltersUnderTheTester() {
        Model m;
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&m);
        proxy.setSortRole(Model::SortRole);
        proxy.setFilterKeyColumn(-1);
        proxy.setFilterCaseSensitivity(Qt::CaseInsensitive);
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        writeClip(tmp_.filePath("proxy/long.wav"), 2.0, 16000, 0.2);
        writeClip(tmp_.filePath("proxy/short.wav"), 0.5, 16000, 0.2);
        writeClip(tmp_.filePath("proxy/mid.wav"), 1.0, 16000, 0.2);
        m.addFile(tmp_.filePath("proxy/long.wav"), "imported", "The quick brown fox");
        m.addFile(tmp_.filePath("proxy/short.wav"), "imported", "seven plus two");
        m.addFile(tmp_.filePath("proxy/mid.wav"), "recorded", "a lazy dog");
        proxy.sort(Model::Duration, Qt::AscendingOrder);  // numerically, by seconds, not by text
        QCOMPARE(proxy.index(0, Model::Name).data().toString(), QString("short"));
        QCOMPARE(proxy.index(2, Model::Name).data().toString(), QString("long"));
        proxy.setFilterFixedString("FOX");
        QCOMPARE(proxy.rowCount(), 1);
        QCOMPARE(proxy.index(0, Model::Name).data().toString(), QString("long"));
        proxy.setFilterRegularExpression(QRegularExpression("^(seven|a lazy)", QRegularExpression::CaseInsensitiveOption));
        QCOMPARE(proxy.rowCount(), 2);
        proxy.setFilterFixedString(QString());
        QVERIFY(m.removeRows(0, 1));
        QCOMPARE(proxy.rowCount(), 2);
        QVERIFY(!m.removeRows(1, 5));
        m.clear();
        QCOMPARE(proxy.rowCount(), 0);
    }

    void manifestRoundTripAndClips() {
        Model m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QString dir = tmp_.filePath("roundtrip");
        audio::AudioClip clip{xopd::test::sineTone(440, 0.6, 16000, 0.25), 16000};
        const int r0 = m.addClip(clip, dir + "/recordings", "rec", "recorded", "what is the capital of France");
        const int r1 = m.addClip(clip, dir + "/recordings", "rec", "synthesized", "name three fruits");
        QCOMPARE(cell(m, r0, Model::Name).toString(), QString("rec"));
        QCOMPARE(cell(m, r1, Model::Name).toString(), QString("rec-2"));
        QCOMPARE(cell(m, r0, Model::Source).toString(), QString("recorded"));
        QCOMPARE(cell(m, r1, Model::Source).toString(), QString("synthesized"));
        QVERIFY(QFile::exists(dir + "/recordings/rec-2.wav"));
        const auto back = m.loadClip(r0);
        QCOMPARE(back.frames(), clip.frames());
        for (size_t i = 0; i < clip.frames(); ++i) QVERIFY(std::abs(back.samples[i] - clip.samples[i]) <= 1.0f / 32767);
        m.setData(m.index(r1, Model::Tags), "fruit, list");
        m.setData(m.index(r1, Model::Split), "dev");

        m.saveManifest(dir + "/library.jsonl");
        QFile f(dir + "/library.jsonl");
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        QVERIFY2(text.contains("\"recordings/rec.wav\""), qPrintable(text));  // relative to the manifest

        Model again;
        QAbstractItemModelTester tester2(&again, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(again.addManifest(dir + "/library.jsonl"), 2);
        for (int r = 0; r < 2; ++r) {
            QCOMPARE(again.entry(r).id, m.entry(r).id);
            QCOMPARE(again.entry(r).transcript, m.entry(r).transcript);
            QCOMPARE(again.entry(r).split, m.entry(r).split);
            QCOMPARE(again.entry(r).tags, m.entry(r).tags);
            QCOMPARE(again.entry(r).path, m.entry(r).path);
            QCOMPARE(again.entry(r).durationS, m.entry(r).durationS);
        }
        // A prompt without a transcript cannot go into a manifest; nothing is written.
        writeClip(dir + "/bare.wav", 0.5, 16000, 0.2);
        m.addFile(dir + "/bare.wav");
        QVERIFY_THROWS_EXCEPTION(std::exception, m.saveManifest(dir + "/other.jsonl"));
        QVERIFY(!QFile::exists(dir + "/other.jsonl"));
    }
};

QTEST_MAIN(TestPromptLibraryModel)
#include "test_prompt_library_model.moc"
