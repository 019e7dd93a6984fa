// The prompt library screen without a sound device: drag and drop of a WAV file and a JSONL
// manifest adds exactly their prompts (and a drag without local files is refused), and the log-mel
// preview of a pure tone lights the mel row of the tone's frequency brightest, checked against a
// Slaney mel scale computed here (librosa's formula, not the core's filter bank).
#include "widgets/audio/WaveformView.h"
#include "widgets/prompts/PromptLibraryModel.h"
#include "widgets/prompts/PromptLibraryWidget.h"

#include "core/audio/AudioFile.h"
#include "tests/support/TestSupport.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QMimeData>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest/QtTest>

#include <cmath>
#include <vector>

using namespace xopd;
using namespace xopd::widgets;

namespace {

void writeTone(const QString& path, double seconds, double hz = 440) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    const audio::AudioClip c{xopd::test::sineTone(hz, seconds, 16000, 0.3), 16000};
    audio::writeAudioFile(path.toStdString(), c, audio::AudioFileFormat::WavPcm16);
}

// Slaney mel scale (librosa.mel_frequencies, htk=False): linear below 1 kHz, logarithmic above.
double hzToMel(double f) {
    const double logstep = std::log(6.4) / 27.0;
    return f < 1000.0 ? f / (200.0 / 3.0) : 15.0 + std::log(f / 1000.0) / logstep;
}
double melToHz(double m) {
    const double logstep = std::log(6.4) / 27.0;
    return m < 15.0 ? m * 200.0 / 3.0 : 1000.0 * std::exp(logstep * (m - 15.0));
}

/// The mel filter (of 128, 0..8 kHz, area-normalised triangles) that responds most to a tone at `hz`.
int expectedMelBin(double hz) {
    const int bins = 128;
    std::vector<double> edge(bins + 2);
    for (int i = 0; i < bins + 2; ++i) edge[size_t(i)] = melToHz(hzToMel(8000.0) * i / (bins + 1));
    int best = -1;
    double bestW = 0;
    for (int m = 0; m < bins; ++m) {
        const double lo = edge[size_t(m)], mid = edge[size_t(m) + 1], hi = edge[size_t(m) + 2];
        const double tri = std::max(0.0, std::min((hz - lo) / (mid - lo), (hi - hz) / (hi - mid)));
        const double w = tri * 2.0 / (hi - lo);
        if (w > bestW) {
            bestW = w;
            best = m;
        }
    }
    return best;
}

/// Mel bin (0 = lowest) of the spectrogram image's brightest row, by mean red + green over the
/// inner columns (the colour ramp's red and green both rise with the level).
int brightestMelBin(const QImage& img) {
    int bestRow = -1;
    double best = -1;
    for (int y = 0; y < img.height(); ++y) {
        double sum = 0;
        for (int x = 5; x < img.width() - 5; ++x) sum += qRed(img.pixel(x, y)) + qGreen(img.pixel(x, y));
        if (sum > best) {
            best = sum;
            bestRow = y;
        }
    }
    return img.height() - 1 - bestRow;
}

}  // namespace

class TestPromptLibraryScreen : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;

private slots:
    void dropImportsFilesAndManifests() {
        const QString dir = tmp_.filePath("drop");
        writeTone(dir + "/hello.wav", 0.5);
        writeTone(dir + "/audio/q1.wav", 0.25, 660);
        writeTone(dir + "/audio/q2.wav", 0.75, 880);
        QFile f(dir + "/set.jsonl");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"id": "q1", "audio": "audio/q1.wav", "transcript": "what is one plus one", "split": "eval"})"
                "\n"
                R"({"id": "q2", "audio": "audio/q2.wav", "transcript": "name a colour", "split": "train"})"
                "\n");
        f.close();

        PromptLibraryModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        PromptLibraryWidget w(&model);
        w.resize(900, 600);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.acceptDrops());
        QSignalSpy status(&w, &PromptLibraryWidget::statusMessage);

        // A drag of plain text is not taken.
        QMimeData text;
        text.setText("not a file");
        QDragEnterEvent textEnter(QPoint(20, 20), Qt::CopyAction, &text, Qt::LeftButton, Qt::NoModifier);
        textEnter.setAccepted(false);
        QApplication::sendEvent(&w, &textEnter);
        QVERIFY(!textEnter.isAccepted());

        // A WAV file, a manifest and a remote URL (skipped: only local files are imported).
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(dir + "/hello.wav"), QUrl::fromLocalFile(dir + "/set.jsonl"),
                      QUrl("https://example.com/remote.wav")});
        QDragEnterEvent enter(QPoint(20, 20), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        enter.setAccepted(false);
        QApplication::sendEvent(&w, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(20, 20), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        drop.setAccepted(false);
        QApplication::sendEvent(&w, &drop);
        QVERIFY(drop.isAccepted());

        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.entry(0).id, QString("hello"));
        QCOMPARE(model.entry(0).source, QString("imported"));
        QCOMPARE(model.entry(0).path, QFileInfo(dir + "/hello.wav").absoluteFilePath());
        QCOMPARE(model.entry(0).durationS, 0.5);
        QCOMPARE(model.entry(1).id, QString("q1"));
        QCOMPARE(model.entry(1).source, QString("manifest"));
        QCOMPARE(model.entry(1).transcript, QString("what is one plus one"));
        QCOMPARE(model.entry(1).split, QString("eval"));
        QCOMPARE(model.entry(2).id, QString("q2"));
        QCOMPARE(model.entry(2).durationS, 0.75);
        QVERIFY(!status.isEmpty());
        QCOMPARE(status.last().at(0).toString(), QString("Imported 3 prompt(s)"));
        // The table shows them through the proxy.
        QCOMPARE(w.proxy()->rowCount(), 3);
    }

    void spectrogramOfAToneLightsItsMelRow() {
        WaveformView view;
        view.resize(600, 200);
        int previous = -1;
        // Tones on FFT bins (n_fft 400 at 16 kHz: 40 Hz apart), low, middle and high.
        for (double hz : {320.0, 1000.0, 3000.0}) {
            view.setClip({xopd::test::sineTone(hz, 1.0, 16000, 0.5), 16000});
            view.setSpectrogram(true);
            QTRY_VERIFY_WITH_TIMEOUT(view.hasSpectrogramImage(), 30000);  // computed on a worker thread
            const QImage& img = view.spectrogramImage();
            QCOMPARE(img.height(), 128);
            QCOMPARE(img.width(), 100);  // 1 s of 10 ms frames
            const int got = brightestMelBin(img), want = expectedMelBin(hz);
            QVERIFY2(std::abs(got - want) <= 1, qPrintable(QString("%1 Hz: brightest mel bin %2, expected %3").arg(hz).arg(got).arg(want)));
            QVERIFY(got > previous);  // a higher tone lights a higher row
            previous = got;
            // Away from the tone the image is dark.
            const int far = (got + 64) % 128;
            double farLevel = 0;
            for (int x = 5; x < img.width() - 5; ++x) farLevel += qRed(img.pixel(x, 127 - far)) + qGreen(img.pixel(x, 127 - far));
            double toneLevel = 0;
            for (int x = 5; x < img.width() - 5; ++x) toneLevel += qRed(img.pixel(x, 127 - got)) + qGreen(img.pixel(x, 127 - got));
            QVERIFY2(farLevel < 0.5 * toneLevel, qPrintable(QString("%1 Hz: far row %2 vs tone row %3").arg(hz).arg(farLevel).arg(toneLevel)));
        }
        // Back to the waveform: the image is kept for the clip, a new clip recomputes it.
        view.setSpectrogram(false);
        QVERIFY(view.hasSpectrogramImage());
        view.setClip({xopd::test::sineTone(500.0, 0.5, 16000, 0.5), 16000});
        QVERIFY(!view.hasSpectrogramImage());
    }
};

QTEST_MAIN(TestPromptLibraryScreen)
#include "test_prompt_library_screen.moc"
