// CLI commands of the model group (see Commands.h).
#include "app/cli/Commands.h"

namespace xopd::cli {

void addModelCommands(CLI::App& app, Action& run) {
    (void)app;
    (void)run;
}

}  // namespace xopd::cli
