#pragma once
// The on-disk format of a run folder, in one place (DESIGN.md "A run on disk"):
//
//   RUN/run.json                 resolved config, fingerprints, program version, parent (forks)
//   RUN/metrics.sqlite           the run store (RunStore.h); its event kinds are listed below
//   RUN/checkpoints/step-NNNNNN/ atomic checkpoint folders, RUN/checkpoints/latest (CheckpointFolders.h)
//
// RunFolder reads and writes run.json; everything else that knows a file name of a run folder takes
// it from here. Readers that list many runs use readInfo(), which tolerates a config this version
// cannot validate; starting or resuming a run uses readConfig(), which validates it.
//
//   RunFolder f(dir);
//   f.create(config);                      // a new run: writes run.json, refuses a folder in use
//   auto config = f.readConfig();          // resume: the validated config
//   RunInfo info = f.readInfo();           // run lists: method, knobs, models, parent
//
// Torch-free (widgets/ include it). Threading: plain file reads and atomic writes; one writer per
// run folder (the run's worker, or a fork before its run starts).

#include "core/distill/DistillConfig.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace xopd::run {

/// File names inside a run folder.
inline constexpr const char* kRunJsonFile = "run.json";
inline constexpr const char* kMetricsFile = "metrics.sqlite";
inline constexpr const char* kCheckpointsFolder = "checkpoints";
inline constexpr const char* kLogFile = "log.txt";
/// The writer's lock file (RunFolderLock).
inline constexpr const char* kLockFile = ".lock";

/// Kinds of the run store's events (RunEventRecord::kind).
namespace event_kind {
inline constexpr const char* kState = "state";            ///< name: the state; message: the reason
inline constexpr const char* kKnob = "knob";              ///< name: the knob; value: its new value
inline constexpr const char* kNan = "nan";                ///< a non-finite loss or gradient
inline constexpr const char* kCheckpoint = "checkpoint";  ///< name: the checkpoint folder
inline constexpr const char* kResume = "resume";          ///< the run resumed at this step
inline constexpr const char* kLog = "log";                ///< name: the level; message: the line
inline constexpr const char* kPlan = "plan";              ///< value: the planned total of steps
inline constexpr const char* kFork = "fork";              ///< name: the parent run id; value: its step
}  // namespace event_kind

/// Where a forked run came from.
struct RunParent {
    std::string run_id;  ///< the parent's run id
    std::string dir;     ///< the parent's folder when forked (absolute)
    int64_t step = 0;    ///< the parent's checkpoint step the fork starts from
};

/// What run.json says about a run, read leniently (fields missing or of the wrong type stay empty).
struct RunInfo {
    std::string run_id;
    double created_unix_s = 0.0;
    std::string method;               ///< "x-opd", "sft", ...
    int64_t max_steps = 0;            ///< as configured (0 = from epochs)
    double lambda = 0.0;              ///< NaN when absent
    double lr = 0.0;                  ///< NaN when absent
    distill::ModelSource student;     ///< kind Invalid when absent
    distill::ModelSource teacher;
    std::optional<RunParent> parent;  ///< set for forks
};

/// The one writer of a run folder: an exclusive flock on RUN/.lock, which also records the
/// holder's pid. The kernel releases it when the holder exits, however it exits (kill -9
/// included), so a stale lock file never blocks a resume. Every process that writes a run (the
/// CLI, the workbench, a distributed job's rank 0) holds one for as long as it writes; readers
/// that follow a run never take it. Lock files are per open file description: a second lock in the
/// same process is refused too.
class RunFolderLock {
public:
    /// Takes the lock of `dir`. Throws xopd::Error naming the folder and the holder's pid when
    /// another writer holds it, or naming the file when it cannot be created.
    explicit RunFolderLock(const std::string& dir);
    ~RunFolderLock();
    RunFolderLock(const RunFolderLock&) = delete;
    RunFolderLock& operator=(const RunFolderLock&) = delete;

private:
    int fd_ = -1;
};

class RunFolder {
public:
    explicit RunFolder(std::string dir);

    const std::string& dir() const { return dir_; }
    std::string runJsonPath() const;
    std::string metricsPath() const;
    std::string checkpointsPath() const;

    /// True when the folder holds a run (it has run.json).
    bool holdsRun() const;
    /// Throws xopd::Error naming the folder when it holds no run.
    void requireRun() const;

    /// Creates the folder and its parents (nothing when it exists). Throws naming it on failure.
    void createFolder() const;
    /// Creates the folder (and parents) and writes run.json for a new run of `config`. Refuses a
    /// folder that holds a run with recorded steps or checkpoints; a run that ended before its first
    /// step (it failed to start) is replaced, its store and log removed. Returns the run id (the
    /// folder's name). Call with the folder's lock held (RunController does).
    std::string create(const distill::DistillConfig& config) const;
    /// True when the folder holds a run that recorded no step and no checkpoint.
    bool holdsEmptyRun() const;
    /// Writes run.json of a fork of `parent` at checkpoint `step`: the parent's config and
    /// fingerprints under a new run id, with the parent recorded. Refuses a folder holding a run.
    std::string createFork(const RunFolder& parent, int64_t step) const;

    /// The validated config. Throws xopd::Error naming run.json and the field at fault.
    distill::DistillConfig readConfig() const;
    /// The lenient summary of run.json. Throws xopd::Error naming the file when it is missing or is
    /// not a JSON object.
    RunInfo readInfo() const;
    /// The config as "section.key" → value text (arrays as compact JSON), for config diffs.
    std::map<std::string, std::string> flatConfig() const;

    /// Takes the writer's lock (RunFolderLock); the folder must exist.
    std::unique_ptr<RunFolderLock> lockForWriting() const;

    /// Fingerprints of the models and data (fingerprintPath of each), {} when none yet.
    nlohmann::json fingerprints() const;
    /// Replaces the fingerprints (atomic rewrite of run.json).
    void writeFingerprints(const nlohmann::json& fingerprints) const;

private:
    nlohmann::json readRunJson() const;
    std::string dir_;
};

}  // namespace xopd::run
