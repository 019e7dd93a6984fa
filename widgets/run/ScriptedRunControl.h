#pragma once
// A RunControl that simulates a distillation run on its own worker thread: it emits plausible,
// seeded step metrics for both streams (speech and text), token batches with top-k, logs,
// checkpoints and state changes, and honours pause / resume / stop / cancel and hot knob edits
// at step boundaries exactly like the real controller's contract (core/run/RunControl.h).
//
// It is a test double and a stand-in for screenshots and the GUI benchmark; it computes nothing.
// The workbench only uses it when started with --simulate. Thread-safe per RunControl's contract.

#include "core/run/RunControl.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace xopd::widgets {

struct ScriptedRunOptions {
    int64_t maxSteps = 60;        ///< steps until Finished
    int stepInterval_ms = 50;     ///< wall time per simulated step
    int samplesPerStep = 2;       ///< token batches per stream per step
    int tokensPerSample = 24;     ///< tokens per batch
    unsigned seed = 7;            ///< RNG seed of the synthetic data
    int64_t nanAtStep = 7;        ///< step whose grad_norm is NaN (0 = never), to exercise NaN marks
    int64_t failAtStep = 0;       ///< step at which the run fails (0 = never)
    std::string runDir;           ///< reported by runDir()
};

class ScriptedRunControl : public RunControl {
public:
    explicit ScriptedRunControl(ScriptedRunOptions options = {});
    ~ScriptedRunControl() override;

    void start() override;
    void pause() override;
    void resume() override;
    void stop() override;
    void cancel() override;
    void wait() override;
    void setKnob(const std::string& name, double value) override;
    RunState state() const override { return state_.load(); }
    std::string runDir() const override { return options_.runDir; }
    void addObserver(RunObserver* observer) override;
    void removeObserver(RunObserver* observer) override;

    /// Current knob values (for tests).
    double knob(const std::string& name) const;

private:
    void run();
    void setState(RunState s, const std::string& reason = {});
    template <class F>
    void notify(F&& f);

    ScriptedRunOptions options_;
    std::atomic<RunState> state_{RunState::Idle};
    std::atomic<bool> pauseRequested_{false}, stopRequested_{false}, cancelRequested_{false};
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<RunObserver*> observers_;
    double lambda_ = 0.5, lr_ = 2e-6, temperature_ = 1.0;
    std::thread worker_;
};

}  // namespace xopd::widgets
