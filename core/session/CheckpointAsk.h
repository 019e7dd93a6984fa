#pragma once
// The Ask screen's models for a run checkpoint. The trainer writes the student of every checkpoint
// of a real-model run (demo kit or Hugging Face folders) as a loadable Hugging Face folder,
// RUN/checkpoints/step-N/ (config.json, tokenizer, model.safetensors); asking "with a checkpoint"
// means the run's own config (RUN/run.json) with that folder as the student, the run's teacher
// and prompt manifest resolved to their folders (a demo-kit run names the kit's), and this
// machine's device and dtype.
//
// Threading: plain file reads, any thread (the Ask worker calls it). Errors: xopd::Error naming the
// folder: no readable run.json, a toy-model run (its checkpoints hold toy weights, not a model
// folder), a LoRA checkpoint (an adapter, not a whole model), a checkpoint without config.json.

#include "core/distill/DistillConfig.h"

#include <string>

namespace xopd::session {

/// `machine` gives train.device and train.dtype (the workbench's current set-up).
distill::DistillConfig checkpointAskConfig(const std::string& run_dir, const std::string& checkpoint_dir,
                                           const distill::DistillConfig& machine);

}  // namespace xopd::session
