#pragma once
// The workbench's run life cycle, below the widgets (Sonic Visualiser's svapp): where a
// workspace's runs live and how they are named, starting a new run, resuming one from its last
// checkpoint, forking one at a checkpoint, checking that a folder can be followed, and speaking two
// answers for A/B listening. The main window calls these and keeps only views and actions.
//
//   Session s("/home/me/xopd-workspace");
//   std::string dir;
//   auto run = s.newRun(config, &dir);            // run.json written, not started
//   auto resumed = s.resumeRun(dir);              // resumed.control, resumed.checkpoint_step
//   std::string child = s.planFork(dir, 120);     // checks only; names the child folder
//   s.fork(dir, child, 120);                      // copies the checkpoint: a worker thread's job
//
// No Qt. Threading: a Session is a value holding the workspace path; its functions may run on any
// thread. fork() and speakAnswers() are slow (a checkpoint copy, speech synthesis): the GUI calls
// them on a worker thread. Errors: xopd::Error naming the folder or file at fault.

#include "core/audio/AudioClip.h"
#include "core/distill/DistillConfig.h"
#include "core/run/RunController.h"

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <utility>

namespace xopd::session {

/// A run continued from its run folder.
struct ResumedRun {
    std::unique_ptr<run::RunController> control;  ///< not started
    std::string latest_checkpoint;  ///< folder it continues from ("" = from the start)
    int64_t checkpoint_step = 0;    ///< the step that checkpoint holds (0 = none)
};

class Session {
public:
    explicit Session(std::string workspace = {});

    const std::string& workspace() const { return workspace_; }
    void setWorkspace(std::string workspace) { workspace_ = std::move(workspace); }
    /// WORKSPACE/runs.
    std::string runsFolder() const;

    /// An unused folder for a new run: runs/<yyyyMMdd-HHmmss>-<method>, with -2, -3 … appended when
    /// taken (local time `now`).
    std::string newRunFolder(const std::string& method, std::time_t now = std::time(nullptr)) const;
    /// Throws xopd::Error naming the folder or file when a model of `config` is not there: a Hugging
    /// Face folder without a readable config.json, a demo kit missing a part, a missing prompt
    /// manifest. Cheap (JSON files only); the weights are checked when the run loads them.
    static void requireModels(const distill::DistillConfig& config);
    /// A new run of `config` (validated, requireModels) in a new folder; its run.json is written,
    /// it is not started. Nothing is created when a check fails. The folder goes to `dir_out`.
    std::unique_ptr<run::RunController> newRun(const distill::DistillConfig& config, std::string* dir_out) const;
    /// The run of `dir`, continued from its latest checkpoint (not started).
    ResumedRun resumeRun(const std::string& dir) const;
    /// Checks that `dir` holds a run with a checkpoint at `step` and names the fork's folder:
    /// runs/<id>-fork-<step>, with -2, -3 … appended when taken. Cheap: no copying.
    std::string planFork(const std::string& dir, int64_t step) const;
    /// Makes `child` a fork of `dir` at `step` (run::forkRun: copies the checkpoint and the store).
    void fork(const std::string& dir, const std::string& child, int64_t step) const;
    /// Throws unless `dir` has a run store to follow (its metrics database).
    static void requireFollowable(const std::string& dir);
    /// Speech for a student's and a teacher's answer ("(no answer)" for an empty one).
    static std::pair<audio::AudioClip, audio::AudioClip> speakAnswers(const std::string& student,
                                                                      const std::string& teacher);

private:
    std::string workspace_;
};

}  // namespace xopd::session
