#pragma once
// The gap explorer's engine, shared by `xopd eval --by FIELD` and the workbench's "Gap explorer"
// screen: reads a prompt manifest, puts each clip with a reference answer into its group (the
// manifest field; for `rate` without a "rate" field: the transcript's words per second of audio,
// in 0.5 w/s buckets), and evaluates each checkpoint on every clip — greedy answers to the speech
// and to the transcript (S, T) and the log-probs of the reference answer given either
// (eval/ModalityGap.h) — into one eval::GapTable (eval/GapBreakdown.h).
//
//   GapRequest r;  r.manifest = "kit/eval.jsonl";  r.by = "accent";
//   r.checkpoints = runGapCheckpoints("runs/r1");   // before = the initial student, after = latest
//   eval::GapTable t = exploreGaps(r);
//
// Torch-free header (the widgets call it). Threading: any thread; exploreGaps() loads models and
// takes seconds to minutes, so the GUI calls it on a worker thread. Errors: xopd::Error naming the
// manifest line, the folder or the bad value (an unknown `by` is refused before anything is read).

#include "core/eval/GapBreakdown.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace xopd::session {

/// One column of the breakdown: a name and a full model folder (config.json, tokenizer, weights).
struct GapCheckpoint {
    std::string name;
    std::string folder;
};

/// What to break down.
struct GapRequest {
    /// JSONL prompt manifest; items without a reference answer are skipped.
    std::string manifest;
    /// Only items of this split ("" = all).
    std::string split;
    /// voice, accent, rate, condition, tag or category (eval::parseGroupField).
    std::string by = "voice";
    /// Columns, in order; the last one orders the groups.
    std::vector<GapCheckpoint> checkpoints;
    /// "exact" or "contains" (eval::parseMatchMode).
    std::string match = "exact";
    /// Greedy decoding budget per answer.
    int64_t max_new_tokens = 16;
};

/// A run's columns: "before" = its initial student (the run.json student: a Hugging Face folder or
/// the demo kit's student) and "after" = its latest complete checkpoint. Throws xopd::Error for a
/// toy-model run, a run without a checkpoint, or a LoRA checkpoint (an adapter, not a model).
std::vector<GapCheckpoint> runGapCheckpoints(const std::string& run_dir);

/// A model folder as a column named by the folder ("runs/r1/checkpoints/step-000120/" -> "step-000120").
GapCheckpoint folderGapCheckpoint(const std::string& folder);

/// The request's clips with their groups (cheap: the manifest and, for `rate`, audio headers).
/// Throws xopd::Error for an unknown `by`, a bad manifest, or no item with a reference answer.
std::vector<eval::GapClip> gapClips(const GapRequest& request);

/// Evaluates every checkpoint on every clip and builds the table. `progress` (optional) gets one
/// line per checkpoint; a set `stop` flag ends the work between checkpoints with xopd::Error
/// "stopped".
eval::GapTable exploreGaps(const GapRequest& request, const std::function<void(const std::string&)>& progress = {},
                           const std::atomic<bool>* stop = nullptr);

}  // namespace xopd::session
