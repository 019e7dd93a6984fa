#pragma once
// Renders a PNG of every screen of a real, shown main window (used under Xvfb by
// packaging/screenshots.sh for the README): it captures the set-up screen on the demo kit (when it
// opened) and switches it to the toy models, starts a short run from the set-up screen, lets the
// charts fill, pauses it, asks the Ask screen one question, sets up an A/B test, and then raises
// each screen in turn and grabs the shown window (QWidget::grab), plus the dark palette and the F2
// key reference. Driven by timers: the event loop keeps running throughout. GUI thread only.

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
    void startRun();
    void waitForSteps();
    void capturePhase();
    bool capture(const QString& name);

    MainWindow* window_;
    QString folder_;
    int steps_;
    int waited_ms_ = 0;
    bool setupCaptured_ = false;
    QStringList written_;
};

}  // namespace xopd::widgets
