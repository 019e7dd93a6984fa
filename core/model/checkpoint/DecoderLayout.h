#pragma once
// The tensors of a Qwen-family decoder (Qwen2, Qwen2.5, Qwen3, Qwen3-MoE), described once (model-formats.md §2.4): their names under
// the decoder body ("layers.3.self_attn.q_proj.weight", "norm.weight", ...), their shapes for a
// given size, and what each is (embedding, norm, weight, bias, head). Everything that reads or
// writes the layout takes the names from here: the checkpoint shape check (CheckpointLayout), the
// decoder's loader and its parameter list (Qwen2Decoder), the tiny random models (TinyModels) and
// the demo kit's initial weights (DemoKitBuilder).
//
//   for (const auto& t : decoderTensors(size, /*with_head=*/true))
//       writer[body + t.name] = init(t.role, t.shape);   // t.name: relative to the body
//
// No LibTorch. Threading: pure functions.

#include "core/model/checkpoint/MixtureOfExperts.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace xopd {

/// The sizes that fix every tensor shape of the decoder.
struct DecoderSize {
    int64_t vocab_size = 0;
    int64_t hidden_size = 0;         ///< H
    int64_t intermediate_size = 0;   ///< I of the SwiGLU MLP
    int64_t num_hidden_layers = 0;
    int64_t num_attention_heads = 0;
    int64_t num_key_value_heads = 0;
    int64_t head_dim = 0;            ///< D
    bool qkv_bias = true;            ///< q/k/v have biases (Qwen2; Qwen3 when attention_bias)
    bool o_bias = false;             ///< o_proj has a bias (Qwen3 when attention_bias)
    bool qk_norm = false;            ///< q_norm / k_norm [D] per layer (Qwen3)
    MixtureOfExperts moe;            ///< sparse layers (Qwen3-MoE); disabled for dense models
};

/// What a tensor is, for writers that initialise one (norm weights near 1, biases near 0).
enum class DecoderTensorRole {
    Invalid = 0,
    Embedding,  ///< embed_tokens
    Norm,       ///< an RMSNorm weight
    Weight,     ///< a linear layer's weight
    Bias,       ///< a linear layer's bias
    Head,       ///< the untied output projection
};

/// One tensor of the layout.
struct DecoderTensor {
    std::string name;  ///< relative to the decoder body ("model."), except the head: relative to the model's prefix
    std::vector<int64_t> shape;
    DecoderTensorRole role = DecoderTensorRole::Invalid;
};

/// One linear layer of a decoder layer: name under "layers.N." and whether it has a bias.
struct DecoderLinear {
    std::string name;  ///< "self_attn.q_proj", "mlp.gate" (router), "mlp.experts.7.down_proj"
    bool bias;         ///< Qwen2: q/k/v yes, o no; Qwen3: q/k/v/o per attention_bias; the MLP never
};

/// Names under the decoder body.
inline constexpr const char* kEmbedTokensName = "embed_tokens.weight";
inline constexpr const char* kFinalNormName = "norm.weight";
inline constexpr const char* kInputNormName = "input_layernorm.weight";
inline constexpr const char* kPostAttentionNormName = "post_attention_layernorm.weight";
/// Qwen3's per-head norms of the queries and keys (under "layers.N.").
inline constexpr const char* kQNormName = "self_attn.q_norm.weight";
inline constexpr const char* kKNormName = "self_attn.k_norm.weight";
/// Name of the untied head, relative to the model's prefix ("", "thinker.", "language_model.").
inline constexpr const char* kLmHeadName = "lm_head.weight";

/// Qwen3-MoE's router of a sparse layer (under "layers.N."): a bias-free linear [num_experts, H].
inline constexpr const char* kRouterName = "mlp.gate";

/// True for a Qwen3-MoE router module name, with any prefix ("layers.3.mlp.gate",
/// "model.layers.3.mlp.gate"); its weight is that name + ".weight".
bool isRouterModule(const std::string& module);

/// "layers.N." (under the decoder body).
std::string decoderLayerPrefix(int64_t layer);

/// "mlp.experts.E." (under "layers.N.").
std::string expertPrefix(int64_t expert);

/// The attention's linear layers (q, k, v, o) with their biases for this decoder.
std::vector<DecoderLinear> attentionLinears(const DecoderSize& size);

/// The linear layers of decoder layer `layer`, in checkpoint order: the attention's (q, k, v, o),
/// then the dense SwiGLU (gate, up, down) or, for a sparse layer (size.moe.isSparseLayer), the
/// router "mlp.gate" and each expert's gate, up and down projections.
std::vector<DecoderLinear> decoderLayerLinears(const DecoderSize& size, int64_t layer);

/// [out, in] of a linear layer of decoderLayerLinears() for this size.
std::vector<int64_t> decoderLinearShape(const DecoderSize& size, const std::string& linear);

/// The norms of one layer: input, post-attention, and (Qwen3) q_norm, k_norm, with their widths.
std::vector<std::pair<std::string, int64_t>> decoderLayerNorms(const DecoderSize& size);

/// Every tensor of the decoder, in the order writers draw them: embedding; per layer its norms
/// (decoderLayerNorms), then each linear's weight and bias; the final norm; the head when `with_head`.
std::vector<DecoderTensor> decoderTensors(const DecoderSize& size, bool with_head);

}  // namespace xopd
