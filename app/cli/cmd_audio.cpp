// CLI commands of the audio group (see Commands.h).
#include "app/cli/Commands.h"

namespace xopd::cli {

void addAudioCommands(CLI::App& app, Action& run) {
    (void)app;
    (void)run;
}

}  // namespace xopd::cli
