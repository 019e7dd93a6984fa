#pragma once
// The Qwen2-family decoder (Qwen2, Qwen2.5, the LLM of Qwen2-Audio and of the Qwen2.5-Omni thinker),
// spec model-formats.md §2: GQA or MHA, RoPE (half split, theta from the config), RMSNorm in fp32,
// SwiGLU, biases on q/k/v, tied or untied head, any tensor-name prefix, fp32 or bf16. The same class
// runs Qwen3 (q/k RMSNorm, attention_bias) and Qwen3-MoE (sparse MLP layers, SparseMoe.h).
//
//   Qwen2Decoder lm = Qwen2Decoder::fromTensors(cfg.text, tensors, "", "model/");
//   DecoderInput in;  in.input_ids = ids;               // [B, T] int64
//   torch::Tensor logits = lm.forward(in).logits;       // [B, T, V] in the weights' dtype
//
// Weights are plain tensors (see Linear.h): namedParameters() hands them out by Hugging Face name
// for training (set requires_grad) and saving, namedLinears() for LoRA injection. forward() is
// differentiable unless the caller holds a torch::NoGradGuard (inference should).
//
// Threading: forward() is const and may run concurrently with separate caches; mutating calls
// (to(), parameter edits) must not overlap with forward(). Lifetime: the decoder shares (does not
// copy) the tensors it was built from, which may be memory-mapped read-only.

#include "core/common/Tensors.h"
#include "core/model/checkpoint/DecoderLayout.h"
#include "core/model/runtime/Attention.h"
#include "core/model/runtime/KvCache.h"
#include "core/model/runtime/Linear.h"
#include "core/model/runtime/RuntimeConfig.h"
#include "core/model/runtime/SparseMoe.h"
#include "core/model/runtime/TensorMap.h"

#include <string>
#include <vector>

namespace xopd::model {

/// One decoder layer's weights.
struct DecoderLayerWeights {
    torch::Tensor input_layernorm;           ///< [H]
    torch::Tensor post_attention_layernorm;  ///< [H]
    torch::Tensor q_norm, k_norm;            ///< [D] each (Qwen3); undefined for Qwen2
    Linear q_proj, k_proj, v_proj, o_proj;   ///< biases per DecoderConfig (Qwen2: q/k/v; Qwen3: attention_bias)
    Linear gate_proj, up_proj, down_proj;    ///< SwiGLU, unbiased (dense layers)
    bool sparse = false;                     ///< Qwen3-MoE sparse layer: `moe` replaces gate/up/down
    SparseMoeWeights moe;                    ///< router + experts of a sparse layer

    /// The linear layers under their names of the layout (decoderLayerLinears(size, layer),
    /// DecoderLayout.h): attention, then the dense MLP or the router and the experts.
    std::vector<std::pair<std::string, Linear*>> linears();
    /// The layer's norms under their names of the layout (decoderLayerNorms(size)).
    std::vector<std::pair<std::string, torch::Tensor*>> norms(const DecoderSize& size);
};

/// The decoder sizes that fix its tensor shapes (DecoderLayout.h).
DecoderSize decoderSize(const DecoderConfig& config);

/// Inputs of one forward pass.
struct DecoderInput {
    torch::Tensor input_ids;       ///< [B, T] int64; or
    torch::Tensor inputs_embeds;   ///< [B, T, H] (takes precedence over input_ids)
    /// [B, past + T]: 1 for real tokens, 0 for pads (left or right padding). Undefined: no padding.
    torch::Tensor attention_mask;
    /// [B, T]. Undefined: cumsum(mask) − 1 with pads at 1 when a mask is given, else past … past+T−1.
    torch::Tensor position_ids;
    KvCache* cache = nullptr;           ///< when set: past keys are read from it and the new ones appended
    bool output_hidden_states = false;  ///< fill DecoderOutput::hidden_states
    int64_t logits_to_keep = 0;         ///< 0: logits at every position; n: only the last n positions
    bool compute_logits = true;         ///< false: skip the head (hidden states only)
    AttentionKernel kernel = AttentionKernel::Auto;  ///< attention implementation
    /// Sparse (MoE) models: when set, the routing of this pass's real tokens (attention_mask 1) is
    /// added to it.
    RouterStats* router_stats = nullptr;
};

/// Outputs of one forward pass.
struct DecoderOutput {
    torch::Tensor logits;             ///< [B, T or logits_to_keep, V] in the weights' dtype
    torch::Tensor last_hidden_state;  ///< [B, T, H] after the final norm
    /// HF convention: the embeddings, the outputs of layers 1 … N−1, and the final normed state
    /// (N + 1 tensors [B, T, H]).
    std::vector<torch::Tensor> hidden_states;
};

class Qwen2Decoder {
public:
    Qwen2Decoder() = default;

    /// Builds the decoder from tensors named as in a Hugging Face checkpoint. `prefix` is "",
    /// "language_model." or "thinker."; the body is looked up under prefix + "model." and, for
    /// "language_model.", also under "model.language_model."; the head under prefix + "lm_head.weight"
    /// or "lm_head.weight", falling back to embed_tokens when tied or absent. Shapes are checked
    /// against the config; errors name `what` (the folder) and the tensor.
    static Qwen2Decoder fromTensors(const DecoderConfig& config, const TensorMap& tensors, const std::string& prefix,
                                    const std::string& what);

    const DecoderConfig& config() const { return config_; }

    /// One forward pass (see DecoderInput). Advances input.cache by T when set.
    DecoderOutput forward(const DecoderInput& input) const;

    /// Token embeddings [.., H] for int64 ids.
    torch::Tensor embed(const torch::Tensor& ids) const;

    /// The head applied to final-normed hidden states [.., H] -> [.., V].
    torch::Tensor logitsFromHidden(const torch::Tensor& hidden) const;

    /// A cache with one slot per layer reserving `capacity` positions.
    KvCache makeCache(int64_t capacity = 0) const { return KvCache(config_.num_hidden_layers, capacity); }

    /// True when the head shares embed_tokens.
    bool tiedHead() const { return tied_; }

    /// Parameters by Hugging Face name without the prefix ("model.layers.0.self_attn.q_proj.weight",
    /// "lm_head.weight" only when untied). Pointers stay valid while the decoder lives.
    std::vector<std::pair<std::string, torch::Tensor*>> namedParameters();

    /// Every linear layer by module name ("model.layers.0.mlp.down_proj"; sparse layers:
    /// "model.layers.0.mlp.gate" (the router) and "model.layers.0.mlp.experts.3.down_proj"), for LoRA.
    std::vector<std::pair<std::string, Linear*>> namedLinears();

    /// True when some layer is sparse (Qwen3-MoE).
    bool hasExperts() const { return config_.moe.enabled(); }

    /// Converts every parameter to dtype and/or device (copies; drops memory maps).
    void to(torch::ScalarType dtype);
    void to(torch::Device device);

    torch::ScalarType dtype() const { return embed_tokens_.scalar_type(); }
    torch::Device device() const { return embed_tokens_.device(); }

    /// Number of weight elements (the head counted once when tied).
    int64_t parameterCount() const;

private:
    DecoderConfig config_;
    torch::Tensor embed_tokens_;  // [V, H]
    std::vector<DecoderLayerWeights> layers_;
    torch::Tensor norm_;          // [H]
    torch::Tensor lm_head_;       // [V, H]; aliases embed_tokens_ when tied
    bool tied_ = false;
    torch::Tensor inv_freq_;      // [D/2] fp32
};

}  // namespace xopd::model
