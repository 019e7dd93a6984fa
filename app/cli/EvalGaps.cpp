#include "app/cli/EvalGaps.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/session/GapExplorer.h"

#include <iostream>

namespace xopd::cli {

int runEvalGaps(const EvalGapArgs& a) {
    eval::parseGroupField(a.by);  // a bad --by is refused before any model is read
    session::GapRequest r;
    r.manifest = a.prompts;
    r.split = a.split;
    r.by = a.by;
    r.match = a.match;
    r.max_new_tokens = a.max_new_tokens;
    if (!a.run_dir.empty()) r.checkpoints = session::runGapCheckpoints(a.run_dir);
    if (!a.model_dir.empty()) r.checkpoints.push_back(session::folderGapCheckpoint(a.model_dir));
    for (const auto& c : a.checkpoints) r.checkpoints.push_back(session::folderGapCheckpoint(c));
    XOPD_CHECK(!r.checkpoints.empty(), "eval --by: give --run DIR, --model DIR or --checkpoint DIR");
    const eval::GapTable table =
        session::exploreGaps(r, [](const std::string& line) { std::cerr << "eval: " << line << "\n"; });
    const nlohmann::json json = eval::gapTableJson(table);
    if (!a.json_file.empty()) writeJsonFileAtomic(a.json_file, json);
    if (a.json_stdout && a.json_file.empty())
        std::cout << json.dump(2) << "\n";
    else
        std::cout << eval::gapTableText(table);
    return 0;
}

}  // namespace xopd::cli
