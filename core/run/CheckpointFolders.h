#pragma once
// Atomic checkpoint folders of a run: RUN/checkpoints/step-NNNNNN/, written into a temporary
// folder and renamed into place, and RUN/checkpoints/latest (written atomically) naming the newest
// complete one. A crash at any point leaves the previous checkpoint and `latest` intact.
//
//   auto tmp = beginCheckpoint(run_dir, 120);    // RUN/checkpoints/.tmp-step-000120-<pid>/
//   ... write files into tmp ...
//   auto dir = commitCheckpoint(run_dir, tmp, 120, /*keep=*/3);   // rename, update latest, prune
//   auto latest = latestCheckpoint(run_dir);     // "" when none
//
// Torch-free. Threading: one writer per run folder (the run's worker).

#include "core/run/RunFolder.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::run {

/// "step-000120".
std::string checkpointName(int64_t step);

/// Creates and returns an empty temporary folder for the checkpoint of `step` (removing leftovers
/// of earlier crashed attempts).
std::string beginCheckpoint(const std::string& run_dir, int64_t step);

/// Removes the temporary folders (".tmp-*") that an interrupted or failed checkpoint left in
/// checkpoints/ (a resume calls it first: they may hold the space a full disk needs).
void removeCheckpointLeftovers(const std::string& run_dir);

/// Renames `tmp_dir` to checkpoints/step-NNNNNN (replacing an older folder of that step), writes
/// checkpoints/latest, and deletes the oldest complete checkpoints beyond `keep` (0 = keep all).
/// Returns the final folder.
std::string commitCheckpoint(const std::string& run_dir, const std::string& tmp_dir, int64_t step, int64_t keep);

/// File in checkpoints/ naming the newest complete checkpoint.
inline constexpr const char* kLatestFile = "latest";

/// Writes checkpoints/latest (atomically) naming the checkpoint of `step`.
void writeLatestCheckpoint(const std::string& run_dir, int64_t step);

/// What checkpoints/latest says ("" when it is missing); not checked against the folders.
std::string latestCheckpointName(const std::string& run_dir);

/// Folder of the newest complete checkpoint: the one `latest` names when it exists, else the
/// highest step-* folder; "" when there is none.
std::string latestCheckpoint(const std::string& run_dir);

/// Complete checkpoint folders, oldest first.
std::vector<std::string> listCheckpoints(const std::string& run_dir);

/// Step number of a checkpoint folder name ("step-000120" → 120); -1 when not one.
int64_t checkpointStep(const std::string& folder_name);

}  // namespace xopd::run
