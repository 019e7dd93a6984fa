#pragma once
// Stops runs that a front end lets go of (a new run replaces the monitor's, the window closes)
// without waiting for them on the caller's thread: each retired run is asked to stop (it finishes
// its step and writes its checkpoint) and is joined and destroyed on a thread of its own.
//
//   RunRetirement retired;             // lives as long as the front end
//   retired.retire(std::move(old));    // returns at once
//
// The destructor joins the runs still stopping, so that a program exits only after its runs have
// checkpointed: that one wait happens where the owner is destroyed, at shut-down.
// Torch-free (widgets/ use it). Threading: retire() from any thread.

#include "core/run/RunControl.h"

#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace xopd::run {

class RunRetirement {
public:
    RunRetirement() = default;
    ~RunRetirement();
    RunRetirement(const RunRetirement&) = delete;
    RunRetirement& operator=(const RunRetirement&) = delete;

    /// Stops `run` when it is live and destroys it on a thread of its own. Null is ignored.
    void retire(std::unique_ptr<RunControl> run);

private:
    std::mutex mutex_;
    std::vector<std::thread> threads_;
};

}  // namespace xopd::run
