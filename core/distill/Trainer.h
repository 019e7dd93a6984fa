#pragma once
// One distillation run's optimisation loop, one optimizer step per call: draw a batch of prompts,
// sample rollouts from the student (per stream), score them with the teacher under the text
// prompt, build detached advantages, and update the student with gradient accumulation (the loss
// is normalised by the global sequence count, so splitting the batch does not change it).
// Methods: X-OPD, SFT, offline KD, GKD (DistillConfig.h). Metrics follow method.md §14.
//
//   Trainer t(config, student, teacher, prompts);
//   while (t.completedSteps() < t.maxSteps()) { auto out = t.step(); ... }
//   t.saveState(folder);  ...  t.loadState(folder);   // resumes bit-identically on CPU
//
// Threading: one thread at a time (the run controller's worker). Knob setters must be called
// between steps by that same thread. Lifetime: holds shared ownership of both policies.

#include "core/common/Tensors.h"
#include "core/distill/DistillConfig.h"
#include "core/distill/Policy.h"
#include "core/distill/RolloutScoring.h"
#include "core/distill/StepRecords.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace torch::optim {
class AdamW;  // <torch/optim/adamw.h>, included by Trainer.cpp only (core/common/Tensors.h)
}
#include <vector>

namespace xopd::dist {
class Group;
}

namespace xopd::distill {

/// What one step produced.
struct StepOutput {
    /// Scalars (and JSON metrics) of the step.
    StepMetrics metrics;
    /// Per-token records of the logged rollouts (train.log_token_samples).
    std::vector<TokenDivergenceBatch> tokens;
    /// Responses as text.
    std::vector<SampleRecord> samples;
    /// True when the loss or a gradient was NaN/Inf; the update was skipped and the step not counted.
    bool nonfinite = false;
    /// What was non-finite ("loss is nan", "gradient of 'toy.w1' is inf").
    std::string nonfinite_reason;
};

class Trainer {
public:
    /// `config` must be valid. The teacher is frozen and put in no-grad use; the student's
    /// trainable parameters go to an AdamW optimizer.
    Trainer(DistillConfig config, std::shared_ptr<Policy> student, std::shared_ptr<Policy> teacher,
            std::vector<PromptItem> prompts);
    ~Trainer();

    /// One optimizer step (or a skipped one when non-finite; see StepOutput). When a served
    /// teacher is unreachable (serve::TeacherUnreachable) nothing has changed: the data order and
    /// the generator are rewound, and the same step can be tried again. Data parallel: the ranks
    /// agree after the scoring phase (dp::teacherOutcome), so when any rank's teacher is
    /// unreachable every rank throws it at the same step, before any gradient is summed.
    StepOutput step();

    /// Completed optimizer steps.
    int64_t completedSteps() const { return step_; }
    /// Planned steps (train.max_steps, or epochs × batches per epoch).
    int64_t maxSteps() const { return max_steps_; }
    /// Prompts per optimizer step.
    int64_t promptsPerStep() const;

    /// Hot edits (between steps). Throw xopd::Error on out-of-range values.
    void setLambda(double lambda);
    void setLearningRate(double lr);
    void setTemperature(double temperature);
    void setMaxSteps(int64_t max_steps);
    /// Hot edit of a knob of Knobs.h by name (its range checked there); returns the old value
    /// (max_steps: the resolved plan). Throws xopd::Error for an unknown knob or a value out of range.
    double setKnob(const std::string& name, double value);
    /// The config with hot edits applied.
    const DistillConfig& config() const { return config_; }
    /// Learning rate of the next update (schedule applied).
    double nextLearningRate() const;

    /// Writes the resumable state into an existing folder: student weights in the model's format
    /// (Policy::saveCheckpoint), trainer_state.json (step, data cursor, knobs), trainable.pt
    /// (trainable tensors + RNG state) and optimizer.pt.
    void saveState(const std::string& folder);
    /// Restores a state written by saveState. Throws xopd::Error naming the file at fault.
    void loadState(const std::string& folder);

    /// Makes this trainer one rank of a data-parallel job (DataParallel.h): broadcasts the trainable
    /// weights from rank 0, then every step trains on this rank's shard of the global batch and
    /// sums gradients, normalisers and metrics over the ranks. Call after loadState (every rank
    /// loads the same checkpoint) and before the first step. Collective: all ranks call it.
    /// Throws xopd::Error when a step's prompts are fewer than the ranks.
    void setDataParallel(std::shared_ptr<dist::Group> group);

    /// The student (for evaluation hooks and tests).
    Policy& student() { return *student_; }
    Policy& teacher() { return *teacher_; }

private:
    struct StreamData;
    StepOutput stepOnce();
    void buildStreams(const std::vector<PromptItem>& batch, std::vector<StreamData>& streams, double& rollout_s,
                      double& teacher_s, StepOutput& out);
    void scoreStream(const std::vector<PromptItem>& batch, StreamData& s, double& teacher_s);
    std::vector<int64_t> fixedResponses(int64_t prompt_index, bool from_teacher);
    void collectMetrics(const std::vector<PromptItem>& batch, std::vector<StreamData>& streams, StepOutput& out);
    Rollouts sampleStream(const std::vector<PromptItem>& batch, Stream stream, int64_t m, const SamplingOptions& so);

    DistillConfig config_;
    std::shared_ptr<Policy> student_;
    std::shared_ptr<Policy> teacher_;
    std::vector<PromptItem> prompts_;
    std::vector<std::vector<int64_t>> reference_tokens_;  ///< per prompt: its reference answer's ids (SFT)
    std::unique_ptr<torch::optim::AdamW> optimizer_;
    std::vector<torch::Tensor> params_;
    torch::Generator generator_;
    struct Order;
    std::unique_ptr<Order> order_;
    std::unique_ptr<RolloutScorer> scorer_;  ///< scores rollouts (shared with the Ask screen)
    torch::Tensor comparable_;  ///< [V] bool over the shared vocabulary (the scorer's)
    int64_t vocab_ = 0;
    int64_t step_ = 0;
    int64_t max_steps_ = 0;
    std::map<int64_t, std::vector<int64_t>> teacher_answers_;  ///< offline KD / seq KD cache
    std::vector<int64_t> batch_indices_;  ///< prompt indices of the current step (this rank's shard)
    std::shared_ptr<dist::Group> group_;  ///< data-parallel job; null in a single process
    int64_t shard_offset_ = 0;            ///< where this rank's shard starts in the step's batch
};

}  // namespace xopd::distill
