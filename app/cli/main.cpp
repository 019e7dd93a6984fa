// xopd: headless front end of X-OPD Workbench. Runs on GPU servers with no Qt.
#include "app/cli/Commands.h"
#include "core/common/Error.h"
#include "core/common/TorchRuntime.h"
#include "core/common/Version.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <iostream>

int main(int argc, char** argv) {
    xopd::preferPassiveOpenMpWait(argv);
    CLI::App app{"X-OPD Workbench: cross-modal on-policy distillation of speech LLMs", "xopd"};
    app.set_version_flag("--version", std::string("xopd ") + xopd::kVersion);
    // Before the subcommands, which inherit it; the manual page's COMMANDS section is its output.
    app.set_help_all_flag("--help-all", "Print this help message with every command's options and exit");
    app.require_subcommand(0, 1);

    xopd::cli::Action run;
    xopd::cli::addSelftestCommand(app, run);
    xopd::cli::addAudioCommands(app, run);
    xopd::cli::addInspectCommand(app, run);
    xopd::cli::addGenerateCommand(app, run);
    xopd::cli::addTextCommands(app, run);
    xopd::cli::addDistillCommands(app, run);
    xopd::cli::addDataCommands(app, run);
    xopd::cli::addServeCommand(app, run);
    xopd::cli::addLaunchCommand(app, run);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (!run) {
        std::cout << app.help();
        return 0;
    }
    xopd::configureThreads();
    try {
        return run();
    } catch (const xopd::Error& e) {
        std::cerr << "xopd: error: " << e.what() << "\n";
        return 1;
    } catch (const c10::Error& e) {
        // LibTorch's what() carries a C++ backtrace; the message alone is what the user needs.
        std::cerr << "xopd: error: " << e.what_without_backtrace() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "xopd: error: " << e.what() << "\n";
        return 1;
    }
}
