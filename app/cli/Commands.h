#pragma once
// Registration of the CLI's command groups. Each group adds its subcommands to the app and
// stores the action to run in `run` when that subcommand is chosen. Actions return the process
// exit code: 0 on success, 1 on a user error (xopd::Error, printed by main), 2 on bad usage.

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace xopd::cli {

/// The action of the chosen subcommand, set by the registration callbacks below.
using Action = std::function<int()>;

void addSelftestCommand(CLI::App& app, Action& run);
void addAudioCommands(CLI::App& app, Action& run);   // audio info, features, tts, record, play
void addModelCommands(CLI::App& app, Action& run);   // inspect, generate
void addTextCommands(CLI::App& app, Action& run);    // tokenize, detokenize
void addDistillCommands(CLI::App& app, Action& run); // distill, eval, runs, demo-kit

}  // namespace xopd::cli
