// The workbench's gap explorer (issue 15 point 5), offscreen: the heat map holds groups ×
// checkpoints cells with each group's gap, in the table's order (largest last-checkpoint gap on
// top); a mouse click on a cell lists that cell's clips (largest clip gap first); "Listen A/B"
// sends a clip and its other rendition, which the window puts on the A/B screen; a compute that cannot read its manifest fails with the
// file named, on the worker thread.
#include "core/audio/AudioFile.h"
#include "core/eval/GapBreakdown.h"
#include "widgets/ab/AbListeningWidget.h"
#include "widgets/gaps/GapExplorerWidget.h"
#include "widgets/main/MainWindow.h"

#include <QApplication>
#include <QDockWidget>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <qcustomplot.h>

using namespace xopd;
using namespace xopd::widgets;

namespace {

/// 7 clips in 3 accents, two checkpoints; gaps chosen so the order differs between checkpoints.
/// Audio paths: FOLDER/q<i>.wav.
eval::GapTable fixture(const std::string& folder = "/tmp") {
    const std::vector<std::pair<const char*, const char*>> spec = {
        {"scottish", "what is two"}, {"scottish", "what is three"}, {"irish", "what is two"}, {"irish", "what is four"},
        {"irish", "what is five"},   {"", "what is two"},           {"", "what is six"}};
    std::vector<eval::GapClip> clips;
    for (size_t i = 0; i < spec.size(); ++i) {
        eval::GapClip c{"q" + std::to_string(i), folder + "/q" + std::to_string(i) + ".wav", spec[i].second, "x", {}};
        if (*spec[i].first) c.groups.push_back(spec[i].first);
        clips.push_back(c);
    }
    const double before[] = {0.9, 0.7, 0.2, 0.1, 0.3, 0.05, 0.0};  // scottish 0.8, irish 0.2, (none) 0.025
    const double after[] = {0.1, 0.3, 0.6, 0.2, 0.4, -0.1, 0.1};   // irish 0.4, scottish 0.2, (none) 0.0
    std::vector<std::vector<eval::ClipOutcome>> outcomes(2, std::vector<eval::ClipOutcome>(clips.size()));
    for (size_t i = 0; i < clips.size(); ++i) {
        outcomes[0][i].logprob_text = -1.0;
        outcomes[0][i].logprob_speech = -1.0 - before[i];
        outcomes[1][i].logprob_text = -0.5;
        outcomes[1][i].logprob_speech = -0.5 - after[i];
        outcomes[1][i].speech_correct = i % 2 == 0;
    }
    return eval::buildGapTable(eval::GroupField::Accent, {"before", "after"}, {"/a", "/b"}, clips, outcomes);
}

}  // namespace

class TestGapExplorer : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QApplication::setOrganizationName("xopd-tests");
        QApplication::setApplicationName("test_gap_explorer");
        QSettings().clear();
    }

    void heatMapCellsAndClickThrough() {
        GapExplorerWidget w;
        w.resize(1000, 800);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const eval::GapTable t = fixture();
        w.showTable(t);
        w.heatPlot()->replot();

        // groups × checkpoints cells, each the group's gap, sorted by the last checkpoint's gap.
        const QStringList order{"irish", "scottish", "(none)"};
        QCOMPARE(int(t.groups.size()), 3);
        QCPColorMapData* d = w.heatMap()->data();
        QCOMPARE(d->keySize(), 2);
        QCOMPARE(d->valueSize(), 3);
        const double expected[3][2] = {{0.2, 0.4}, {0.8, 0.2}, {0.025, 0.0}};  // rows in `order`
        for (int g = 0; g < 3; ++g) {
            QCOMPARE(QString::fromStdString(t.groups[size_t(g)].name), order[g]);
            QCOMPARE(w.groupTable()->item(g, 0)->text(), order[g]);
            for (int c = 0; c < 2; ++c) QVERIFY(std::abs(d->cell(c, g) - expected[g][c]) < 1e-9);
        }
        // Every cell's value is written on it (plus the selection frame).
        QCOMPARE(w.heatPlot()->itemCount(), 3 * 2 + 1);
        QStringList labels;
        for (int i = 0; i < w.heatPlot()->itemCount(); ++i)
            if (auto* text = qobject_cast<QCPItemText*>(w.heatPlot()->item(i))) labels << text->text();
        QCOMPARE(labels, (QStringList{"+0.200", "+0.400", "+0.800", "+0.200", "+0.025", "+0.000"}));
        QCOMPARE(w.groupTable()->item(3, 0)->text(), QString("(all)"));
        QCOMPARE(w.groupTable()->item(0, 6)->text(), QString("0.400"));  // irish, gap after

        // A click on the (scottish, before) cell lists q0, q1 (gap 0.9 then 0.7).
        QTest::mouseClick(w.heatPlot(), Qt::LeftButton, {}, w.cellCentre(1, 0));
        QCOMPARE(w.selectedGroup(), 1);
        QCOMPARE(w.selectedCheckpoint(), 0);
        QCOMPARE(w.listedClipIds(), (QStringList{"q0", "q1"}));
        // (irish, after): q2 0.6, q4 0.4, q3 0.2.
        QTest::mouseClick(w.heatPlot(), Qt::LeftButton, {}, w.cellCentre(0, 1));
        QCOMPARE(w.listedClipIds(), (QStringList{"q2", "q4", "q3"}));
        QCOMPARE(w.clipTable()->rowCount(), 3);
        QCOMPARE(w.clipTable()->item(0, 2)->text(), QString("what is two"));

        // Listen A/B: q2 and the other "what is two" with the smallest gap after the run (q5, −0.1).
        QSignalSpy listen(&w, &GapExplorerWidget::listenRequested);
        QVERIFY(w.listen(0));
        QCOMPARE(listen.count(), 1);
        QCOMPARE(listen.at(0).at(1).toString(), QString("/tmp/q2.wav"));
        QCOMPARE(listen.at(0).at(3).toString(), QString("/tmp/q5.wav"));
        QVERIFY(!w.listen(1));  // q4's question is asked once: nothing to compare with
        QVERIFY(w.listen(1, 2));  // two clips chosen
        QCOMPARE(listen.at(1).at(3).toString(), QString("/tmp/q3.wav"));
    }

    // In the window: "Listen A/B" puts both clips on the A/B listening screen and raises it.
    void windowSendsTheClipsToABListening() {
        QTemporaryDir ws;
        for (int i = 0; i < 7; ++i) {
            audio::AudioClip clip;
            clip.sample_rate = 16000;
            clip.samples.assign(8000, 0.1f * float(i + 1));
            audio::writeAudioFile(ws.filePath(QString("q%1.wav").arg(i)).toStdString(), clip, audio::AudioFileFormat::WavPcm16);
        }
        WorkbenchOptions o;
        o.workspace = ws.path();
        o.demoKit = ws.path() + "/no-demo-kit-here";
        o.restoreLayout = false;
        MainWindow w(o);
        w.show();
        w.showScreen(MainWindow::Screen::Gaps);
        GapExplorerWidget* g = w.gapExplorer();
        g->showTable(fixture(ws.path().toStdString()));
        g->selectCell(0, 1);  // irish, after
        QVERIFY(g->listen(0));
        const QString a = "q2 · irish · after", b = "q5 · (none) · after";
        QTRY_VERIFY(w.listeningScreen()->candidateNames().contains(a) && w.listeningScreen()->candidateNames().contains(b));
        QTRY_VERIFY(w.dock(MainWindow::Screen::Listening)->isVisible());
    }

    void computeFailureNamesTheManifest() {
        GapExplorerWidget w;
        w.setManifest("/nonexistent/prompts.jsonl");
        w.setModelFolders({"/nonexistent/model"});
        QSignalSpy failed(&w, &GapExplorerWidget::failed);
        QVERIFY(w.compute());
        QVERIFY(w.computing());
        QVERIFY(failed.wait(20000));
        QVERIFY2(failed.at(0).at(0).toString().contains("/nonexistent/prompts.jsonl"), qPrintable(failed.at(0).at(0).toString()));
        QVERIFY(!w.computing());
        QVERIFY(w.statusText().startsWith("Gap explorer failed"));
    }
};

QTEST_MAIN(TestGapExplorer)
#include "test_gap_explorer.moc"
