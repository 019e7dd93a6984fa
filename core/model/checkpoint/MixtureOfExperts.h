#pragma once
// The sparse mixture-of-experts MLP of Qwen3-MoE (transformers models/qwen3_moe: Qwen3MoeConfig,
// Qwen3MoeSparseMoeBlock, Qwen3MoeDecoderLayer), as sizes and switches. One value type carried by
// the parsed config (ModelConfig.h), the runtime config (RuntimeConfig.h) and the tensor layout
// (DecoderLayout.h), so that the three never disagree on which layer is sparse.
//
//   if (moe.isSparseLayer(i))  // router "mlp.gate" + experts "mlp.experts.N.{gate,up,down}_proj"
//
// No LibTorch, no Qt. Threading: a plain value.

#include <algorithm>
#include <cstdint>
#include <vector>

namespace xopd {

struct MixtureOfExperts {
    /// Routed experts per sparse layer; 0 = a dense model (no sparse layer at all).
    int64_t num_experts = 0;
    /// Experts each token is sent to (top-k of the router's softmax).
    int64_t num_experts_per_tok = 0;
    /// SwiGLU width of one expert.
    int64_t moe_intermediate_size = 0;
    /// Renormalise the top-k probabilities to sum to 1 (Qwen3-30B-A3B: true; class default false).
    bool norm_topk_prob = false;
    /// Every decoder_sparse_step-th layer is sparse: layer i when (i + 1) % step == 0.
    int64_t decoder_sparse_step = 1;
    /// Layers that keep the dense MLP (intermediate_size) whatever the step.
    std::vector<int64_t> mlp_only_layers;

    bool enabled() const { return num_experts > 0; }

    /// Qwen3MoeDecoderLayer.__init__: sparse when the layer is not in mlp_only_layers, there are
    /// experts, and (layer + 1) is a multiple of decoder_sparse_step.
    bool isSparseLayer(int64_t layer) const {
        if (!enabled() || decoder_sparse_step <= 0) return false;
        if (std::find(mlp_only_layers.begin(), mlp_only_layers.end(), layer) != mlp_only_layers.end()) return false;
        return (layer + 1) % decoder_sparse_step == 0;
    }
};

}  // namespace xopd
