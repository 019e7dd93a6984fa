#pragma once
// Run set-up facade for front ends (the workbench's "Models and run set-up" screen): what a model
// folder holds, whether a teacher/student pair can be distilled, and a rough estimate of the
// memory and time a run needs. Wraps the checkpoint layer (InspectSummary.h), the vocabulary gate
// (VocabAlignment.h) and the tokenizer, so the GUI needs no model internals.
//
//   ModelFolderInfo t = inspectModelFolder("/models/teacher");   // t.summary, t.parameters
//   std::string r = compatibilityReport("/models/teacher", "/models/student");
//   RunEstimate e = estimateRun(config, s.parameters, t.parameters);   // e.text
//
// Torch-free header and implementation (reads JSON and safetensors headers only). Threading: pure
// functions; they read files, so call them off the GUI thread for large folders.

#include "core/distill/DistillConfig.h"
#include "core/distill/RunEstimate.h"

#include <cstdint>
#include <string>

namespace xopd::session {

/// What `xopd inspect` says about a folder, reduced to what the set-up screen shows.
struct ModelFolderInfo {
    /// The folder as given.
    std::string folder;
    /// True when every check passed (summary filled); false with `error` otherwise.
    bool ok = false;
    /// Multi-line inspect report (formatInspectReport).
    std::string summary;
    /// The first failed check, naming the file ("" when ok).
    std::string error;
    /// "qwen2", "qwen2_audio", "qwen2_5_omni_thinker", ... (model_type of config.json).
    std::string model_type;
    /// Total parameters.
    int64_t parameters = 0;
    /// Bytes of weight data.
    int64_t data_bytes = 0;
    /// True when the model has an audio tower (a student candidate).
    bool has_audio = false;
};

/// Inspects a model folder. Never throws: a failed check is reported in `error`.
ModelFolderInfo inspectModelFolder(const std::string& folder);

/// The compatibility gate's plain-words report for a pair (CompatibilityReport::text(): the verdict
/// on the first line, then one problem or note per line). Throws xopd::Error naming the folder whose config.json or
/// tokenizer cannot be read.
std::string compatibilityReport(const std::string& teacher_folder, const std::string& student_folder);

}  // namespace xopd::session
