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
#include <optional>
#include <string>

namespace xopd::run {

/// File names inside a run folder.
inline constexpr const char* kRunJsonFile = "run.json";
inline constexpr const char* kMetricsFile = "metrics.sqlite";
inline constexpr const char* kCheckpointsFolder = "checkpoints";

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

    /// Creates the folder (and parents) and writes run.json for a new run of `config`. Refuses a
    /// folder that already holds a run. Returns the run id (the folder's name).
    std::string create(const distill::DistillConfig& config) const;
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

    /// Fingerprints of the models and data (fingerprintPath of each), {} when none yet.
    nlohmann::json fingerprints() const;
    /// Replaces the fingerprints (atomic rewrite of run.json).
    void writeFingerprints(const nlohmann::json& fingerprints) const;

private:
    nlohmann::json readRunJson() const;
    std::string dir_;
};

}  // namespace xopd::run
