#pragma once
// What a running distillation reports, and the observer interface that carries it out of the core.
//
// The run controller calls a RunObserver from its worker thread, once per event, in order. An
// observer must return quickly and must not call back into the controller from these callbacks
// (the GUI bridge copies the event into a buffer and emits a queued signal; the CLI prints).
// The step records themselves (StepMetrics, SampleRecord, TokenRecord, TokenDivergenceBatch) are
// produced by the trainer and live in core/distill/StepRecords.h.
//
// Stability contract: widgets/ and the CLI build against these types. Add fields; do not rename or
// remove them.

#include "core/distill/StepRecords.h"

#include <string>

namespace xopd {

/// Life cycle of a run. Zero is invalid so an uninitialised value is caught.
enum class RunState {
    Invalid = 0,
    Idle,       ///< created, not started
    Running,    ///< worker is stepping
    Pausing,    ///< pause requested; takes effect at the next step boundary
    Paused,     ///< waiting between steps; knobs may be hot-edited
    Stopping,   ///< stop requested: finish the step, checkpoint, keep the run
    Stopped,    ///< stopped by the user; run folder kept, resumable
    Cancelled,  ///< cancelled by the user; run discarded
    Finished,   ///< reached max steps
    Failed,     ///< an error ended the run; reason in the event
};

/// Human-readable name of a state ("running", "paused", ...).
inline const char* runStateName(RunState s) {
    switch (s) {
        case RunState::Idle: return "idle";
        case RunState::Running: return "running";
        case RunState::Pausing: return "pausing";
        case RunState::Paused: return "paused";
        case RunState::Stopping: return "stopping";
        case RunState::Stopped: return "stopped";
        case RunState::Cancelled: return "cancelled";
        case RunState::Finished: return "finished";
        case RunState::Failed: return "failed";
        default: return "invalid";
    }
}

enum class LogLevel { Invalid = 0, Debug, Info, Warning, Error };

/// Receives every event of a run. Called on the run's worker thread. Default: ignore.
class RunObserver {
public:
    virtual ~RunObserver() = default;
    virtual void onStateChanged(RunState state, const std::string& reason) {}
    virtual void onStep(const StepMetrics& metrics) {}
    virtual void onTokens(const TokenDivergenceBatch& batch) {}
    virtual void onLog(LogLevel level, const std::string& message) {}
    virtual void onCheckpoint(int64_t step, const std::string& folder) {}
    /// Total planned steps changed (start, resume, hot edit of max_steps).
    virtual void onPlan(int64_t max_steps) {}
};

}  // namespace xopd
