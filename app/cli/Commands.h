#pragma once
// Registration of the CLI's command groups, one cmd_*.cpp each. Each adds its subcommands to the
// app and, from the subcommand's callback, stores the action to run in `run`. Actions return the
// process exit code: 0 on success, 1 on a user error (xopd::Error, printed by main).

#include <CLI/CLI.hpp>

#include <functional>

namespace xopd::cli {

/// The action of the chosen subcommand, set by the registration callbacks below.
using Action = std::function<int()>;

void addSelftestCommand(CLI::App& app, Action& run);  // cmd_selftest.cpp: selftest
void addAudioCommands(CLI::App& app, Action& run);    // cmd_audio.cpp: audio info, features, tts, record, play
void addInspectCommand(CLI::App& app, Action& run);   // cmd_inspect.cpp: inspect
void addGenerateCommand(CLI::App& app, Action& run);  // cmd_generate.cpp: generate
void addTextCommands(CLI::App& app, Action& run);     // cmd_text.cpp: tokenize, detokenize
void addDistillCommands(CLI::App& app, Action& run);  // cmd_distill.cpp: distill, runs
void addDataCommands(CLI::App& app, Action& run);     // cmd_data.cpp: demo-kit, eval, prompts
void addServeCommand(CLI::App& app, Action& run);     // cmd_serve.cpp: serve
void addLaunchCommand(CLI::App& app, Action& run);    // cmd_launch.cpp: launch-script
/// `prompts augment`, added to the prompts group by cmd_data.cpp.
void addPromptsAugmentCommand(CLI::App& prompts, Action& run);  // cmd_prompts_augment.cpp

}  // namespace xopd::cli
