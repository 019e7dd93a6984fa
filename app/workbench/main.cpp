// xopd-workbench: the desktop front end of X-OPD Workbench.
//   xopd-workbench [--workspace DIR] [--run DIR] [--demo-kit DIR] [--build-demo-kit] [--simulate]
//                  [--fresh-layout] [--screenshots DIR]
// XOPD_LOG_STARTUP=1 prints the moment the first window is on screen (Unix time in ms) to stderr:
// the start-up time of `make run` is measured from it (tests/bench/bench-startup.sh).
// --help and --version need no display (help2man runs them at build time for the manual page).
// Without a display (no DISPLAY, WAYLAND_DISPLAY, QT_QPA_PLATFORM or -platform) it says so and
// names the headless alternatives instead of letting Qt abort.
#include "core/common/TorchRuntime.h"
#include "core/common/Version.h"
#include "core/run/RunFolder.h"
#include "widgets/main/MainWindow.h"
#include "widgets/main/ScreenshotTour.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QDir>
#include <QEvent>
#include <QFileInfo>
#include <QIcon>
#include <QTimer>
#include <QWindow>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

/// The desktop entry's id (resources/desktop/org.xopd.workbench.desktop), also the icon's name.
constexpr const char* kDesktopId = "org.xopd.workbench";

/// The workbench's options, shared by the display-free --help/--version path and the window.
struct CommandLine {
    QCommandLineParser parser;
    QCommandLineOption workspace{"workspace", "Workspace folder (runs/ and prompts/ live there; default: the last one, else ~/xopd-workspace).", "DIR"};
    QCommandLineOption run{"run", "Open a run folder and follow it live.", "DIR"};
    QCommandLineOption kit{"demo-kit", "Demo kit folder (default: $XOPD_DEMO_KIT, the installed kit, resources/demo-kit in a build tree, else ~/.local/share/xopd/demo-kit).", "DIR"};
    QCommandLineOption buildKit{"build-demo-kit",
                                "When the demo kit is missing, build it at once in the background (make run does)."};
    QCommandLineOption simulate{"simulate", "Simulated runs (no training; for screenshots and the GUI benchmark)."};
    QCommandLineOption fresh{"fresh-layout", "Ignore the saved window layout."};
    QCommandLineOption shots{"screenshots", "Render a PNG of every screen into DIR, then quit (packaging/screenshots.sh).", "DIR"};

    CommandLine() {
        parser.setApplicationDescription("X-OPD Workbench: cross-modal on-policy distillation of speech LLMs");
        parser.addHelpOption();
        parser.addVersionOption();
        parser.addOptions({workspace, run, kit, buildKit, simulate, fresh, shots});
    }
};

void setIdentity() {
    QCoreApplication::setOrganizationName("xopd");
    QCoreApplication::setApplicationName("xopd-workbench");
    QCoreApplication::setApplicationVersion(xopd::kVersion);
}

bool hasArgument(int argc, char** argv, std::initializer_list<const char*> names) {
    for (int i = 1; i < argc; ++i)
        for (const char* n : names)
            if (std::strcmp(argv[i], n) == 0) return true;
    return false;
}

bool hasEnv(const char* name) {
    const char* v = std::getenv(name);
    return v && *v;
}

/// Prints, once, when the window it watches is first exposed (on screen, not merely shown).
class FirstExposeLog : public QObject {
public:
    using QObject::QObject;
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (event->type() == QEvent::Expose && !done_) {
            done_ = true;
            std::fprintf(stderr, "xopd-workbench: first window shown at %lld ms (Unix time)\n",
                         static_cast<long long>(QDateTime::currentMSecsSinceEpoch()));
        }
        return QObject::eventFilter(watched, event);
    }

private:
    bool done_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    // The engine runs in this process (runs, Ask): sleeping OpenMP workers and one LibTorch thread
    // per core, as in the CLI (core/common/TorchRuntime.h).
    xopd::preferPassiveOpenMpWait(argv);
    if (hasArgument(argc, argv, {"-h", "--help", "-?", "--help-all", "-v", "--version"})) {
        QCoreApplication app(argc, argv);
        setIdentity();
        CommandLine cl;
        cl.parser.process(app);  // prints and exits
        return 0;
    }
    if (!hasEnv("DISPLAY") && !hasEnv("WAYLAND_DISPLAY") && !hasEnv("QT_QPA_PLATFORM") &&
        !hasArgument(argc, argv, {"-platform", "--platform"})) {
        std::fprintf(stderr,
                     "xopd-workbench: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the window\n"
                     "cannot open. Open it in a virtual display:  xvfb-run -a xopd-workbench\n"
                     "or work headless with the CLI:  xopd selftest; xopd demo-kit build;\n"
                     "  xopd distill --demo --run-dir runs/demo --max-steps 20\n");
        return 1;
    }
    xopd::configureThreads();
    QApplication app(argc, argv);
    setIdentity();
    QGuiApplication::setDesktopFileName(kDesktopId);
    QApplication::setWindowIcon(QIcon::fromTheme(kDesktopId, QIcon(QString(":/icons/%1.svg").arg(kDesktopId))));
    CommandLine cl;
    QCommandLineParser& parser = cl.parser;
    const QCommandLineOption &workspace = cl.workspace, &run = cl.run, &kit = cl.kit, &simulate = cl.simulate,
                             &fresh = cl.fresh, &shots = cl.shots;
    parser.process(app);

    xopd::widgets::WorkbenchOptions o;
    o.workspace = parser.value(workspace);
    o.runDir = parser.value(run);
    o.demoKit = parser.value(kit);
    o.simulate = parser.isSet(simulate);
    o.buildDemoKit = parser.isSet(cl.buildKit);
    o.restoreLayout = !parser.isSet(fresh) && !parser.isSet(shots);
    if (!o.runDir.isEmpty() && !xopd::run::RunFolder(o.runDir.toStdString()).holdsRun()) {
        std::fprintf(stderr, "xopd-workbench: --run '%s': not a run folder (no %s)\n", qPrintable(o.runDir),
                     xopd::run::kRunJsonFile);
        return 2;
    }
    xopd::widgets::MainWindow window(o);
    window.resize(1480, 940);
    window.winId();  // creates the native window, so its expose can be watched
    FirstExposeLog exposeLog;
    if (qEnvironmentVariableIsSet("XOPD_LOG_STARTUP")) window.windowHandle()->installEventFilter(&exposeLog);
    window.show();
    int rc = 0;
    if (parser.isSet(shots)) {
        auto* tour = new xopd::widgets::ScreenshotTour(&window, parser.value(shots));
        QObject::connect(tour, &xopd::widgets::ScreenshotTour::finished, &app, [tour] {
            for (const auto& f : tour->written()) std::printf("wrote %s\n", qPrintable(f));
            QApplication::quit();
        });
        QObject::connect(tour, &xopd::widgets::ScreenshotTour::failed, &app, [&rc](const QString& m) {
            std::fprintf(stderr, "xopd-workbench: screenshots: %s\n", qPrintable(m));
            rc = 1;
            QApplication::quit();
        });
        QTimer::singleShot(800, tour, &xopd::widgets::ScreenshotTour::start);
    }
    const int code = app.exec();
    return rc ? rc : code;
}
