#pragma once
// Renders a PNG of every screen of a real, shown main window (used under Xvfb by
// packaging/screenshots.sh for the README). On the demo kit (when it opened) it captures the set-up
// screen with the kit's inspect report and the Ask screen answering one spoken question with the
// kit's models, then trains those models in a short X-OPD run (the CPU-demo size); when there is no
// kit, or its models cannot answer, the run and the Ask screen use the built-in toy models. It lets
// the charts fill, pauses the run, sets up an ABX test, raises each screen in turn and grabs the
// shown window (QWidget::grab), plus the dark palette and the F2 key reference. Driven by timers: the
// event loop keeps running throughout. GUI thread only.

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

    MainWindow* window_;
    QString folder_;
    int steps_;
    int waited_ms_ = 0;
    bool setupCaptured_ = false, askCaptured_ = false;
    QStringList written_;
};

}  // namespace xopd::widgets
