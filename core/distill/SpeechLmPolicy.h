#pragma once
// Policy adapter over the model runtime: a Hugging Face folder (Qwen2 text model, Qwen2-Audio or
// Qwen2.5-Omni thinker) with its tokenizer and chat template. Student prompts are rendered with the
// model's own template: the speech stream's user turn is the audio (placeholders expanded to the
// clip's audio-token count, embeddings spliced in by SpeechLm::embedPrompt), the text stream's is
// the transcript. Sampling uses model::generate (KV cache, left padding, masked ids); teacher
// forcing uses model::score with the full distribution (fp32 log-probs, which the trainer treats
// as logits: log-softmax is invariant to the per-row shift).
//
// Training: "backbone" sets requires_grad on the decoder's weights (audio tower and projector
// frozen unless asked); "lora" wraps the decoder's linear layers (Lora.h). Checkpoints are HF
// folders (config.json + model.safetensors + tokenizer files) or PEFT adapters.
//
// Threading: one thread at a time. Lifetime: owns the model; outlives every call.

#include "core/distill/DistillConfig.h"
#include "core/distill/Lora.h"
#include "core/distill/Policy.h"
#include "core/model/runtime/VocabAlignment.h"

#include <map>
#include <memory>
#include <string>

namespace xopd::distill {

/// How to load one model.
struct SpeechLmPolicyOptions {
    /// Hugging Face folder.
    std::string folder;
    /// Load for training (student) or frozen inference (teacher).
    bool trainable = false;
    /// Weight dtype (Float or BFloat16).
    torch::ScalarType dtype = torch::kFloat32;
    /// Device.
    torch::Device device = torch::kCPU;
    /// What trains (student only).
    Trainable mode = Trainable::Backbone;
    /// LoRA shape (mode == Lora).
    LoraOptions lora;
    /// Also train the projector / the whole audio tower.
    bool train_projector = false;
    bool train_audio_tower = false;
    /// Train MoE routers (mlp.gate) too; frozen by default so that distillation cannot reshape the
    /// routing unless asked.
    bool train_router = false;
};

class SpeechLmPolicy : public Policy {
public:
    /// Loads model, tokenizer and chat template from options.folder. Throws xopd::Error naming it.
    explicit SpeechLmPolicy(const SpeechLmPolicyOptions& options);
    ~SpeechLmPolicy() override;

    /// Ids to treat as comparable (set from the teacher/student vocabulary alignment; [V] bool).
    void setComparableIds(const torch::Tensor& comparable);
    /// True when the model has an audio tower.
    bool hasAudio() const;
    /// Parameters of the whole model (audio tower, projector, decoder).
    int64_t parameterCount() const;
    /// What the vocabulary alignment needs to know about this model (rows, tokenizer size, stop
    /// and modality ids, token strings).
    model::VocabSide vocabSide(const std::string& name) const;

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
    /// MoE students: tokens per expert and router entropy of the training passes (scalars
    /// "moe/router_entropy", "moe/load_max_over_mean", "moe/experts_unused_share"; JSON
    /// "moe/tokens_per_expert" = {"<layer>": [counts], ...}).
    ModelStepStatistics takeStepStatistics() override;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace xopd::distill
