// `xopd inspect PATH [--json]`: validates a model folder or a .safetensors file (every check of the
// checkpoint layer) and summarises it; a folder holding only config.json (or a config.json named
// directly) is summarised from the config. With --memory (or --teacher) it also prints the memory a
// run needs at --batch x --length for the student trained as --training and the frozen teacher.
// Exit 1 with the reason when any check fails.
#include "app/cli/Commands.h"
#include "core/model/checkpoint/InspectSummary.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <map>
#include <memory>

namespace xopd::cli {

namespace {

struct InspectArgs {
    std::string path;
    bool json = false;
    bool memory = false;
    std::string teacher;
    std::string training = "lora";
    std::string dtype = "bf16";
    MemoryOptions options;
};

}  // namespace

void addInspectCommand(CLI::App& app, Action& run) {
    auto* cmd = app.add_subcommand("inspect", "Check and summarise a model folder or a .safetensors file: "
                                              "architecture, shapes, parameters, dtypes, shards, tokenizer; "
                                              "with --memory, what a run needs");
    auto a = std::make_shared<InspectArgs>();
    cmd->add_option("path", a->path, "Model folder (config.json + safetensors), a .safetensors file, or a config.json")
        ->required();
    cmd->add_flag("--json", a->json, "Print the report as JSON");
    cmd->add_flag("--memory", a->memory, "Also print the memory a run needs (weights, gradients, optimizer, KV cache, "
                                         "activations)");
    cmd->add_option("--teacher", a->teacher, "Teacher folder or config.json for the memory report (implies --memory)");
    cmd->add_option("--batch", a->options.batch, "Sequences per forward pass for the memory report")
        ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
    cmd->add_option("--length", a->options.sequence_length, "Prompt + response tokens per sequence")
        ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
    cmd->add_option("--training", a->training, "How the student trains: lora, full or frozen")
        ->check(CLI::IsMember({"lora", "full", "frozen"}));
    cmd->add_option("--lora-rank", a->options.lora_rank, "LoRA rank")->check(CLI::Range(1, 65536));
    cmd->add_option("--dtype", a->dtype, "Weight dtype: bf16 or fp32")->check(CLI::IsMember({"bf16", "fp32"}));
    cmd->callback([&run, a] {
        run = [a] {
            const nlohmann::json report = inspectCheckpoint(a->path);
            const bool memory = a->memory || !a->teacher.empty();
            nlohmann::json mem;
            if (memory) {
                static const std::map<std::string, Training> modes = {
                    {"lora", Training::Lora}, {"full", Training::Full}, {"frozen", Training::Frozen}};
                MemoryOptions o = a->options;
                o.training = modes.at(a->training);
                o.weight_bytes = a->dtype == "fp32" ? 4 : 2;
                mem = memoryReport(a->path, a->teacher, o);
            }
            if (a->json) {
                nlohmann::json out = report;
                if (memory) out["memory"] = mem;
                std::cout << out.dump(2) << "\n";
            } else {
                std::cout << formatInspectReport(report);
                if (memory) std::cout << formatMemoryReport(mem);
            }
            return 0;
        };
    });
}

}  // namespace xopd::cli
