// `xopd inspect PATH [--json]`: validates a model folder or a .safetensors file (every check of the
// checkpoint layer) and summarises it. Exit 1 with the reason when any check fails.
#include "app/cli/Commands.h"
#include "core/model/checkpoint/InspectSummary.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace xopd::cli {

void addInspectCommand(CLI::App& app, Action& run) {
    auto* cmd = app.add_subcommand("inspect", "Check and summarise a model folder or a .safetensors file: "
                                              "architecture, shapes, parameters, dtypes, shards, tokenizer");
    auto path = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("path", *path, "Model folder (config.json + safetensors) or a single .safetensors file")
        ->required();
    cmd->add_flag("--json", *json, "Print the report as JSON");
    cmd->callback([&run, path, json] {
        run = [path, json] {
            const nlohmann::json report = inspectCheckpoint(*path);
            if (*json)
                std::cout << report.dump(2) << "\n";
            else
                std::cout << formatInspectReport(report);
            return 0;
        };
    });
}

}  // namespace xopd::cli
