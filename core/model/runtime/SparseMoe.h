#pragma once
// Qwen3-MoE's sparse MLP block (transformers Qwen3MoeSparseMoeBlock): a bias-free router
// `mlp.gate` [E, H] scores every token, softmax over all E experts in float32, the top-k experts
// kept (renormalised to sum 1 when norm_topk_prob), each expert a SwiGLU MLP of width
// moe_intermediate_size, the token's output the routing-weighted sum of its k experts' outputs.
//
// The experts run only on the tokens routed to them, grouped: the (token, expert) pairs are sorted
// by expert (stable, so tokens keep their order within an expert, as HF's torch.where gives them),
// each expert runs once on its contiguous slice, and one index_add scatters the weighted outputs
// back. The accumulation order per token is HF's (experts in ascending order). Differentiable.
//
//   torch::Tensor y = sparseMoeForward(layer.moe, config.moe, "silu", h, valid, &stats, layer_index);
//
// Threading: sparseMoeForward is a pure function of its inputs; `stats` is the caller's.

#include "core/common/Tensors.h"
#include "core/model/checkpoint/MixtureOfExperts.h"
#include "core/model/runtime/Linear.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace xopd::model {

/// One expert: a SwiGLU MLP, down(act(gate(x)) * up(x)).
struct ExpertWeights {
    Linear gate_proj, up_proj, down_proj;
};

/// The weights of one sparse layer.
struct SparseMoeWeights {
    Linear router;                       ///< "mlp.gate": [E, H], no bias
    std::vector<ExpertWeights> experts;  ///< "mlp.experts.N.*", E of them
};

/// What the routers did with the tokens of one or more forward passes: a researcher watches these
/// to see whether distillation collapses the routing onto a few experts.
struct RouterStats {
    /// Per sparse layer (by decoder layer index): tokens routed to each expert (each token counts
    /// once for each of its k experts, so a row sums to k × tokens).
    std::map<int64_t, std::vector<int64_t>> tokens_per_expert;
    /// Sum over (token, sparse layer) of the entropy, in nats, of the router's softmax over all experts.
    double entropy_sum = 0.0;
    /// Number of (token, sparse layer) pairs in entropy_sum.
    int64_t routed = 0;
    /// When true, `choices` keeps each counted token's experts (tests and the token view).
    bool record_choices = false;
    /// Per sparse layer: [tokens, k] int64, each row's experts ascending, tokens in row-major
    /// (batch, position) order, passes appended.
    std::map<int64_t, torch::Tensor> choices;

    bool empty() const { return routed == 0; }
    void merge(const RouterStats& other);
    /// Mean router entropy in nats (NaN when empty).
    double meanEntropy() const;
};

/// One sparse MLP block. `x` [B, T, H] (the post-attention-normed hidden states); returns [B, T, H]
/// in x's dtype. When `stats` is set, the routing of the tokens where `valid` ([B, T] bool, or
/// undefined = all tokens) is true is added to it under `layer`.
torch::Tensor sparseMoeForward(const SparseMoeWeights& weights, const MixtureOfExperts& moe, const std::string& act,
                               const torch::Tensor& x, const torch::Tensor& valid, RouterStats* stats, int64_t layer);

}  // namespace xopd::model
