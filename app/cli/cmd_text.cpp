// CLI commands of the text group (see Commands.h).
#include "app/cli/Commands.h"

namespace xopd::cli {

void addTextCommands(CLI::App& app, Action& run) {
    (void)app;
    (void)run;
}

}  // namespace xopd::cli
