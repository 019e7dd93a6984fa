#pragma once
// Where the parts of a model live in a checkpoint's tensor names. The nominal prefix of a family
// ("", "language_model.", "thinker.") has variants in the wild: Qwen2-Audio hub files use
// `language_model.model.*` while recent transformers save `model.language_model.*`; a tied or
// omitted lm_head falls back to the embedding. resolveCheckpointLayout() checks which spelling is
// present so the decoder and towers can ask for exact names.
//
//   auto layout = xopd::resolveCheckpointLayout(config, [&](auto& n) { return store.has(n); }, path);
//   store.get(layout.decoder_prefix + "layers.0.self_attn.q_proj.weight");
//   store.get(layout.lm_head);   // == layout.embed_tokens when tied
//
// No LibTorch. Threading: pure function.

#include "core/model/checkpoint/DecoderLayout.h"
#include "core/model/checkpoint/ModelConfig.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace xopd {

/// Resolved tensor names of a checkpoint.
struct CheckpointLayout {
    /// Prefix of the Qwen2 decoder module, ending in '.': "model.", "language_model.model.",
    /// "model.language_model.", "thinker.model.". Decoder tensors are decoder_prefix + "layers.{i}....",
    /// decoder_prefix + "norm.weight".
    std::string decoder_prefix;
    /// Name of the embedding: decoder_prefix + "embed_tokens.weight".
    std::string embed_tokens;
    /// Name of the output projection; equals embed_tokens when the head is tied or absent.
    std::string lm_head;
    /// True when lm_head falls back to the embedding (no lm_head tensor in the checkpoint).
    bool lm_head_tied = false;
    /// Prefix of the audio tower ("audio_tower.", "model.audio_tower.", "thinker.audio_tower."); ""
    /// for text models.
    std::string audio_tower_prefix;
    /// Prefix of the Qwen2-Audio projector ("multi_modal_projector." or
    /// "model.multi_modal_projector."); "" when the projection is inside the tower (Omni `proj`).
    std::string projector_prefix;
};

/// Picks the spelling present in the checkpoint (`has` answers whether a tensor name exists).
/// Throws xopd::Error naming `source` and the names it looked for when no decoder embedding, or for
/// a speech model no audio tower (conv1.weight) or projector, is found.
CheckpointLayout resolveCheckpointLayout(const ModelConfig& config, const std::function<bool(const std::string&)>& has,
                                         const std::string& source);

/// The sizes of the text decoder of a config (DecoderLayout.h).
DecoderSize decoderSizeOf(const TextModelConfig& text);

/// Shape of a tensor by name, nullopt when absent (e.g. from WeightStore::location()).
using TensorShapeLookup = std::function<std::optional<std::vector<int64_t>>(const std::string&)>;

/// Checks that every tensor the decoder (and, for speech models, the audio tower and projector)
/// needs is present with the shape the config implies (§2.4, §3.3, §4): embed, per layer q/k/v
/// (+ biases), o, norms, gate/up/down, final norm, an untied lm_head; conv1/conv2, positional table
/// (Qwen2-Audio), encoder layers, final LayerNorm and projection. Throws xopd::Error naming `source`,
/// the tensor and both shapes on the first problem. Tensors of other parts (vision, talker) are ignored.
/// When `expected` is given, every tensor name the check expects is added to it.
void validateCheckpointShapes(const ModelConfig& config, const CheckpointLayout& layout, const TensorShapeLookup& shape,
                              const std::string& source, std::set<std::string>* expected = nullptr);

}  // namespace xopd
