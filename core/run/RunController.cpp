#include "core/run/RunController.h"

#include "core/serve/TeacherClient.h"

#include "core/common/Clock.h"
#include "core/common/SystemMemory.h"
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/dist/Group.h"
#include "core/distill/DataParallel.h"
#include "core/distill/Knobs.h"
#include "core/distill/RunEstimate.h"
#include "core/distill/RunModels.h"
#include "core/distill/Trainer.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/Fingerprint.h"
#include "core/run/RankControl.h"
#include "core/run/RunFolder.h"
#include "core/run/RunStore.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace xopd::run {
namespace {

const char* levelName(LogLevel l) {
    switch (l) {
        case LogLevel::Debug: return "debug";
        case LogLevel::Info: return "info";
        case LogLevel::Warning: return "warning";
        case LogLevel::Error: return "error";
        default: return "log";
    }
}

}  // namespace

RunController::RunController(distill::DistillConfig config, RunOptions options)
    : config_(std::move(config)), options_(std::move(options)) {
    if (options_.max_steps > 0) config_.train.max_steps = options_.max_steps;
    const RunFolder folder(options_.run_dir);
    config_.validate(folder.runJsonPath());
    if (follower()) return;  // rank 0 creates the folder and is its one writer
    folder.createFolder();
    writer_lock_ = folder.lockForWriting();  // before run.json: replacing a folder needs its lock
    folder.create(config_);
}

RunController::RunController(ResumeTag, distill::DistillConfig config, RunOptions options)
    : config_(std::move(config)), options_(std::move(options)), resuming_(true) {
    if (follower()) return;
    writer_lock_ = RunFolder(options_.run_dir).lockForWriting();  // refuses a second writer
}

std::unique_ptr<RunController> RunController::resume(RunOptions options) {
    auto config = RunFolder(options.run_dir).readConfig();
    return std::unique_ptr<RunController>(new RunController(ResumeTag{}, std::move(config), std::move(options)));
}

RunController::~RunController() {
    if (worker_.joinable()) {
        stop();
        worker_.join();
    }
}

void RunController::start() {
    std::lock_guard<std::mutex> lock(mutex_);
    XOPD_CHECK(!worker_.joinable() && state_.load() == RunState::Idle, "run '" << options_.run_dir << "' was already started");
    state_ = RunState::Running;
    worker_ = std::thread([this] { work(); });
}

void RunController::pause() {
    pause_requested_ = true;
    RunState expected = RunState::Running;
    state_.compare_exchange_strong(expected, RunState::Pausing);
    cv_.notify_all();
}

void RunController::resume() {
    pause_requested_ = false;
    cv_.notify_all();
}

void RunController::stop() {
    stop_requested_ = true;
    const RunState s = state_.load();
    if (s == RunState::Running || s == RunState::Pausing || s == RunState::Paused) state_ = RunState::Stopping;
    cv_.notify_all();
}

void RunController::cancel() {
    cancel_requested_ = true;
    cv_.notify_all();
}

void RunController::wait() {
    if (worker_.joinable()) worker_.join();
}

void RunController::setKnob(const std::string& name, double value) {
    distill::knob(name).check(value, "knob '" + name + "'");  // Knobs.h: the one table of ranges
    {
        std::lock_guard<std::mutex> lock(mutex_);
        knobs_.emplace_back(name, value);
    }
    cv_.notify_all();
}

void RunController::addObserver(RunObserver* observer) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (std::find(observers_.begin(), observers_.end(), observer) == observers_.end()) observers_.push_back(observer);
}

void RunController::removeObserver(RunObserver* observer) {
    std::lock_guard<std::mutex> lock(mutex_);
    observers_.erase(std::remove(observers_.begin(), observers_.end(), observer), observers_.end());
}

std::string RunController::lastReason() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return reason_;
}

template <class F>
void RunController::notify(F&& f) {
    std::vector<RunObserver*> copy;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        copy = observers_;
    }
    for (auto* o : copy) f(*o);
}

bool RunController::follower() const { return options_.group && options_.group->rank() != 0; }

void RunController::log(LogLevel level, const std::string& message) {
    if (!follower()) {
        std::ofstream out(fs::path(options_.run_dir) / kLogFile, std::ios::app);
        if (out) out << utcTimestamp() << " " << levelName(level) << ": " << message << "\n";
    }
    notify([&](RunObserver& o) { o.onLog(level, message); });
}

void RunController::emitState(RunState s, const std::string& reason) {
    state_ = s;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!reason.empty()) reason_ = reason;
    }
    if (store_) {
        RunEventRecord e;
        e.step = steps_.load();
        e.kind = event_kind::kState;
        e.name = runStateName(s);
        e.value = std::nan("");
        e.message = reason;
        try {
            store_->addEvent(e);
        } catch (const Error&) {
        }
    }
    if (s != RunState::Cancelled)
        log(LogLevel::Info, std::string("state: ") + runStateName(s) + (reason.empty() ? "" : " (" + reason + ")"));
    // The run has written its last: let the next writer in before anyone hears that it ended.
    const bool ended = s == RunState::Finished || s == RunState::Stopped || s == RunState::Failed || s == RunState::Cancelled;
    if (ended) writer_lock_.reset();
    notify([&](RunObserver& o) { o.onStateChanged(s, reason); });
}

void RunController::recordFailureStore() {
    // A run that failed before its store was opened (clearing a partial checkpoint, say) still
    // records "failed" with the reason: without a state event its history row would say "unknown".
    if (store_ || follower()) return;
    try {
        store_ = std::make_unique<RunStore>(options_.run_dir);
    } catch (const std::exception&) {
    }
}

void RunController::setup() {
    started_ = nowUnixSeconds();
    // Left by a checkpoint that was killed or failed (a full disk): free the space first.
    if (resuming_ && !follower()) removeCheckpointLeftovers(options_.run_dir);
    // The store first: a run that fails while its models load is recorded as failed, with the reason.
    if (!follower()) store_ = std::make_unique<RunStore>(options_.run_dir);
    auto factory = options_.factory ? options_.factory : ModelFactory(&distill::makeRunModels);
    // LOCAL_RANK picks the GPU: a bare "cuda" becomes this rank's cuda:LOCAL_RANK (run.json keeps "cuda").
    auto modelConfig = config_;
    if (options_.group) {
        const std::string local = "cuda:" + std::to_string(options_.group->env().local_rank);
        if (modelConfig.train.device == "cuda") modelConfig.train.device = local;
        if (modelConfig.train.teacher_device == "cuda") modelConfig.train.teacher_device = local;
    }
    models_ = factory(modelConfig);
    XOPD_CHECK(models_ && models_->student && models_->teacher, "run '" << options_.run_dir << "': the model factory returned no models");
    // Before the first rollout allocates anything large: does the run fit this machine?
    const auto estimate = distill::estimateRun(config_, models_->student_parameters, models_->teacher_parameters,
                                               distill::modelShapesOf(config_));
    distill::checkRunFitsMemory(config_, estimate, physicalMemoryBytes(), "run '" + options_.run_dir + "'");
    trainer_ = std::make_unique<distill::Trainer>(config_, models_->student, models_->teacher, models_->prompts);
    log(LogLevel::Info, "student: " + models_->student->describe() + "; teacher: " + models_->teacher->describe());

    // Fingerprints into run.json (once; a resume checks nothing changed silently by logging them).
    const RunFolder folder(options_.run_dir);
    nlohmann::json fp = models_->fingerprints;
    if (!models_->student_dir.empty()) fp["student"] = {{"folder", models_->student_dir}, {"sha256", fingerprintPath(models_->student_dir)}};
    if (!models_->teacher_dir.empty()) fp["teacher"] = {{"folder", models_->teacher_dir}, {"sha256", fingerprintPath(models_->teacher_dir)}};
    if (!models_->manifest.empty()) fp["data"] = {{"manifest", models_->manifest}, {"sha256", fingerprintPath(models_->manifest)}};
    if (follower()) {
        // rank 0 records the fingerprints
    } else if (!resuming_) {
        folder.writeFingerprints(fp);
    } else if (folder.fingerprints() != fp) {
        log(LogLevel::Warning, "model or data fingerprints differ from run.json (files changed since the run started)");
    }

    if (resuming_ && follower()) {
        // The checkpoint rank 0 loaded (it may have skipped a corrupt newer one), from shared storage.
        std::vector<double> step{0};
        step = distill::dp::allreduceSum(*options_.group, step);
        if (step[0] >= 0) {
            std::string dir;
            for (const auto& cp : listCheckpoints(options_.run_dir))
                if (checkpointStep(fs::path(cp).filename().string()) == int64_t(step[0])) dir = cp;
            XOPD_CHECK(!dir.empty(), "run '" << options_.run_dir << "': rank 0 resumed from step " << step[0]
                                             << ", a checkpoint this rank cannot see (is the run folder on shared storage?)");
            trainer_->loadState(dir);
        }
    } else if (resuming_) {
        const std::string newest = latestCheckpoint(options_.run_dir);
        std::string latest;  // the checkpoint actually loaded
        if (!newest.empty()) {
            // The newest first, then the older complete ones: a corrupt file (optimizer.pt, ...) in
            // the newest costs the steps since the previous checkpoint, not the run.
            std::vector<std::string> candidates{newest};
            const int64_t newestStep = checkpointStep(fs::path(newest).filename().string());
            const auto all = listCheckpoints(options_.run_dir);
            for (auto it = all.rbegin(); it != all.rend(); ++it)
                if (checkpointStep(fs::path(*it).filename().string()) < newestStep) candidates.push_back(*it);
            std::string firstError;
            for (const auto& cp : candidates) {
                try {
                    trainer_->loadState(cp);
                    latest = cp;
                    break;
                } catch (const std::exception& err) {
                    if (firstError.empty()) firstError = err.what();
                    log(LogLevel::Warning, "checkpoint '" + cp + "' cannot be loaded: " + err.what() +
                                               (&cp != &candidates.back() ? "; trying the previous complete checkpoint" : ""));
                    // A failed load may have set part of the state: start the next try afresh.
                    trainer_ = std::make_unique<distill::Trainer>(config_, models_->student, models_->teacher, models_->prompts);
                }
            }
            XOPD_CHECK(!latest.empty(), "run '" << options_.run_dir << "': none of its " << candidates.size()
                                                << " checkpoints can be loaded; the newest: " << firstError);
            last_checkpoint_step_ = trainer_->completedSteps();
        }
        if (options_.group) {  // tell the other ranks which step to load (-1: none); only rank 0 adds
            distill::dp::allreduceSum(*options_.group, {latest.empty() ? -1.0 : double(trainer_->completedSteps())});
        }
        const int64_t step = trainer_->completedSteps();
        store_->deleteAfter(step);
        RunEventRecord e;
        e.step = step;
        e.kind = event_kind::kResume;
        e.name = latest.empty() ? "" : fs::path(latest).filename().string();
        e.value = double(step);
        e.message = latest.empty() ? "no checkpoint: starting from step 0" : "resumed from " + latest;
        if (!latest.empty() && latest != newest) e.message += " (the newer '" + newest + "' cannot be loaded)";
        store_->addEvent(e);
        log(LogLevel::Info, e.message);
    }
    if (options_.max_steps > 0) trainer_->setMaxSteps(options_.max_steps);
    if (options_.group) {
        trainer_->setDataParallel(options_.group);
        log(LogLevel::Info, "data parallel: " + options_.group->env().describe());
    }
    steps_ = trainer_->completedSteps();
    RunEventRecord plan;
    plan.step = steps_.load();
    plan.kind = event_kind::kPlan;
    plan.name = "max_steps";
    plan.value = double(trainer_->maxSteps());
    if (store_) store_->addEvent(plan);
    const int64_t maxSteps = trainer_->maxSteps();
    notify([&](RunObserver& o) { o.onPlan(maxSteps); });
}

ControlMessage RunController::syncCommands() {
    std::deque<std::pair<std::string, double>> pending;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        pending.swap(knobs_);
        if (options_.group) {  // at most kKnobsPerTurn travel now; the rest wait for the next turn
            while (pending.size() > kKnobsPerTurn) {
                knobs_.push_front(pending.back());
                pending.pop_back();
            }
        }
    }
    // One snapshot per turn: a command that arrives later waits for the next turn (on rank 0 too,
    // or it would act on a command the other ranks have not heard of).
    ControlMessage mine;
    mine.stop = stop_requested_;
    mine.cancel = cancel_requested_;
    mine.pause = pause_requested_;
    mine.knobs = std::move(pending);
    if (!options_.group) return mine;
    if (follower()) mine.knobs.clear();
    return exchangeControl(*options_.group, mine);  // rank 0's commands, on every rank
}

void RunController::applyKnobs(std::deque<std::pair<std::string, double>> pending) {
    for (const auto& [name, value] : pending) {
        const double old = trainer_->setKnob(name, value);
        if (name == "max_steps") {
            const int64_t m = trainer_->maxSteps();
            notify([&](RunObserver& o) { o.onPlan(m); });
        }
        RunEventRecord e;
        e.step = trainer_->completedSteps();
        e.kind = event_kind::kKnob;
        e.name = name;
        e.value = value;
        std::ostringstream msg;
        msg << name << ": " << old << " -> " << value;
        e.message = msg.str();
        if (store_) store_->addEvent(e);
        log(LogLevel::Info, "hot edit " + e.message + " (before step " + std::to_string(e.step + 1) + ")");
    }
}

void RunController::checkpoint() {
    const int64_t step = trainer_->completedSteps();
    if (step == last_checkpoint_step_ || follower()) return;  // rank 0 writes the (identical) state
    const std::string tmp = beginCheckpoint(options_.run_dir, step);
    std::string dir;
    try {
        trainer_->saveState(tmp);
        dir = commitCheckpoint(options_.run_dir, tmp, step, config_.train.keep_checkpoints);
    } catch (...) {
        // A failed write (a full disk): drop the partial folder; the previous checkpoint and
        // `latest` stay as they were, and the run ends failed with the reason.
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
    last_checkpoint_step_ = step;
    RunEventRecord e;
    e.step = step;
    e.kind = event_kind::kCheckpoint;
    e.name = fs::path(dir).filename().string();
    e.value = double(step);
    store_->addEvent(e);
    notify([&](RunObserver& o) { o.onCheckpoint(step, dir); });
}

void RunController::work() {
    try {
        setup();
        emitState(RunState::Running, resuming_ ? "resumed" : "");
        bool paused = false;
        while (true) {
            const ControlMessage turn = syncCommands();
            applyKnobs(turn.knobs);
            if (turn.cancel) break;
            if (turn.stop) {
                checkpoint();
                emitState(RunState::Stopped, "stopped by the user");
                return;
            }
            if (turn.pause) {
                if (!paused) {
                    paused = true;
                    std::string reason;
                    {
                        std::lock_guard<std::mutex> lock(mutex_);
                        reason = reason_.empty() ? "paused by the user" : reason_;
                    }
                    emitState(RunState::Paused, reason);
                }
                if (follower()) continue;  // the next turn's broadcast waits for rank 0
                std::unique_lock<std::mutex> lock(mutex_);
                const auto wake = [&] { return !pause_requested_ || stop_requested_ || cancel_requested_ || !knobs_.empty(); };
                // Data parallel: wake each second to repeat the pause to the other ranks (RankControl.h).
                if (options_.group) cv_.wait_for(lock, std::chrono::seconds(1), wake);
                else cv_.wait(lock, wake);
                continue;
            }
            if (paused) {
                paused = false;
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    reason_.clear();
                }
                emitState(RunState::Running, "resumed");
            }
            if (trainer_->completedSteps() >= trainer_->maxSteps()) {
                checkpoint();
                emitState(RunState::Finished, "");
                return;
            }
            distill::StepOutput out;
            try {
                out = trainer_->step();
            } catch (const serve::TeacherUnreachable& e) {
                // The trainer rewound the step: pause with the reason (the GUI's Resume, or a
                // headless run's stop + --resume, tries it again). Data parallel: every rank got it
                // at this same step (Trainer: the ranks agree after scoring); rank 0 pauses, and
                // its next turn's broadcast pauses the others.
                log(LogLevel::Warning, std::string(e.what()) + "; pausing before step " + std::to_string(trainer_->completedSteps() + 1));
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    reason_ = e.what();
                }
                if (!follower()) pause_requested_ = true;
                continue;
            }
            if (out.nonfinite) {
                RunEventRecord e;
                e.step = trainer_->completedSteps() + 1;
                e.kind = event_kind::kNan;
                e.name = "nonfinite";
                e.value = std::nan("");
                e.message = out.nonfinite_reason;
                if (store_) store_->addEvent(e);
                log(LogLevel::Warning, "step " + std::to_string(e.step) + ": " + out.nonfinite_reason + "; update skipped");
                if (!config_.train.pause_on_nan) throw Error("step " + std::to_string(e.step) + ": " + out.nonfinite_reason);
                if (follower()) continue;  // rank 0 pauses, and says so in the next turn
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    reason_ = out.nonfinite_reason;
                }
                pause_requested_ = true;
                continue;
            }
            out.metrics.wall_time_s = nowUnixSeconds() - started_;
            out.metrics.unix_time_s = nowUnixSeconds();
            if (store_) store_->commitStep(out.metrics, out.tokens, out.samples);
            steps_ = trainer_->completedSteps();
            notify([&](RunObserver& o) { o.onStep(out.metrics); });
            for (const auto& b : out.tokens) notify([&](RunObserver& o) { o.onTokens(b); });
            const int64_t every = config_.train.checkpoint_every;
            if (every > 0 && trainer_->completedSteps() % every == 0) checkpoint();
        }
        // Cancelled: discard the run folder (rank 0's job).
        store_.reset();
        trainer_.reset();
        models_.reset();
        std::error_code ec;
        if (!follower()) fs::remove_all(options_.run_dir, ec);
        emitState(RunState::Cancelled, ec ? "run folder not fully removed: " + ec.message() : "cancelled by the user");
    } catch (const c10::Error& e) {  // LibTorch's message without its C++ backtrace: no c10::Error leaves the core
        const std::string reason = e.what_without_backtrace();
        try {
            log(LogLevel::Error, reason);
        } catch (...) {
        }
        recordFailureStore();
        emitState(RunState::Failed, reason);
    } catch (const std::exception& e) {
        try {
            log(LogLevel::Error, e.what());
        } catch (...) {
        }
        recordFailureStore();
        emitState(RunState::Failed, e.what());
    }
}

}  // namespace xopd::run
