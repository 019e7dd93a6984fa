#include "core/session/Session.h"

#include "core/audio/Tts.h"
#include "core/common/Error.h"
#include "core/demokit/DemoKit.h"
#include "core/model/checkpoint/ModelConfig.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunFolder.h"
#include "core/run/RunFork.h"

#include <algorithm>
#include <filesystem>

namespace xopd::session {

namespace fs = std::filesystem;

namespace {

/// `base`, or base-2, base-3 … : the first name under `folder` that does not exist.
std::string unusedName(const fs::path& folder, const std::string& base) {
    std::error_code ec;
    fs::path p = folder / base;
    for (int n = 2; fs::exists(p, ec); ++n) p = folder / (base + "-" + std::to_string(n));
    return p.string();
}

/// The name of a run folder (its run id), also for a path ending in '/'.
std::string folderName(const std::string& dir) {
    fs::path p = fs::absolute(dir).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    return p.filename().string();
}

}  // namespace

Session::Session(std::string workspace) : workspace_(std::move(workspace)) {}

std::string Session::runsFolder() const { return (fs::path(workspace_) / "runs").string(); }

std::string Session::newRunFolder(const std::string& method, std::time_t now) const {
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    return unusedName(runsFolder(), std::string(stamp) + "-" + method);
}

void Session::requireModels(const distill::DistillConfig& config) {
    for (const auto* side : {&config.student, &config.teacher}) {
        const char* role = side == &config.student ? "student" : "teacher";
        if (side->kind == distill::ModelSourceKind::Hf) {
            std::error_code ec;
            XOPD_CHECK(fs::is_directory(side->path, ec), "the " << role << " '" << side->path << "' is not a folder");
            loadModelConfig(side->path);  // names config.json and what is wrong with it
        } else if (side->kind == distill::ModelSourceKind::Demo) {
            // Names the kit folder and the part that is missing; an unset path is the default kit,
            // as the run's model loader reads it (RunModels).
            demokit::openDemoKit(side->path.empty() ? demokit::defaultDemoKitPath() : side->path);
        }
    }
    if (config.student.kind == distill::ModelSourceKind::Hf) {
        std::error_code ec;
        XOPD_CHECK(!config.data.manifest.empty(), "the prompt manifest is not set (data.manifest)");
        XOPD_CHECK(fs::is_regular_file(config.data.manifest, ec), "the prompt manifest '" << config.data.manifest << "' does not exist");
    }
}

std::unique_ptr<run::RunController> Session::newRun(const distill::DistillConfig& config, std::string* dir_out) const {
    config.validate("run set-up");
    requireModels(config);  // before the run folder exists: a run that cannot load leaves nothing behind
    const std::string dir = newRunFolder(distill::methodName(config.loss.method));
    run::RunOptions o;
    o.run_dir = dir;
    auto control = std::make_unique<run::RunController>(config, o);
    if (dir_out) *dir_out = dir;
    return control;
}

ResumedRun Session::resumeRun(const std::string& dir) const {
    ResumedRun r;
    run::RunOptions o;
    o.run_dir = dir;
    r.control = run::RunController::resume(o);
    r.latest_checkpoint = run::latestCheckpoint(dir);
    if (!r.latest_checkpoint.empty())
        r.checkpoint_step = std::max<int64_t>(0, run::checkpointStep(fs::path(r.latest_checkpoint).filename().string()));
    return r;
}

std::string Session::planFork(const std::string& dir, int64_t step) const {
    run::RunFolder(dir).requireRun();
    run::requireCheckpointAt(dir, step);
    return unusedName(runsFolder(), folderName(dir) + "-fork-" + std::to_string(step));
}

void Session::fork(const std::string& dir, const std::string& child, int64_t step) const { run::forkRun(dir, child, step); }

void Session::requireFollowable(const std::string& dir) {
    std::error_code ec;
    const run::RunFolder f(dir);
    XOPD_CHECK(fs::is_regular_file(f.metricsPath(), ec), "'" << dir << "' is not a run folder (no " << run::kMetricsFile << ")");
}

std::pair<audio::AudioClip, audio::AudioClip> Session::speakAnswers(const std::string& student, const std::string& teacher) {
    return {audio::synthesizeSpeech(student.empty() ? "(no answer)" : student),
            audio::synthesizeSpeech(teacher.empty() ? "(no answer)" : teacher)};
}

}  // namespace xopd::session
