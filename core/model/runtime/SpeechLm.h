#pragma once
// A (speech) language model: the Qwen2 decoder plus, for Qwen2-Audio and the Qwen2.5-Omni thinker,
// an audio encoder whose embeddings replace the <|AUDIO|> placeholders of the prompt (§3.2, §3.4, §4).
// A text model is the same class without an encoder, so generation and scoring take one type.
//
//   SpeechLm lm = loadModel("demo/student");
//   auto ids = lm.expandAudioPlaceholders(template_ids, {audioTokenCount(clip.valid_frames)});
//   torch::Tensor embeds = lm.embedPrompt(torch::tensor(ids), {clip});   // [T, H]
//
// Threading: const methods may run concurrently; see Qwen2Decoder. Lifetime: owns its weights
// (shared tensors, possibly memory-mapped copy-on-write pages of the checkpoint files).

#include "core/common/Tensors.h"
#include "core/model/runtime/AudioEncoder.h"
#include "core/model/runtime/Qwen2Decoder.h"
#include "core/model/runtime/RuntimeConfig.h"

#include <memory>
#include <string>
#include <vector>

namespace xopd::model {

class SpeechLm {
public:
    SpeechLm() = default;
    SpeechLm(ModelRuntimeConfig config, Qwen2Decoder decoder, std::shared_ptr<AudioEncoder> audio);

    const ModelRuntimeConfig& config() const { return config_; }
    Qwen2Decoder& decoder() { return decoder_; }
    const Qwen2Decoder& decoder() const { return decoder_; }
    /// The audio encoder, or nullptr for a text model.
    AudioEncoder* audioEncoder() const { return audio_.get(); }
    bool hasAudio() const { return audio_ != nullptr; }

    /// Processor step (§3.4): replaces each single <|AUDIO|> id by counts[k] copies, in order.
    /// Throws xopd::Error when the number of placeholders differs from counts.size().
    std::vector<int64_t> expandAudioPlaceholders(const std::vector<int64_t>& ids,
                                                 const std::vector<int64_t>& counts) const;

    /// Prompt embeddings [T, H] for ids [T] (already expanded): text embeddings with the encoded
    /// clips scattered into the <|AUDIO|> positions in order. With no clips, plain embeddings.
    /// Throws xopd::Error with both counts when placeholders and audio tokens differ.
    torch::Tensor embedPrompt(const torch::Tensor& ids, const std::vector<AudioFeatures>& clips) const;

    /// The splice itself: ids [..., T], embeds [..., T, H], audio [N, H] (masked_scatter).
    torch::Tensor spliceAudio(const torch::Tensor& ids, const torch::Tensor& embeds, const torch::Tensor& audio) const;

    /// Every parameter under its full checkpoint name (decoder names get the config's prefix).
    std::vector<std::pair<std::string, torch::Tensor*>> namedParameters();

    /// Converts all weights.
    void to(torch::ScalarType dtype);
    void to(torch::Device device);

private:
    ModelRuntimeConfig config_;
    Qwen2Decoder decoder_;
    std::shared_ptr<AudioEncoder> audio_;
};

/// Options of loadModel().
struct LoadOptions {
    /// Weight dtype after loading; Undefined keeps the checkpoint's (bf16 stays bf16).
    torch::ScalarType dtype = torch::ScalarType::Undefined;
    /// Device for the weights.
    torch::Device device = torch::kCPU;
};

/// Builds a model from a parsed config and named tensors (from a checkpoint or built in memory).
/// `what` names the source in errors.
SpeechLm buildModel(const ModelRuntimeConfig& config, const TensorMap& tensors, const std::string& what);

/// Loads a Hugging Face folder (config.json + model.safetensors or shards + index). Throws
/// xopd::Error naming the folder and the problem (unsupported model, missing or misshapen tensor).
SpeechLm loadModel(const std::string& folder, const LoadOptions& options = {});

}  // namespace xopd::model
