#pragma once
// A tiny self-contained language model over a toy vocabulary, implementing Policy. It lets the
// trainer, the run controller, the CLI and the tests run the whole method in seconds with no model
// files. Not a transformer: logits_t = W_out·(h + tanh(W_1 h + b_1)) + b_out with
// h = tanh(E_1[y_{t−1}] + E_2[y_{t−2}] + P[t] + c), where c is the prompt context: the mean prompt
// embedding (text stream) or A times that vector, A a frozen "audio tower" (speech stream). So a
// student built from a teacher plus noise, with A ≠ I, has a speech-vs-text gap to close.
//
// Ids: 0 = pad / start, 1 = stop (EOS), 2 = a kept special id, V−1 = a modality-specific special
// id (not comparable: never sampled, masked). Prompt text bytes map to ids 3 … V−2.
//
// Threading: one thread at a time. Lifetime: plain object owned by the trainer.

#include "core/distill/Policy.h"

#include <cstdint>
#include <memory>
#include <string>

namespace xopd::distill {

/// Shape and initialisation of a toy model.
struct ToyPolicyOptions {
    /// Vocabulary rows (>= 8).
    int64_t vocab = 32;
    /// Hidden width.
    int64_t hidden = 32;
    /// Longest response position with its own embedding (later positions share the last).
    int64_t max_positions = 256;
    /// Seed of the teacher weights (a student starts from the same teacher weights plus noise).
    uint64_t teacher_seed = 1234;
    /// Seed of the student's perturbation.
    uint64_t student_seed = 99;
    /// Std of the noise added to the teacher's weights to make the student (0 = student == teacher).
    double student_noise = 0.35;
    /// Distortion of the frozen audio tower A = I + d·G/√hidden (0 = speech equals text).
    double speech_distortion = 0.8;
    /// Logit of the stop token relative to others (sets the mean response length).
    double stop_bias = 1.2;
    /// Scale of the output layer (larger = peakier distributions).
    double output_scale = 2.0;
};

class ToyPolicy : public Policy {
public:
    /// Builds the teacher (student = false) or the student (student = true) of a toy pair.
    ToyPolicy(const ToyPolicyOptions& options, bool student);
    ~ToyPolicy() override;

    Rollouts sample(const std::vector<PromptItem>& prompts, Stream stream, int64_t m, const SamplingOptions& options,
                    torch::Generator& generator) override;
    torch::Tensor responseLogits(const std::vector<PromptItem>& prompts, const std::vector<int64_t>& prompt_index,
                                 Stream stream, const torch::Tensor& tokens, const torch::Tensor& mask) override;
    std::vector<torch::Tensor> trainableParameters() override;
    std::vector<std::pair<std::string, torch::Tensor>> trainableState() override;
    void loadTrainableState(const std::vector<std::pair<std::string, torch::Tensor>>& state,
                            const std::string& source) override;
    void saveCheckpoint(const std::string& folder) override;
    int64_t vocabSize() const override;
    torch::Tensor comparableIds() const override;
    std::vector<int64_t> stopIds() const override;
    std::string tokenText(int64_t id) const override;
    std::vector<int64_t> encodeAnswer(const std::string& text) const override;
    torch::Device device() const override;
    std::string describe() const override;

    /// Prompt text → toy ids (bytes folded into 3 … V−2).
    std::vector<int64_t> encodePrompt(const std::string& text) const;
    /// Freezes everything (teacher use).
    void freeze();

private:
    struct Net;
    torch::Tensor context(const std::vector<PromptItem>& prompts, const std::vector<int64_t>& prompt_index,
                          Stream stream);
    torch::Tensor stepLogits(const torch::Tensor& prev1, const torch::Tensor& prev2, int64_t t,
                             const torch::Tensor& ctx);

    ToyPolicyOptions options_;
    bool student_;
    std::shared_ptr<Net> net_;
};

/// Built-in toy prompt set: `count` short arithmetic-style prompts with reference answers.
std::vector<PromptItem> toyPrompts(int64_t count);

}  // namespace xopd::distill
