#pragma once
// Control surface of one distillation run, as front ends (CLI, GUI bridge) see it. Implemented by
// the run controller in core/run; torch-free so widgets/ can include it.
//
// Threading: every method may be called from any thread and returns at once; commands take effect
// at the next step boundary of the worker thread. Events arrive through RunObserver, on the worker.
// Lifetime: observers must outlive the run or be removed before they are destroyed.

#include "core/run/RunEvents.h"

#include <string>

namespace xopd {

class RunControl {
public:
    virtual ~RunControl() = default;

    virtual void start() = 0;   ///< launch the worker (or resume from the run folder's latest checkpoint)
    virtual void pause() = 0;   ///< pause at the next step boundary
    virtual void resume() = 0;  ///< continue after a pause
    virtual void stop() = 0;    ///< finish the step, checkpoint, keep the run (resumable)
    virtual void cancel() = 0;  ///< abandon the run and discard its folder
    /// Blocks until the worker has exited (for CLI / tests; never call from a GUI thread).
    virtual void wait() = 0;

    /// Hot edit between steps of a knob of distill::hotKnobs() (Knobs.h: lambda, lr, temperature,
    /// max_steps). Recorded in the run store.
    /// Throws xopd::Error for an unknown knob or an out-of-range value.
    virtual void setKnob(const std::string& name, double value) = 0;

    virtual RunState state() const = 0;
    virtual std::string runDir() const = 0;

    virtual void addObserver(RunObserver* observer) = 0;
    virtual void removeObserver(RunObserver* observer) = 0;
};

}  // namespace xopd
