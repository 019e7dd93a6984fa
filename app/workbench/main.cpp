// xopd-workbench: the desktop front end of X-OPD Workbench.
//   xopd-workbench [--workspace DIR] [--run DIR] [--demo-kit DIR] [--simulate] [--fresh-layout]
//                  [--screenshots DIR]
// Without a display Qt reports that it cannot connect; packaging/run-workbench.sh explains the
// headless alternatives before getting that far.
#include "core/common/TorchRuntime.h"
#include "core/common/Version.h"
#include "core/run/RunFolder.h"
#include "widgets/main/MainWindow.h"
#include "widgets/main/ScreenshotTour.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

#include <cstdio>

int main(int argc, char** argv) {
    // The engine runs in this process (runs, Ask): sleeping OpenMP workers and one LibTorch thread
    // per core, as in the CLI (core/common/TorchRuntime.h).
    xopd::preferPassiveOpenMpWait(argv);
    xopd::configureThreads();
    QApplication app(argc, argv);
    QApplication::setOrganizationName("xopd");
    QApplication::setApplicationName("xopd-workbench");
    QApplication::setApplicationVersion(xopd::kVersion);
    QCommandLineParser parser;
    parser.setApplicationDescription("X-OPD Workbench: cross-modal on-policy distillation of speech LLMs");
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption workspace("workspace", "Workspace folder (runs/ and prompts/ live there; default: the last one, else ~/xopd-workspace).", "DIR");
    QCommandLineOption run("run", "Open a run folder and follow it live.", "DIR");
    QCommandLineOption kit("demo-kit", "Demo kit folder (default: $XOPD_DEMO_KIT, the installed kit, or resources/demo-kit).", "DIR");
    QCommandLineOption simulate("simulate", "Simulated runs (no training; for screenshots and the GUI benchmark).");
    QCommandLineOption fresh("fresh-layout", "Ignore the saved window layout.");
    QCommandLineOption shots("screenshots", "Render a PNG of every screen into DIR, then quit (packaging/screenshots.sh).", "DIR");
    parser.addOptions({workspace, run, kit, simulate, fresh, shots});
    parser.process(app);

    xopd::widgets::WorkbenchOptions o;
    o.workspace = parser.value(workspace);
    o.runDir = parser.value(run);
    o.demoKit = parser.value(kit);
    o.simulate = parser.isSet(simulate);
    o.restoreLayout = !parser.isSet(fresh) && !parser.isSet(shots);
    if (!o.runDir.isEmpty() && !xopd::run::RunFolder(o.runDir.toStdString()).holdsRun()) {
        std::fprintf(stderr, "xopd-workbench: --run '%s': not a run folder (no %s)\n", qPrintable(o.runDir),
                     xopd::run::kRunJsonFile);
        return 2;
    }
    xopd::widgets::MainWindow window(o);
    window.resize(1480, 940);
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
