// CLI: see Commands.h.
#include "app/cli/Commands.h"

namespace xopd::cli {

void addDataCommands(CLI::App& app, Action& run) {
    (void)app;
    (void)run;
}

}  // namespace xopd::cli
