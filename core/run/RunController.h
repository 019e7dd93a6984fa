#pragma once
// RunController: the RunControl implementation. Owns one worker thread that builds the models,
// steps the Trainer, writes the run store and checkpoints, and reports every event to observers.
//
//   RunOptions o; o.run_dir = "runs/r1";
//   RunController c(config, o);              // new run: creates runs/r1 with run.json
//   auto c = RunController::resume("runs/r1", o);   // continue from checkpoints/latest
//   c.addObserver(&printer); c.start(); ... c.pause(); c.setKnob("lambda", 0.3); c.resume(); c.wait();
//
// Commands (pause / resume / stop / cancel / setKnob) may come from any thread; they are atomics
// plus a small mutex-protected knob queue that the worker reads between optimizer steps (and while
// paused). Pause waits on a condition variable. NaN/Inf in the loss or gradients pauses the run
// with the reason (train.pause_on_nan) or fails it. Stop checkpoints and keeps the folder
// (resumable); cancel deletes the run folder. Hot edits are recorded in the events table and saved
// with every checkpoint.
//
// Data parallel (RunOptions::group): every rank of the job runs a controller over the same run
// folder (shared storage). Rank 0 is the run as above: it takes commands, writes run.json, the run
// store, run.log and checkpoints, and broadcasts its commands before each step (RankControl.h).
// The other ranks write nothing: they follow rank 0's commands, load the checkpoint rank 0 loaded
// on resume, and report only to their own observers. A rank that dies makes the others fail with
// a reason naming it (dist::Group).
//
// Torch-free header. Lifetime: the destructor stops a live run (checkpoint) and joins the worker.

#include "core/distill/DistillConfig.h"
#include "core/run/RunControl.h"
#include "core/run/RunFolder.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace xopd::dist {
class Group;
}
namespace xopd::distill {
struct RunModels;
class Trainer;
}  // namespace xopd::distill

namespace xopd::run {

class RunStore;
struct ControlMessage;

/// Builds models and prompts from a config (default: distill::makeRunModels). Tests inject their own.
using ModelFactory = std::function<std::shared_ptr<distill::RunModels>(const distill::DistillConfig&)>;

/// How a controller runs.
struct RunOptions {
    /// Run folder. A new run creates it (it must not already hold a run.json); resume reads it.
    std::string run_dir;
    /// Overrides train.max_steps when > 0 (CLI --max-steps; also on resume).
    int64_t max_steps = 0;
    /// Model factory; empty = distill::makeRunModels.
    ModelFactory factory;
    /// Data-parallel job this process is a rank of; null = the single process.
    std::shared_ptr<dist::Group> group;
};

class RunController : public RunControl {
public:
    /// A new run: validates `config`, creates run_dir and writes run.json (resolved config, program
    /// version, creation time; model/data fingerprints are added when the worker loads them).
    RunController(distill::DistillConfig config, RunOptions options);
    /// Continues the run in options.run_dir from its latest checkpoint (config from its run.json);
    /// steps after that checkpoint are deleted from the store and recomputed.
    static std::unique_ptr<RunController> resume(RunOptions options);
    ~RunController() override;

    void start() override;
    void pause() override;
    void resume() override;
    void stop() override;
    void cancel() override;
    void wait() override;
    /// Knobs and their ranges: distill::hotKnobs() (Knobs.h).
    void setKnob(const std::string& name, double value) override;
    RunState state() const override { return state_.load(); }
    std::string runDir() const override { return options_.run_dir; }
    void addObserver(RunObserver* observer) override;
    void removeObserver(RunObserver* observer) override;

    /// Reason of the last pause or failure ("" when none).
    std::string lastReason() const;
    /// Completed optimizer steps (updated by the worker after each step).
    int64_t completedSteps() const { return steps_.load(); }
    /// The config (as in run.json; hot edits are in the events table).
    const distill::DistillConfig& config() const { return config_; }

private:
    struct ResumeTag {};
    RunController(ResumeTag, distill::DistillConfig config, RunOptions options);
    void work();
    /// Opens the run store if the run failed before it did, so the failure is recorded.
    void recordFailureStore();
    void setup();
    void applyKnobs(std::deque<std::pair<std::string, double>> pending);
    /// This turn's commands: the controller's own, or in a data-parallel job rank 0's (RankControl.h).
    ControlMessage syncCommands();
    /// A rank other than 0 of a data-parallel job: writes nothing, follows rank 0's commands.
    bool follower() const;
    void checkpoint();
    void emitState(RunState s, const std::string& reason);
    void log(LogLevel level, const std::string& message);
    template <class F>
    void notify(F&& f);

    distill::DistillConfig config_;
    RunOptions options_;
    bool resuming_ = false;
    std::thread worker_;
    std::atomic<RunState> state_{RunState::Idle};
    std::atomic<bool> pause_requested_{false};
    std::atomic<bool> stop_requested_{false};
    std::atomic<bool> cancel_requested_{false};
    std::atomic<int64_t> steps_{0};
    mutable std::mutex mutex_;  ///< guards knobs_, observers_, reason_
    std::condition_variable cv_;
    std::deque<std::pair<std::string, double>> knobs_;
    std::vector<RunObserver*> observers_;
    std::string reason_;
    // Worker-only state.
    std::shared_ptr<distill::RunModels> models_;
    std::unique_ptr<distill::Trainer> trainer_;
    std::unique_ptr<RunStore> store_;
    /// This controller is the run folder's one writer from construction until the run ends.
    std::unique_ptr<RunFolderLock> writer_lock_;
    int64_t last_checkpoint_step_ = -1;
    double started_ = 0.0;
};

}  // namespace xopd::run
