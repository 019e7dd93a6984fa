#pragma once
// Renders a PNG of every screen of a real, shown main window (used under Xvfb by
// packaging/screenshots.sh for the README). On the demo kit (when it opened) it captures the set-up
// screen with the kit's inspect report and the Ask screen answering one spoken question with the
// kit's models, then trains those models in a short X-OPD run (the CPU-demo size); when there is no
// kit, or its models cannot answer, the run and the Ask screen use the built-in toy models. It lets
// the charts fill, pauses the run, sets up an ABX test, raises each screen in turn and grabs the
// shown window (QWidget::grab), plus the dark palette and the F2 key reference. Last, on the kit, it
// stops the run with a checkpoint, computes the gap explorer (before = the kit's student, after =
// the checkpoint; the kit's held-out prompts, one voice per question, by category), captures it,
// sends the largest-gap cell's two top clips to A/B listening (Listen A/B) and captures an A/B test
// there with an A–B loop set. Driven by timers: the event loop keeps running throughout. GUI thread only.

#include <QObject>
#include <QString>
#include <QStringList>

namespace xopd::widgets {

class MainWindow;

class ScreenshotTour : public QObject {
    Q_OBJECT
public:
    /// Writes into `folder` (created). `steps`: run steps to wait for before the captures.
    ScreenshotTour(MainWindow* window, QString folder, int steps = 12);
    /// Begins the tour; finished() when every file is written (or failed() on the first error).
    void start();
    QStringList written() const { return written_; }

signals:
    void finished();
    void failed(const QString& message);

private:
    void askDemoKit();
    void startRun();
    void waitForSteps();
    void capturePhase();
    bool capture(const QString& name);
    /// Overlays the workspace's other recorded runs on the live one (waits until they are shown).
    void overlayRecordedRuns();
    void gapPhase();
    void waitForCheckpoint();
    void computeGaps();
    /// The kit's manifest, or a subset of it (one rendition per question) written into the workspace.
    QString gapManifest(const QString& kitManifest);
    void listenPhase();
    /// Lets the event loop run for `ms` (layouts, replots).
    static void settle(int ms);

    MainWindow* window_;
    QString folder_;
    int steps_;
    int waited_ms_ = 0;
    bool setupCaptured_ = false, askCaptured_ = false;
    bool kitRun_ = false;  ///< the run trains the demo kit's models (the gap explorer can compare them)
    QString runDir_;
    QStringList written_;
};

}  // namespace xopd::widgets
