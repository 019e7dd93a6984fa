#pragma once
// `xopd eval --by FIELD`: the gap explorer on the command line (core/session/GapExplorer.h).
// Prints the table to stdout (or the JSON, for `--json` without a file) and writes the JSON
// atomically to `json_file` when one is given.

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::cli {

struct EvalGapArgs {
    std::string by;                        ///< voice, accent, rate, condition, tag or category
    std::string run_dir;                   ///< a run: its initial student ("before") and latest checkpoint ("after")
    std::string model_dir;                 ///< one model folder
    std::vector<std::string> checkpoints;  ///< more model folders, each a column (named by its folder)
    std::string prompts, split, match = "exact";
    int64_t max_new_tokens = 16;
    bool json_stdout = false;              ///< print JSON instead of the table
    std::string json_file;                 ///< also write the JSON here ("" = no file)
};

/// Runs it; returns the exit status. Throws xopd::Error on bad input.
int runEvalGaps(const EvalGapArgs& args);

}  // namespace xopd::cli
