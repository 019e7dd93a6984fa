// CLI commands of the distill group (see Commands.h).
#include "app/cli/Commands.h"

namespace xopd::cli {

void addDistillCommands(CLI::App& app, Action& run) {
    (void)app;
    (void)run;
}

}  // namespace xopd::cli
