// The library a workspace keeps (WORKSPACE/prompts/library.json): a round trip keeps every field,
// audio paths under the file's folder are written relative (the workspace can move), a fresh
// recording with no transcript yet is kept, a missing file is an empty library, and a file that
// cannot be read is named with the entry and field at fault (never silently replaced).
#include "core/common/Error.h"
#include "core/data/WorkspaceLibrary.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <fstream>
#include <sstream>

using namespace xopd::data;

namespace {
void writeFile(const QString& path, const std::string& text) { std::ofstream(path.toStdString()) << text; }
std::string readFile(const QString& path) {
    std::ifstream in(path.toStdString());
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}
}  // namespace

class TestWorkspaceLibrary : public QObject {
    Q_OBJECT

private slots:
    void roundTripKeepsEveryField() {
        QTemporaryDir ws;
        const QString file = QString::fromStdString(workspaceLibraryPath(ws.path().toStdString()));
        QCOMPARE(file, ws.filePath("prompts/library.json"));
        WorkspaceLibrary lib;
        LibraryPrompt rec;
        rec.id = "rec-1";
        rec.audio_path = ws.filePath("prompts/recordings/rec-1.wav").toStdString();
        rec.source = "recorded";  // no transcript yet
        LibraryPrompt imp;
        imp.id = "outside";
        imp.audio_path = "/elsewhere/clip.flac";
        imp.transcript = "what is two plus two";
        imp.split = "eval";
        imp.tags = {"math", "mine"};
        imp.voice = "en-us";
        lib.prompts = {rec, imp};
        LibraryPrompt edit;
        edit.id = "q0001-en";
        edit.transcript = "what is one plus one";
        edit.split = "dev";
        edit.tags = {"checked"};
        lib.kit_edits = {edit};
        lib.kit_removed = {"q0002-en", "q0003-f"};
        writeWorkspaceLibrary(file.toStdString(), lib);  // creates prompts/
        QVERIFY(QFileInfo::exists(file));
        QCOMPARE(QDir(ws.filePath("prompts")).entryList(QDir::Files), QStringList{"library.json"});  // no temporary left
        // Relative under the workspace, absolute elsewhere.
        const std::string text = readFile(file);
        QVERIFY2(text.find("\"recordings/rec-1.wav\"") != std::string::npos, text.c_str());
        QVERIFY2(text.find("\"/elsewhere/clip.flac\"") != std::string::npos, text.c_str());

        const auto back = readWorkspaceLibrary(file.toStdString());
        QCOMPARE(back.prompts.size(), size_t(2));
        QCOMPARE(back.prompts[0].id, std::string("rec-1"));
        QCOMPARE(back.prompts[0].audio_path, rec.audio_path);
        QCOMPARE(back.prompts[0].source, std::string("recorded"));
        QVERIFY(back.prompts[0].transcript.empty());
        QCOMPARE(back.prompts[1].audio_path, std::string("/elsewhere/clip.flac"));
        QCOMPARE(back.prompts[1].transcript, imp.transcript);
        QCOMPARE(back.prompts[1].split, std::string("eval"));
        QCOMPARE(back.prompts[1].tags, imp.tags);
        QCOMPARE(back.prompts[1].voice, std::string("en-us"));
        QCOMPARE(back.kit_edits.size(), size_t(1));
        QCOMPARE(back.kit_edits[0].id, std::string("q0001-en"));
        QCOMPARE(back.kit_edits[0].transcript, edit.transcript);
        QCOMPARE(back.kit_edits[0].split, std::string("dev"));
        QCOMPARE(back.kit_edits[0].tags, edit.tags);
        QCOMPARE(back.kit_removed, lib.kit_removed);

        // The workspace moved: relative paths follow it.
        QVERIFY(QDir().rename(ws.filePath("prompts"), ws.filePath("moved")));
        const auto moved = readWorkspaceLibrary(ws.filePath("moved/library.json").toStdString());
        QCOMPARE(moved.prompts[0].audio_path, ws.filePath("moved/recordings/rec-1.wav").toStdString());
    }

    void missingFileIsAnEmptyLibrary() {
        QTemporaryDir ws;
        const auto lib = readWorkspaceLibrary(ws.filePath("prompts/library.json").toStdString());
        QVERIFY(lib.prompts.empty());
        QVERIFY(lib.kit_edits.empty());
        QVERIFY(lib.kit_removed.empty());
    }

    void badFilesNameTheFileAndTheEntry_data() {
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("expected");
        const QString head = R"({"format":"xopd-workspace-library","version":1,)";
        QTest::newRow("not json") << "{oops" << "not valid JSON";
        QTest::newRow("array") << "[]" << "must be a JSON object";
        QTest::newRow("other format") << R"({"format":"something","version":1})" << "format";
        QTest::newRow("future version") << R"({"format":"xopd-workspace-library","version":7})" << "version: 7";
        QTest::newRow("prompts not array") << head + R"("prompts":{}})" << "prompts: must be an array";
        QTest::newRow("missing id") << head + R"("prompts":[{"audio":"a.wav"}]})" << "prompts[0]: id: missing";
        QTest::newRow("missing audio") << head + R"("prompts":[{"id":"a"}]})" << "prompts[0]: audio: missing";
        QTest::newRow("bad split") << head + R"("prompts":[{"id":"a","audio":"a.wav","split":"holdout"}]})" << "prompts[0]: split";
        QTest::newRow("tags") << head + R"("prompts":[{"id":"a","audio":"a.wav","tags":[1]}]})" << "prompts[0]: tags";
        QTest::newRow("transcript number") << head + R"("prompts":[{"id":"a","audio":"a.wav","transcript":4}]})"
                                           << "prompts[0]: transcript: must be a string";
        QTest::newRow("duplicate id") << head + R"("prompts":[{"id":"a","audio":"a.wav"},{"id":"a","audio":"b.wav"}]})"
                                      << "prompts[1]: id: 'a' is used twice";
        QTest::newRow("bad edit") << head + R"("kit_edits":[{"id":"q","split":"x"}]})" << "kit_edits[0]: split";
        QTest::newRow("removed not array") << head + R"("kit_removed":"q1"})" << "kit_removed: must be an array";
        QTest::newRow("removed not id") << head + R"("kit_removed":["q1",3]})" << "kit_removed[1]: must be a non-empty string";
        QTest::newRow("removed twice") << head + R"("kit_removed":["q1","q1"]})" << "kit_removed[1]: 'q1' is listed twice";
    }
    void badFilesNameTheFileAndTheEntry() {
        QFETCH(QString, content);
        QFETCH(QString, expected);
        QTemporaryDir ws;
        const QString file = ws.filePath("library.json");
        writeFile(file, content.toStdString());
        try {
            readWorkspaceLibrary(file.toStdString());
            QFAIL("a bad library file was accepted");
        } catch (const xopd::Error& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.contains(file), qPrintable(what));
            QVERIFY2(what.contains(expected), qPrintable(what));
        }
        QCOMPARE(QString::fromStdString(readFile(file)), content);  // reading never touches the file
    }

    void invalidLibrariesAreNeverWritten() {
        QTemporaryDir ws;
        const QString file = ws.filePath("library.json");
        WorkspaceLibrary lib;
        LibraryPrompt a;
        a.id = "a";
        a.audio_path = ws.filePath("a.wav").toStdString();
        lib.prompts = {a, a};
        try {
            writeWorkspaceLibrary(file.toStdString(), lib);
            QFAIL("two prompts with one id were written");
        } catch (const xopd::Error& e) {
            QVERIFY2(QString(e.what()).contains("used twice"), e.what());
        }
        QVERIFY(!QFileInfo::exists(file));
        lib.prompts = {a};
        lib.prompts[0].split = "holdout";
        QVERIFY_THROWS_EXCEPTION(xopd::Error, writeWorkspaceLibrary(file.toStdString(), lib));
        QVERIFY(!QFileInfo::exists(file));
    }
};

QTEST_APPLESS_MAIN(TestWorkspaceLibrary)
#include "test_workspace_library.moc"
