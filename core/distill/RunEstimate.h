#pragma once
// What a run will need before it needs it: a back-of-the-envelope estimate of memory and step time
// from the config and the two models' parameter counts (the set-up screen shows it), and the gate
// that refuses a run whose estimate does not fit this machine's memory, with the numbers.
//
//   RunEstimate e = estimateRun(config, student_params, teacher_params);
//   checkRunFitsMemory(config, e, xopd::physicalMemoryBytes(), "run 'runs/a'");   // common/SystemMemory.h
//
// Torch-free (widgets/ include it). Threading: pure functions.

#include "core/distill/DistillConfig.h"
#include "core/model/checkpoint/ModelConfig.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::distill {

/// A back-of-the-envelope estimate for the set-up screen.
struct RunEstimate {
    /// Peak memory of the student device in GiB (weights + grads + Adam state + activations).
    double memory_gib = 0.0;
    /// Teacher memory in GiB (weights + activations; frozen, no optimizer).
    double teacher_memory_gib = 0.0;
    /// Seconds per optimizer step on the configured device: measured (a matching calibration), else
    /// rough (from the parameter counts); NaN when neither is known.
    double step_seconds = 0.0;
    /// True when step_seconds comes from a calibration (steps a run measured).
    bool step_time_measured = false;
    /// Rollout tokens sampled per step (both streams).
    double tokens_per_step = 0.0;
    /// Human-readable summary with the assumptions.
    std::string text;
};

/// The two models' shapes when they are Hugging Face folders (nullopt otherwise).
struct RunModelShapes {
    std::optional<ModelConfig> student, teacher;
};

/// Step times a run measured, to calibrate the estimate of runs with the same models on the same
/// device: step time scales with the sampled tokens per step.
struct StepTimeCalibration {
    /// stepTimeCalibrationKey() of the run that measured it.
    std::string key;
    /// Median measured step seconds divided by that run's estimated tokens_per_step.
    double seconds_per_token = 0.0;
    /// Steps measured (0 = no calibration).
    int64_t steps = 0;
    /// What measured it, for the text ("run 20261206-071500-x-opd").
    std::string source;
};

/// Student and teacher (kind and path) and device: runs with equal keys share a calibration.
std::string stepTimeCalibrationKey(const DistillConfig& config);

/// The calibration from a run's measured step seconds (the median of the given ones; the caller
/// passes the first few). steps = 0 when none is finite and positive.
StepTimeCalibration calibrateStepTime(const DistillConfig& run_config, const std::vector<double>& step_seconds,
                                      const std::string& source);

/// Reads the config.json of the config's "hf" models. Throws xopd::Error naming a malformed file.
RunModelShapes modelShapesOf(const DistillConfig& config);

/// Prompt tokens assumed per sequence when sizing memory from model shapes (prompts are not read).
inline constexpr int64_t kEstimatePromptTokens = 256;

/// Estimates from parameter counts (0 = unknown: toy models use a tiny built-in size; an unknown
/// teacher is reported unknown, never the student's count). With the models' shapes, memory is
/// `xopd inspect --memory`'s estimate (ModelBudget.h) at one micro-batch of sequences of
/// kEstimatePromptTokens + rollout.max_new_tokens tokens. The step time comes from `calibration`
/// when its key matches the config's, else from the parameter counts, else it is unknown (NaN,
/// "unknown" in the text) rather than a guess of zero.
RunEstimate estimateRun(const DistillConfig& config, int64_t student_parameters, int64_t teacher_parameters,
                        const RunModelShapes& shapes = {}, const StepTimeCalibration& calibration = {});


/// Throws xopd::Error naming `what`, the estimate and the memory when a run on the CPU needs more
/// than `available_bytes` (student and teacher together when both are on the CPU). CUDA devices
/// are not checked here (their memory is the driver's to report).
void checkRunFitsMemory(const DistillConfig& config, const RunEstimate& estimate, uint64_t available_bytes,
                        const std::string& what);

}  // namespace xopd::distill
