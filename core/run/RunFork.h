#pragma once
// Fork a run from one of its checkpoints into a new run folder that records its parent (W&B's
// fork_from): the child starts as a copy of the parent up to step N and is then continued with
// RunController::resume(), so the two runs share steps 1..N and diverge afterwards (for example
// after a hot edit of λ).
//
//   forkRun("runs/a", "runs/a-fork-120", 120);
//   auto c = RunController::resume({"runs/a-fork-120"});  c->start();
//
// The child's run.json is the parent's with a new run_id / created time and
// "parent": {"run_id", "dir", "step"}; checkpoints/step-N is copied and named latest; the parent's
// metrics.sqlite is copied and truncated after step N; a "fork" event is recorded. The parent is
// only read. Torch-free. Threading: plain function; do not fork a checkpoint that is being written.

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::run {

/// Steps that have a complete checkpoint in a run folder, ascending (empty when none).
std::vector<int64_t> checkpointSteps(const std::string& run_dir);

/// Throws xopd::Error naming the folder, and listing the steps it has, unless `run_dir` has a
/// complete checkpoint at `step`.
void requireCheckpointAt(const std::string& run_dir, int64_t step);

/// Creates `child_dir` as a fork of `parent_dir` at checkpoint `step`. Throws xopd::Error naming
/// the folder when the parent has no such checkpoint (listing the ones it has) or the child folder
/// already holds a run. Returns the child's run id.
std::string forkRun(const std::string& parent_dir, const std::string& child_dir, int64_t step);

}  // namespace xopd::run
