// Issue 17, points 2 and 3, offscreen: the prompt library a workspace keeps survives a restart
// (a recording and the transcript, split and tags typed for it; edits of demo-kit prompts), is
// written after each change (not only at quit), and an unreadable library.json is named and left
// untouched; the Ask screen asks about the clip that was chosen: double-clicking one of two kit
// clips of the same question opens that clip, a new recording shows on the Audio line, and a
// transcript typed in the library reaches Ask. Prompts are chosen by id. No sound device: a
// recording enters the library the way PromptLibraryWidget::stopRecording adds it (addClip).
#include "core/audio/AudioFile.h"
#include "core/data/WorkspaceLibrary.h"
#include "widgets/main/AskWidget.h"
#include "widgets/main/MainWindow.h"
#include "widgets/prompts/LibraryKeeper.h"
#include "widgets/prompts/PromptLibraryModel.h"
#include "widgets/prompts/PromptLibraryWidget.h"
#include "widgets/run/LogPanel.h"
#include "tests/support/FakeKit.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QSettings>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <memory>

using namespace xopd;
using namespace xopd::widgets;

namespace {

audio::AudioClip tone(double hz, int samples = 8000) { return test::sineClip(hz, samples, 0.3f); }

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeAll(const QString& path, const QByteArray& text) { test::writeTextFile(path, text); }

/// A kit folder with the parts openDemoKit checks; q1 and q2 ask the same question in two voices
/// (two different clips), q3 another one.
void makeKit(const QString& root) {
    test::writeFakeKit(root,
             "{\"id\":\"q1-en\",\"audio\":\"audio/q1-en.wav\",\"transcript\":\"what is one plus one\",\"split\":\"train\",\"voice\":\"en\"}\n"
             "{\"id\":\"q1-f\",\"audio\":\"audio/q1-f.wav\",\"transcript\":\"what is one plus one\",\"split\":\"train\",\"voice\":\"en+f3\"}\n",
             "{\"id\":\"q3\",\"audio\":\"audio/q3.wav\",\"transcript\":\"what is one plus two\",\"split\":\"eval\"}\n",
             {{"audio/q1-en.wav", tone(220)}, {"audio/q1-f.wav", tone(330)}, {"audio/q3.wav", tone(440)}});
}

/// A window on `workspace`; with `kit`, waits until the kit's prompts are in the library.
std::unique_ptr<MainWindow> openWindow(const QString& workspace, const QString& kit = {}) {
    auto w = test::makeTestWindow(workspace, kit, /*show=*/false);
    QSignalSpy loaded(w.get(), &MainWindow::demoKitLoaded);
    w->show();
    if (!kit.isEmpty()) [&] { QVERIFY(loaded.count() > 0 || loaded.wait(30000)); }();
    return w;
}

bool setCell(PromptLibraryModel* m, int row, int column, const QString& value) {
    return m->setData(m->index(row, column), value, Qt::EditRole);
}

}  // namespace

class TestWorkbenchLibrary : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QApplication::setOrganizationName("xopd-tests");
        QApplication::setApplicationName("test_workbench_library");
        QSettings().clear();
    }

    void recordingsAndEditsSurviveARestart() {
        QTemporaryDir ws;
        const QString libraryFile = ws.filePath("prompts/library.json");
        QString wav;
        {
            auto w = openWindow(ws.path());
            PromptLibraryModel* lib = w->promptLibrary();
            const int row = lib->addClip(tone(300), ws.filePath("prompts/recordings"), "rec-1", "recorded");
            wav = lib->entry(row).path;
            QVERIFY(setCell(lib, row, PromptLibraryModel::Transcript, "what is one plus one"));
            QVERIFY(setCell(lib, row, PromptLibraryModel::Tags, "mine, checked"));
            QVERIFY(setCell(lib, row, PromptLibraryModel::Split, "eval"));
            // Written after the change, not only at quit (a crash keeps it).
            QTRY_VERIFY_WITH_TIMEOUT(readAll(libraryFile).contains("what is one plus one"), 10000);
            QVERIFY(readAll(libraryFile).contains("\"recordings/rec-1.wav\""));
            // A second recording, transcript typed just before quitting.
            const int row2 = lib->addClip(tone(500), ws.filePath("prompts/recordings"), "rec-2", "recorded");
            QVERIFY(setCell(lib, row2, PromptLibraryModel::Transcript, "say hello"));
            w->close();
        }
        auto w = openWindow(ws.path());
        PromptLibraryModel* lib = w->promptLibrary();
        const int row = lib->rowOf("rec-1");
        QVERIFY2(row >= 0, "the recording is gone from the library after a restart");
        const PromptEntry& e = lib->entry(row);
        QCOMPARE(e.path, wav);
        QCOMPARE(e.source, QString("recorded"));
        QCOMPARE(e.transcript, QString("what is one plus one"));
        QCOMPARE(e.tags, (QStringList{"mine", "checked"}));
        QCOMPARE(e.split, QString("eval"));
        QVERIFY(e.durationS > 0.4);
        QVERIFY(lib->rowOf("rec-2") >= 0);
        QCOMPARE(lib->entry(lib->rowOf("rec-2")).transcript, QString("say hello"));
        // Removed in the table: gone after the next restart too.
        QVERIFY(lib->removeRows(lib->rowOf("rec-2"), 1));
        w->close();
        w.reset();
        w = openWindow(ws.path());
        QCOMPARE(w->promptLibrary()->rowCount(), 1);
        QCOMPARE(w->promptLibrary()->entry(0).id, QString("rec-1"));
    }

    void editsOfKitPromptsSurviveARestart() {
        QTemporaryDir ws;
        makeKit(ws.filePath("kit"));
        const QString workspace = ws.filePath("workspace");
        {
            auto w = openWindow(workspace, ws.filePath("kit"));
            PromptLibraryModel* lib = w->promptLibrary();
            QCOMPARE(lib->rowCount(), 3);
            QVERIFY(setCell(lib, lib->rowOf("q3"), PromptLibraryModel::Transcript, "what is one plus three"));
            QVERIFY(setCell(lib, lib->rowOf("q3"), PromptLibraryModel::Tags, "fixed"));
            w->close();
        }
        // Only the edit is kept: the kit's prompts are read from the kit.
        const auto kept = data::readWorkspaceLibrary(QDir(workspace).filePath("prompts/library.json").toStdString());
        QCOMPARE(kept.prompts.size(), size_t(0));
        QCOMPARE(kept.kit_edits.size(), size_t(1));
        QCOMPARE(kept.kit_edits[0].id, std::string("q3"));
        auto w = openWindow(workspace, ws.filePath("kit"));
        PromptLibraryModel* lib = w->promptLibrary();
        QCOMPARE(lib->rowCount(), 3);
        QCOMPARE(lib->entry(lib->rowOf("q3")).transcript, QString("what is one plus three"));
        QCOMPARE(lib->entry(lib->rowOf("q3")).tags, QStringList{"fixed"});
        QCOMPARE(lib->entry(lib->rowOf("q1-en")).transcript, QString("what is one plus one"));
    }

    // A kit prompt removed from the table stays removed after a restart (the kit is read again at
    // every start); switching to another workspace brings it back there.
    void removingAKitPromptSurvivesARestart() {
        QTemporaryDir ws;
        makeKit(ws.filePath("kit"));
        const QString workspace = ws.filePath("workspace");
        {
            auto w = openWindow(workspace, ws.filePath("kit"));
            PromptLibraryModel* lib = w->promptLibrary();
            QCOMPARE(lib->rowCount(), 3);
            QVERIFY(lib->removeRows(lib->rowOf("q1-f"), 1));
            w->close();
        }
        const auto kept = data::readWorkspaceLibrary(QDir(workspace).filePath("prompts/library.json").toStdString());
        QCOMPARE(kept.kit_removed, std::vector<std::string>{"q1-f"});
        auto w = openWindow(workspace, ws.filePath("kit"));
        PromptLibraryModel* lib = w->promptLibrary();
        QCOMPARE(lib->rowCount(), 2);
        QCOMPARE(lib->rowOf("q1-f"), -1);
        QVERIFY(lib->rowOf("q1-en") >= 0);
        lib->clearWorkspace();
        QCOMPARE(lib->rowCount(), 3);
        QVERIFY(lib->rowOf("q1-f") >= 0);
        QVERIFY(lib->workspaceLibrary().kit_removed.empty());
    }

    void anUnreadableLibraryIsNamedAndKept() {
        QTemporaryDir ws;
        QVERIFY(QDir().mkpath(ws.filePath("prompts")));
        const QString libraryFile = ws.filePath("prompts/library.json");
        const QByteArray broken = "{\"format\":\"xopd-workspace-library\",\"version\":1,\"prompts\":[{\"id\":";
        writeAll(libraryFile, broken);
        auto w = openWindow(ws.path());
        QVERIFY2(w->lastError().contains(libraryFile), qPrintable(w->lastError()));
        QVERIFY(!w->libraryKeeper()->saving());
        QVERIFY(w->logPanel()->messages().join("\n").contains(libraryFile));
        // Changes do not overwrite it.
        PromptLibraryModel* lib = w->promptLibrary();
        const int row = lib->addClip(tone(300), ws.filePath("prompts/recordings"), "rec-1", "recorded");
        QVERIFY(setCell(lib, row, PromptLibraryModel::Transcript, "hello"));
        w->close();
        w.reset();
        QCOMPARE(readAll(libraryFile), broken);
    }

    void doubleClickOpensThatClipInAsk() {
        QTemporaryDir ws;
        makeKit(ws.filePath("kit"));
        auto w = openWindow(ws.filePath("workspace"), ws.filePath("kit"));
        PromptLibraryModel* lib = w->promptLibrary();
        PromptLibraryWidget* screen = w->promptScreen();
        AskWidget* ask = w->askScreen();
        // Two clips of the same question: each double-click opens its own clip.
        for (const QString id : {"q1-f", "q1-en", "q1-f"}) {
            const QModelIndex i = screen->proxy()->mapFromSource(lib->index(lib->rowOf(id), PromptLibraryModel::Name));
            emit screen->table()->doubleClicked(i);
            QCOMPARE(ask->chosenPromptKey(), "library:" + id);
            QCOMPARE(ask->audioText(), lib->entry(lib->rowOf(id)).path);
            QCOMPARE(ask->transcript(), QString("what is one plus one"));
        }
    }

    void aNewRecordingShowsOnTheAudioLine() {
        QTemporaryDir ws;
        auto w = openWindow(ws.path());
        PromptLibraryModel* lib = w->promptLibrary();
        AskWidget* ask = w->askScreen();
        const int first = lib->addClip(tone(300), ws.filePath("prompts/recordings"), "older", "recorded", "what is two plus two");
        QVERIFY(ask->chooseLibraryPrompt("older"));
        QCOMPARE(ask->audioText(), lib->entry(first).path);
        // Recording from Ask (Ctrl+Shift+J) adds the clip as stopRecording does.
        const int row = lib->addClip(tone(500), ws.filePath("prompts/recordings"), "newer", "recorded");
        const QString path = lib->entry(row).path;
        QTRY_COMPARE(ask->chosenPromptKey(), QString("library:newer"));
        QCOMPARE(ask->audioText(), path);
        QVERIFY(ask->transcript().isEmpty());  // not the previous clip's transcript
    }

    void aTranscriptTypedInTheLibraryReachesAsk() {
        QTemporaryDir ws;
        auto w = openWindow(ws.path());
        PromptLibraryModel* lib = w->promptLibrary();
        AskWidget* ask = w->askScreen();
        const int row = lib->addClip(tone(300), ws.filePath("prompts/recordings"), "rec-1", "recorded");
        QTRY_VERIFY(ask->chooseLibraryPrompt("rec-1"));
        QVERIFY(ask->chosenPromptLabel().contains("(no transcript)"));
        QVERIFY(setCell(lib, row, PromptLibraryModel::Transcript, "what is three plus four"));
        QTRY_COMPARE(ask->transcript(), QString("what is three plus four"));
        QVERIFY2(!ask->chosenPromptLabel().contains("(no transcript)"), qPrintable(ask->chosenPromptLabel()));
        QVERIFY(ask->chosenPromptLabel().contains("what is three plus four"));
        // Chosen again later (after the picker was rebuilt), it still has it.
        lib->addClip(tone(400), ws.filePath("prompts/recordings"), "rec-2", "imported");
        QVERIFY(ask->chooseLibraryPrompt("rec-2"));
        QVERIFY(ask->chooseLibraryPrompt("rec-1"));
        QCOMPARE(ask->transcript(), QString("what is three plus four"));
        // Something typed into Ask's field is not overwritten by a later library edit.
        ask->setTranscript("my own words");
        QVERIFY(setCell(lib, row, PromptLibraryModel::Tags, "x"));
        QCOMPARE(ask->transcript(), QString("my own words"));
    }
};

QTEST_MAIN(TestWorkbenchLibrary)
#include "test_workbench_library.moc"
