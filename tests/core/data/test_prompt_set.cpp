// Prompt-set manifests: validation errors that name the file, the line and the field; atomic
// writes; and the speech side built from text with espeak-ng (several voices, held-out voices).
#include "core/audio/AudioFile.h"
#include "core/common/Error.h"
#include "core/data/PromptSet.h"
#include "core/data/PromptSynthesis.h"
#include "tests/support/TestHelpers.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <sys/stat.h>

#include <fstream>

using namespace xopd::data;

namespace {

void writeFile(const QString& path, const std::string& text) { std::ofstream(path.toStdString()) << text; }

}  // namespace

class TestPromptSet : public QObject {
    Q_OBJECT

private slots:
    void loadsAndResolvesAudioPaths() {
        QTemporaryDir dir;
        writeFile(dir.filePath("a.wav"), "x");
        writeFile(dir.filePath("set.jsonl"),
                  "{\"id\":\"q1\",\"audio\":\"a.wav\",\"transcript\":\"what is two plus two\",\"reference\":\"four\","
                  "\"split\":\"train\",\"tags\":[\"math\"],\"voice\":\"en\"}\n\n"
                  "{\"id\":\"q2\",\"audio\":\"a.wav\",\"transcript\":\"say hi\",\"split\":\"eval\"}\n");
        const PromptSet set = loadPromptSet(dir.filePath("set.jsonl").toStdString());
        QCOMPARE(set.items.size(), size_t(2));
        QCOMPARE(set.items[0].audio_path, dir.filePath("a.wav").toStdString());
        QCOMPARE(*set.items[0].reference, std::string("four"));
        QVERIFY(!set.items[1].reference);
        QCOMPARE(set.items[0].tags, std::vector<std::string>{"math"});
        QCOMPARE(set.bySplit("eval").size(), size_t(1));
    }

    void badLinesNameFileLineAndField_data() {
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("expected");
        const QString ok = "{\"id\":\"q1\",\"audio\":\"a.wav\",\"transcript\":\"t\",\"split\":\"train\"}\n";
        QTest::newRow("not json") << ok + "{oops\n" << "line 2: not valid JSON";
        QTest::newRow("array") << "[1,2]\n" << "line 1: must be a JSON object";
        QTest::newRow("missing id") << "{\"audio\":\"a.wav\",\"transcript\":\"t\",\"split\":\"train\"}\n" << "line 1: id: missing";
        QTest::newRow("empty transcript") << "{\"id\":\"q\",\"audio\":\"a.wav\",\"transcript\":\"\",\"split\":\"train\"}\n"
                                          << "transcript: must not be empty";
        QTest::newRow("bad split") << "{\"id\":\"q\",\"audio\":\"a.wav\",\"transcript\":\"t\",\"split\":\"holdout\"}\n"
                                   << "line 1: split";
        QTest::newRow("tags not strings") << "{\"id\":\"q\",\"audio\":\"a.wav\",\"transcript\":\"t\",\"split\":\"train\",\"tags\":[1]}\n"
                                          << "tags: must be an array of strings";
        QTest::newRow("reference number") << "{\"id\":\"q\",\"audio\":\"a.wav\",\"transcript\":\"t\",\"split\":\"train\",\"reference\":4}\n"
                                          << "line 1: reference";
        QTest::newRow("duplicate id") << ok + ok << "line 2: id";
        QTest::newRow("missing audio") << "{\"id\":\"q\",\"audio\":\"nope.wav\",\"transcript\":\"t\",\"split\":\"train\"}\n"
                                       << "nope.wav";
    }
    void badLinesNameFileLineAndField() {
        QFETCH(QString, content);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        writeFile(dir.filePath("a.wav"), "x");
        const QString path = dir.filePath("bad.jsonl");
        writeFile(path, content.toStdString());
        const std::string err = xopd::test::errorOf([&] { loadPromptSet(path.toStdString()); }).toStdString();
        QVERIFY2(err.find("bad.jsonl") != std::string::npos, err.c_str());
        QVERIFY2(err.find(expected.toStdString()) != std::string::npos, err.c_str());
    }

    // The manifest names something that is not an audio file: say what it is (issue 18.8).
    void audioThatIsAFolderOrAFifoIsNamedForWhatItIs() {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkdir("clip.wav"));
        QVERIFY(::mkfifo(dir.filePath("pipe.wav").toStdString().c_str(), 0644) == 0);
        for (const auto& [name, expected] : {std::pair<QString, std::string>{"clip.wav", "is a folder"},
                                             std::pair<QString, std::string>{"pipe.wav", "is a FIFO"}}) {
            const QString path = dir.filePath("set.jsonl");
            writeFile(path, "{\"id\":\"q\",\"audio\":\"" + name.toStdString() + "\",\"transcript\":\"t\",\"split\":\"train\"}\n");
            const std::string err = xopd::test::errorOf([&] { loadPromptSet(path.toStdString()); }).toStdString();
            QVERIFY2(err.find(name.toStdString()) != std::string::npos && err.find(expected) != std::string::npos, err.c_str());
        }
    }

    void missingManifestIsNamed() {
        const std::string err = xopd::test::errorOf([] { loadPromptSet("/nonexistent/x.jsonl"); }).toStdString();
        QVERIFY2(err.find("/nonexistent/x.jsonl") != std::string::npos, err.c_str());
    }

    void writeRoundTripsAndRefusesInvalidItems() {
        QTemporaryDir dir;
        writeFile(dir.filePath("a.wav"), "x");
        PromptItem a;
        a.id = "q1";
        a.audio = "a.wav";
        a.transcript = "what is one plus one";
        a.reference = "two";
        a.tags = {"math", "easy"};
        const std::string path = dir.filePath("out.jsonl").toStdString();
        writePromptSet(path, {a});
        const PromptSet back = loadPromptSet(path);
        QCOMPARE(back.items.size(), size_t(1));
        QCOMPARE(back.items[0].transcript, a.transcript);
        QCOMPARE(back.items[0].tags, a.tags);
        // A duplicate id is refused before anything is written: the old file stays as it was.
        QVERIFY(!xopd::test::errorOf([&] { writePromptSet(path, {a, a}); }).isEmpty());
        QCOMPARE(loadPromptSet(path).items.size(), size_t(1));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 2);  // a.wav + out.jsonl, no temporary
    }

    void synthesizesEveryTextInEveryVoice() {
        QTemporaryDir dir;
        writeFile(dir.filePath("texts.jsonl"), "{\"id\":\"q1\",\"text\":\"what is two plus two\",\"reference\":\"four\"}\n"
                                               "{\"id\":\"q2\",\"text\":\"name a red fruit\",\"reference\":\"apple\"}\n");
        SynthesisOptions o;
        o.train_voices = {parseVoiceSpec("en@175"), parseVoiceSpec("en-us+f3@150:70")};
        o.eval_voices = {parseVoiceSpec("en-gb-scotland@190:40")};
        const std::string out = dir.filePath("set").toStdString();
        QCOMPARE(synthesizePromptSet(readTextPrompts(dir.filePath("texts.jsonl").toStdString()), out, o), 6);
        const PromptSet train = loadPromptSet(out + "/train.jsonl");
        const PromptSet eval = loadPromptSet(out + "/eval.jsonl");
        QCOMPARE(train.items.size(), size_t(4));
        QCOMPARE(eval.items.size(), size_t(2));
        for (const auto& item : train.items) {
            QCOMPARE(item.split, std::string("train"));
            const auto clip = xopd::audio::readAudioFile(item.audio_path);
            QVERIFY(clip.durationSeconds() > 0.5 && clip.durationSeconds() < 4.0);
        }
        QCOMPARE(*eval.items[0].reference, std::string("four"));
        QCOMPARE(eval.items[0].transcript, std::string("what is two plus two"));
        // Voices differ: the same text in two voices gives different audio.
        const auto a = xopd::audio::readAudioFile(train.items[0].audio_path);
        const auto b = xopd::audio::readAudioFile(train.items[1].audio_path);
        QVERIFY(a.samples != b.samples);
    }

    void badVoiceSpecIsRefused() {
        QVERIFY(!xopd::test::errorOf([] { parseVoiceSpec("en@fast"); }).isEmpty());
        const VoiceSpec v = parseVoiceSpec("en-us+f3@160:60");
        QCOMPARE(v.voice, std::string("en-us+f3"));
        QCOMPARE(v.rate_wpm, 160);
        QCOMPARE(v.pitch, 60);
    }
};

QTEST_APPLESS_MAIN(TestPromptSet)
#include "test_prompt_set.moc"
