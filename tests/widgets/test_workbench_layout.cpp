// Issue 17, point 7 (layout that holds), offscreen: revealing long condition names on the A/B
// screen never widens the window (labels elide); the prompt table gives Name and Transcript the
// width; the demo kit's prompts show a loading indicator while they are read; the spectrogram's
// duration label reads on any background (WCAG contrast ≥ 4.5 between its text and its plate);
// import errors reach the Log panel; a long workspace path never pushes the status bar past the
// window; the first start fits the screen.
#include "core/audio/AudioFile.h"
#include "widgets/ab/AbListeningWidget.h"
#include "widgets/audio/WaveformView.h"
#include "widgets/main/MainWindow.h"
#include "widgets/prompts/PromptLibraryModel.h"
#include "widgets/prompts/PromptLibraryWidget.h"
#include "widgets/run/LogPanel.h"
#include "tests/support/FakeKit.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QMimeData>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest/QtTest>

#include <cmath>
#include <memory>

using namespace xopd;
using namespace xopd::widgets;

namespace {

std::unique_ptr<MainWindow> makeWindow(const QString& workspace, const QString& kit = {}) {
    return test::makeTestWindow(workspace, kit, /*show=*/false);
}

audio::AudioClip tone(double hz, int samples = 16000) { return test::sineClip(hz, samples); }

/// WCAG 2 relative luminance and contrast ratio.
double luminance(const QColor& c) {
    auto lin = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF());
}
double contrast(const QColor& a, const QColor& b) {
    const double la = luminance(a), lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

void writeAll(const QString& path, const QByteArray& text) { test::writeTextFile(path, text); }

}  // namespace

class TestWorkbenchLayout : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QApplication::setOrganizationName("xopd-tests");
        QApplication::setApplicationName("test_workbench_layout");
        QSettings().clear();
    }

    void revealingLongNamesDoesNotWidenTheWindow() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        w->show();
        w->resize(1480, 900);
        w->showScreen(MainWindow::Screen::Listening);
        QTRY_COMPARE(w->width(), 1480);
        AbListeningWidget* ab = w->listeningScreen();
        const QString a = "student answer 1 (TTS) of the checkpoint step-000040 of run 20261206-071500-x-opd-fork-20";
        const QString b = "teacher answer 1 (TTS) of the demo kit teacher reading the transcript of q0001-en";
        ab->addCandidate(a, tone(300));
        ab->addCandidate(b, tone(500));
        ab->chooseConditions(a, b);
        QVERIFY(ab->startTest(AbMode::Ab, 7, 4));
        QPushButton* reveal = nullptr;
        for (auto* p : ab->findChildren<QPushButton*>())
            if (p->text() == "Reveal") reveal = p;
        QVERIFY(reveal);
        reveal->click();
        QVERIFY(ab->session()->revealed());
        QApplication::processEvents();
        QTest::qWait(50);
        QVERIFY2(w->width() <= 1480, qPrintable(QString("the window grew to %1 px").arg(w->width())));
        QVERIFY2(w->minimumSizeHint().width() <= 1480, qPrintable(QString("minimum width %1").arg(w->minimumSizeHint().width())));
        QVERIFY2(ab->minimumSizeHint().width() <= 1200, qPrintable(QString("the A/B screen needs %1 px").arg(ab->minimumSizeHint().width())));
        // The full names are in the tooltips of the elided buttons.
        bool named = false;
        for (auto* p : ab->findChildren<QPushButton*>()) named = named || (p->toolTip().contains(a) && p->text() != p->toolTip());
        QVERIFY(named);
    }

    void thePromptTableGivesNameAndTranscriptTheWidth() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        w->show();
        w->resize(1480, 900);
        w->showScreen(MainWindow::Screen::Prompts);
        PromptLibraryModel* lib = w->promptLibrary();
        lib->addClip(tone(300), ws.filePath("prompts/recordings"), "q0001-en-us-female-voice-3", "recorded",
                     "what is the capital of the country whose flag is red and white");
        QHeaderView* h = w->promptScreen()->table()->horizontalHeader();
        QTRY_VERIFY(h->length() > 600);
        const int name = h->sectionSize(PromptLibraryModel::Name), transcript = h->sectionSize(PromptLibraryModel::Transcript),
                  tags = h->sectionSize(PromptLibraryModel::Tags);
        QVERIFY2(transcript > tags && name > tags, qPrintable(QString("name %1, transcript %2, tags %3").arg(name).arg(transcript).arg(tags)));
        QVERIFY2(tags < h->length() / 5, qPrintable(QString("tags %1 of %2").arg(tags).arg(h->length())));
        QVERIFY(transcript >= h->length() / 4);
    }

    void theKitShowsALoadingIndicator() {
        QTemporaryDir ws;
        QDir kit(ws.filePath("kit"));
        test::writeFakeKit(kit.absolutePath(),
                           "{\"id\":\"q1\",\"audio\":\"audio/q.wav\",\"transcript\":\"hi\",\"split\":\"train\"}\n",
                           "{\"id\":\"q2\",\"audio\":\"audio/q.wav\",\"transcript\":\"hi\",\"split\":\"eval\"}\n",
                           {{"audio/q.wav", tone(300)}});
        auto w = makeWindow(ws.filePath("workspace"), kit.absolutePath());
        QSignalSpy loaded(w.get(), &MainWindow::demoKitLoaded);
        // The read runs on a worker thread and comes back through the event loop: until then the
        // table is empty and the indicator says why.
        QVERIFY(w->promptScreen()->isLoading());
        QVERIFY2(w->promptScreen()->loadingText().contains("Loading"), qPrintable(w->promptScreen()->loadingText()));
        w->show();
        QVERIFY(loaded.count() > 0 || loaded.wait(30000));
        QVERIFY(!w->promptScreen()->isLoading());
        QCOMPARE(w->promptLibrary()->rowCount(), 2);
    }

    void theDurationLabelReadsOnTheSpectrogram_data() {
        QTest::addColumn<bool>("spectrogram");
        QTest::addColumn<bool>("loud");
        QTest::newRow("waveform") << false << true;
        QTest::newRow("spectrogram of noise") << true << true;
        QTest::newRow("spectrogram of a quiet hum") << true << false;
    }
    void theDurationLabelReadsOnTheSpectrogram() {
        QFETCH(bool, spectrogram);
        QFETCH(bool, loud);
        WaveformView v;
        v.resize(600, 160);
        // Broadband noise: the spectrogram is bright up to the top rows, under the label; a quiet
        // low hum: dark there (the label's text was drawn in the text colour straight on it).
        audio::AudioClip clip = tone(120);
        uint32_t x = 12345;
        for (float& s : clip.samples) {
            x = x * 1664525u + 1013904223u;
            s = loud ? 0.8f * (float(x >> 8) / float(1 << 24) - 0.5f) : 0.02f * s;
        }
        v.setClip(clip);
        QSignalSpy ready(&v, &WaveformView::spectrogramReady);
        v.setSpectrogram(spectrogram);
        if (spectrogram) QVERIFY(v.hasSpectrogramImage() || ready.wait(30000));
        v.show();
        const QImage img = v.grab().toImage();
        const QRect r = v.labelRect();
        QVERIFY(!v.labelText().isEmpty());
        QVERIFY(img.rect().contains(r));
        // The plate: the most common colour in the label's rectangle; the text: the colour there
        // that differs most from it. Readable = WCAG contrast ≥ 4.5.
        QHash<QRgb, int> counts;
        for (int y = r.top(); y <= r.bottom(); ++y)
            for (int xx = r.left(); xx <= r.right(); ++xx) ++counts[img.pixel(xx, y)];
        QRgb plate = 0;
        int best = -1;
        for (auto it = counts.begin(); it != counts.end(); ++it)
            if (it.value() > best) {
                best = it.value();
                plate = it.key();
            }
        const QColor text = v.palette().text().color();
        QVERIFY2(contrast(QColor(plate), text) >= 4.5,
                 qPrintable(QString("contrast %1 between %2 and %3").arg(contrast(QColor(plate), text)).arg(QColor(plate).name(), text.name())));
    }

    void importErrorsReachTheLogPanel() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        w->show();
        const QString bad = ws.filePath("not-audio.wav");
        writeAll(bad, "this is not a WAV file");
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(bad)});
        PromptLibraryWidget* screen = w->promptScreen();
        QDragEnterEvent enter(QPoint(20, 20), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(screen, &enter);
        QDropEvent drop(QPointF(20, 20), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(screen, &drop);
        QVERIFY2(w->logPanel()->messages().join("\n").contains(bad), qPrintable(w->logPanel()->messages().join("\n")));
    }

    void aLongWorkspacePathDoesNotCutTheStatusBar() {
        QTemporaryDir ws;
        QString deep = ws.path();
        for (int i = 0; i < 12; ++i) deep += "/a-rather-long-folder-name-" + QString::number(i);
        QVERIFY(QDir().mkpath(deep));
        auto w = makeWindow(deep);
        w->show();
        w->resize(1480, 900);
        QApplication::processEvents();
        QVERIFY2(w->statusBar()->minimumSizeHint().width() <= 800,
                 qPrintable(QString("status bar needs %1 px").arg(w->statusBar()->minimumSizeHint().width())));
        QVERIFY(w->width() <= 1480);
        bool full = false;
        for (auto* l : w->statusBar()->findChildren<QLabel*>()) full = full || l->toolTip().contains(deep);
        QVERIFY(full);  // the whole path is one hover away
    }

    void theFirstStartFitsTheScreen() {
        QTemporaryDir ws;
        auto w = makeWindow(ws.path());
        w->show();
        QApplication::processEvents();
        const QRect avail = w->screen()->availableGeometry();
        QVERIFY2(w->frameGeometry().width() <= avail.width() && w->frameGeometry().height() <= avail.height(),
                 qPrintable(QString("window %1×%2 on a %3×%4 screen")
                                .arg(w->frameGeometry().width())
                                .arg(w->frameGeometry().height())
                                .arg(avail.width())
                                .arg(avail.height())));
    }
};

QTEST_MAIN(TestWorkbenchLayout)
#include "test_workbench_layout.moc"
