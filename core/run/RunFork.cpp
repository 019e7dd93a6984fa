#include "core/run/RunFork.h"

#include "core/common/Error.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunFolder.h"
#include "core/run/RunStore.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace xopd::run {

std::vector<int64_t> checkpointSteps(const std::string& run_dir) {
    std::vector<int64_t> steps;
    for (const auto& folder : listCheckpoints(run_dir)) {
        const int64_t s = checkpointStep(fs::path(folder).filename().string());
        if (s >= 0) steps.push_back(s);
    }
    return steps;
}

void requireCheckpointAt(const std::string& run_dir, int64_t step) {
    const auto steps = checkpointSteps(run_dir);
    if (std::find(steps.begin(), steps.end(), step) != steps.end()) return;
    std::ostringstream have;
    for (int64_t s : steps) have << " " << s;
    XOPD_FAIL("'" << run_dir << "': no checkpoint at step " << step << " to fork from (checkpoints at steps:"
                  << (steps.empty() ? std::string(" none") : have.str()) << ")");
}

std::string forkRun(const std::string& parent_dir, const std::string& child_dir, int64_t step) {
    const RunFolder parent(parent_dir), child(child_dir);
    parent.requireRun();
    requireCheckpointAt(parent_dir, step);
    const fs::path ckpt = fs::path(parent.checkpointsPath()) / checkpointName(step);
    XOPD_CHECK(!child.holdsRun(), "'" << child_dir << "': already holds a run; choose another folder");
    std::error_code ec;
    fs::create_directories(child.checkpointsPath(), ec);
    XOPD_CHECK(!ec, "'" << child_dir << "': cannot create (" << ec.message() << ")");
    const std::string parentId = parent.readInfo().run_id;

    fs::copy(ckpt, fs::path(child.checkpointsPath()) / checkpointName(step), fs::copy_options::recursive, ec);
    XOPD_CHECK(!ec, "'" << ckpt.string() << "': cannot copy into '" << child_dir << "' (" << ec.message() << ")");
    for (const char* suffix : {"", "-wal", "-shm"}) {
        const fs::path db = parent.metricsPath() + suffix;
        if (!fs::exists(db)) continue;
        fs::copy_file(db, child.metricsPath() + suffix, fs::copy_options::overwrite_existing, ec);
        XOPD_CHECK(!ec, "'" << db.string() << "': cannot copy (" << ec.message() << ")");
    }
    {
        RunStore store(child_dir);
        store.deleteAfter(step);
        RunEventRecord e;
        e.step = step;
        e.kind = event_kind::kFork;
        e.name = parentId;
        e.value = double(step);
        e.message = "forked from '" + parent_dir + "' at step " + std::to_string(step);
        store.addEvent(e);
    }
    writeLatestCheckpoint(child_dir, step);
    // run.json last: until it exists the folder is not a run, so an interrupted fork is never opened.
    return child.createFork(parent, step);
}

}  // namespace xopd::run
