#pragma once
// The yellow banner the main window shows while there is no demo kit: why (the kit folder and the
// missing part), a "Build the demo kit" button, and while the build runs a progress bar with the
// stage and a Cancel button. A view only: the window runs the build (DemoKitBuildWorker) and
// feeds this banner. GUI thread only.

#include <QString>
#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace xopd::widgets {

class DemoKitBanner : public QWidget {
    Q_OBJECT
public:
    explicit DemoKitBanner(QWidget* parent = nullptr);

    /// No kit (`problem`: why), no build running: the text and the Build button.
    void showMissing(const QString& problem);
    /// A build has started into `folder`: the progress bar at 0 and Cancel.
    void showBuilding(const QString& folder);
    /// The build's progress: `fraction` 0 .. 1 and the stage in words.
    void setProgress(double fraction, const QString& stage);
    /// The build stopped (cancelled, or failed with `message`): the Build button again.
    void showStopped(const QString& message);

    /// Progress bar value in permille (tests).
    int progressPermille() const;
    bool building() const { return building_; }

signals:
    void buildRequested();
    void cancelRequested();

private:
    QLabel* text_;
    QProgressBar* bar_;
    QPushButton* build_;
    QPushButton* cancel_;
    QString problem_;
    bool building_ = false;
};

}  // namespace xopd::widgets
