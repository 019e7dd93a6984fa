#pragma once
// Builds what a run trains: the student and teacher policies and the prompt set, from a config.
// kind "toy" uses ToyPolicy and toyPrompts(); "demo" and "hf" load real checkpoints through the
// model runtime (core/model) and a JSONL manifest through core/data.
//
// Threading: call from the run's worker thread. Lifetime: the returned object owns the models.

#include "core/distill/DistillConfig.h"
#include "core/distill/Policy.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <vector>

namespace xopd::distill {

/// Student, teacher and prompts of one run.
struct RunModels {
    std::shared_ptr<Policy> student;
    std::shared_ptr<Policy> teacher;
    std::vector<PromptItem> prompts;
    /// Resolved folders / manifest of real models ("" for toy), fingerprinted into run.json.
    std::string student_dir, teacher_dir, manifest;
    /// sha256 of the model and data files ({"student": {file: sha}, "teacher": ..., "data": ...}).
    nlohmann::json fingerprints = nlohmann::json::object();
    /// Parameters of each model (0 when unknown, e.g. the toy models): the run's memory estimate.
    int64_t student_parameters = 0, teacher_parameters = 0;
};

/// Loads models and prompts for `config` (already validated). Throws xopd::Error naming the
/// folder or file at fault.
std::shared_ptr<RunModels> makeRunModels(const DistillConfig& config);

}  // namespace xopd::distill
