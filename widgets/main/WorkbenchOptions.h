#pragma once
// How the workbench window starts (xopd-workbench's command line). Plain value.

#include <QString>
#include <QStringList>

namespace xopd::widgets {

struct WorkbenchOptions {
    /// Workspace folder (runs in WORKSPACE/runs, recordings in WORKSPACE/prompts). "" = the last
    /// one used (QSettings), else ~/xopd-workspace.
    QString workspace;
    /// A run folder to open and follow at start ("" = none).
    QString runDir;
    /// Demo kit folder ("" = core's defaultDemoKitPath()).
    QString demoKit;
    /// Runs are simulated by widgets::ScriptedRunControl (screenshots, GUI benchmark); no training.
    bool simulate = false;
    /// Restore the saved window and dock layout (off for screenshots and tests).
    bool restoreLayout = true;
    /// When the demo kit is missing, start building it at once in the background (`make run`);
    /// else the banner's Build button starts it.
    bool buildDemoKit = false;
    /// Arguments added to `xopd demo-kit build` when the window builds the kit (none: the full
    /// kit; tests shrink the build to seconds).
    QStringList demoKitBuildArgs;
};

}  // namespace xopd::widgets
