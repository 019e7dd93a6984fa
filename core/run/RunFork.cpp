#include "core/run/RunFork.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunStore.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
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

std::string forkRun(const std::string& parent_dir, const std::string& child_dir, int64_t step) {
    const fs::path parent(parent_dir), child(child_dir);
    XOPD_CHECK(fs::exists(parent / "run.json"), "'" << parent_dir << "': not a run folder (no run.json)");
    const fs::path ckpt = parent / "checkpoints" / checkpointName(step);
    if (!fs::is_directory(ckpt)) {
        std::ostringstream have;
        for (int64_t s : checkpointSteps(parent_dir)) have << " " << s;
        XOPD_FAIL("'" << parent_dir << "': no checkpoint at step " << step << " to fork from (checkpoints at steps:"
                      << (have.str().empty() ? std::string(" none") : have.str()) << ")");
    }
    XOPD_CHECK(!fs::exists(child / "run.json"), "'" << child_dir << "': already holds a run; choose another folder");
    std::error_code ec;
    fs::create_directories(child / "checkpoints", ec);
    XOPD_CHECK(!ec, "'" << child_dir << "': cannot create (" << ec.message() << ")");

    const std::string id = fs::absolute(child).lexically_normal().filename().string();
    nlohmann::json j = readJsonFile((parent / "run.json").string());
    const std::string parentId = j.value("run_id", fs::absolute(parent).lexically_normal().filename().string());
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    j["run_id"] = id;
    j["created"] = buf;
    j["created_unix_s"] = now;
    j["parent"] = {{"run_id", parentId}, {"dir", fs::absolute(parent).lexically_normal().string()}, {"step", step}};

    fs::copy(ckpt, child / "checkpoints" / checkpointName(step), fs::copy_options::recursive, ec);
    XOPD_CHECK(!ec, "'" << ckpt.string() << "': cannot copy into '" << child_dir << "' (" << ec.message() << ")");
    for (const char* suffix : {"", "-wal", "-shm"}) {
        const fs::path db = parent / (std::string(kMetricsFile) + suffix);
        if (!fs::exists(db)) continue;
        fs::copy_file(db, child / (std::string(kMetricsFile) + suffix), fs::copy_options::overwrite_existing, ec);
        XOPD_CHECK(!ec, "'" << db.string() << "': cannot copy (" << ec.message() << ")");
    }
    {
        RunStore store(child.string());
        store.deleteAfter(step);
        RunEventRecord e;
        e.step = step;
        e.kind = "fork";
        e.name = parentId;
        e.value = double(step);
        e.message = "forked from '" + parent_dir + "' at step " + std::to_string(step);
        store.addEvent(e);
    }
    {
        // checkpoints/latest names the copied checkpoint (CheckpointFolders.h format).
        const fs::path latest = child / "checkpoints" / "latest";
        const fs::path tmp = child / "checkpoints" / ".latest.tmp";
        {
            std::FILE* f = std::fopen(tmp.string().c_str(), "wb");
            XOPD_CHECK(f, "'" << tmp.string() << "': cannot write");
            const std::string line = checkpointName(step) + "\n";
            std::fwrite(line.data(), 1, line.size(), f);
            std::fclose(f);
        }
        fs::rename(tmp, latest, ec);
        XOPD_CHECK(!ec, "'" << latest.string() << "': cannot write (" << ec.message() << ")");
    }
    writeJsonFileAtomic((child / "run.json").string(), j);
    return id;
}

}  // namespace xopd::run
