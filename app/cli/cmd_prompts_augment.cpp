// CLI command of the prompts group (see Commands.h):
//   xopd prompts augment --in MANIFEST --out DIR --condition SPEC [--condition SPEC ...] [--seed N]
// Every clip of MANIFEST under every condition (core/data/AcousticCondition.h: snr=DB[,noise=...],
// speed=F, tempo=F, reverb[=P], telephone, clean; steps joined by '+') into DIR/prompts.jsonl and
// DIR/audio/ (core/data/PromptAugmentation.h). A stop signal stops it and leaves nothing.
#include "app/cli/Commands.h"
#include "app/cli/StopSignals.h"
#include "core/data/PromptAugmentation.h"

#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>

namespace xopd::cli {

namespace {
struct AugmentArgs {
    std::string in, out;
    std::vector<std::string> conditions;
    std::uint32_t seed = 1;
    bool quiet = false;
};
}  // namespace

void addPromptsAugmentCommand(CLI::App& prompts, Action& run) {
    auto args = std::make_shared<AugmentArgs>();
    auto* cmd = prompts.add_subcommand(
        "augment", "Put every clip of a prompt set under acoustic conditions (noise at an SNR, speed, tempo, "
                   "reverb, telephone) into a new prompt set");
    cmd->add_option("--in", args->in, "Source JSONL manifest")->required();
    cmd->add_option("--out", args->out, "New folder for prompts.jsonl and audio/ (must not exist, or be empty)")
        ->required();
    cmd->add_option("--condition", args->conditions,
                    "Condition, repeatable: snr=DB[,noise=white|pink|FILE], speed=F, tempo=F, reverb[=PERCENT], "
                    "telephone, clean; steps joined by '+' (telephone+snr=15)")
        ->required();
    cmd->add_option("--seed", args->seed, "Seed of the generated noise (default 1)");
    cmd->add_flag("--quiet", args->quiet, "No progress lines");
    cmd->callback([args, &run] {
        run = [args] {
            data::AugmentOptions options;
            for (const auto& spec : args->conditions) options.conditions.push_back(data::parseAcousticCondition(spec));
            options.seed = args->seed;
            StopSignalHandlers handlers;
            options.abort = [] { return stopSignal() != 0; };
            if (!args->quiet)
                options.progress = [](int done, int total) {
                    if (done == total || done % 50 == 0) std::cout << "augmented " << done << " / " << total << std::endl;
                };
            try {
                const data::AugmentReport r = data::augmentPromptSet(args->in, args->out, options);
                std::cout << r.clips << " clips (" << r.clips / int(options.conditions.size()) << " prompts x "
                          << options.conditions.size() << " conditions) written to " << r.manifest_path << "\n";
            } catch (const data::AugmentCancelled& e) {
                std::cerr << "xopd: " << e.what() << " (" << ::strsignal(stopSignal()) << ")\n";
                return 128 + stopSignal();
            }
            return 0;
        };
    });
}

}  // namespace xopd::cli
