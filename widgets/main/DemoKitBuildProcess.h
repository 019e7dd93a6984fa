#pragma once
// Builds the demo kit for the window, in a child process: `xopd demo-kit build --progress-lines`
// (core demokit::buildDemoKit behind the CLI). Its progress lines become progress() signals, its
// other lines line() (for the log), and Cancel sends it SIGTERM, which the build honours within one
// step (its abort callback, whisper.cpp's manner), leaving nothing. A child process rather than a
// worker thread because the build must stay deterministic: espeak-ng carries synthesis state from
// call to call within a process (core/audio/Tts.h), so a kit built in a window that had spoken
// anything before would differ from `xopd demo-kit build`'s; a child also keeps the build's
// one-thread, no-oneDNN LibTorch settings away from the window's own asks.
//
//   auto* b = new DemoKitBuildProcess(this);
//   connect(b, &DemoKitBuildProcess::built, this, [](const QString& dir) { open(dir); });
//   b->start(kitFolder);  …  b->cancel();
//
// QProcess is asynchronous: nothing here waits on the GUI thread (but the destructor, which gives a
// running build a few seconds to stop). GUI thread only.

#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace xopd::widgets {

class DemoKitBuildProcess : public QObject {
    Q_OBJECT
public:
    explicit DemoKitBuildProcess(QObject* parent = nullptr);
    /// A running build is cancelled: SIGTERM, up to 10 s to stop, then killed (the next build
    /// removes what a killed one left).
    ~DemoKitBuildProcess() override;

    /// The CLI that builds: $XOPD_CLI, else `xopd` beside this program (installed), else
    /// ../cli/xopd (the build tree). "" when there is none.
    static QString cliPath();

    /// Starts building into `folder` with `extraArgs` added to the command line (tests shrink
    /// the build). Returns false, with failed(), when there is no CLI or a build runs.
    bool start(const QString& folder, const QStringList& extraArgs = {});
    /// Asks the running build to stop; cancelled() follows when it has (within one step).
    void cancel();
    bool running() const { return process_.state() != QProcess::NotRunning; }

signals:
    /// `fraction` of the whole build (0 .. 1) and its stage in words ("training the teacher: step …").
    void progress(double fraction, const QString& stage);
    /// A line the build printed (its report, errors).
    void line(const QString& text);
    /// The kit is in place at the folder.
    void built(const QString& folder);
    /// The build stopped on request; it left nothing.
    void cancelled();
    /// The build failed: the message names what went wrong.
    void failed(const QString& message);

private:
    void readLines();
    void onFinished(int exitCode, QProcess::ExitStatus status);

    QProcess process_;
    QString folder_;
    QString lastError_;
    QByteArray pending_;
    bool cancelRequested_ = false;
};

}  // namespace xopd::widgets
