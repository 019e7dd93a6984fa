#pragma once
// Attention building blocks shared by the decoder and the audio towers: RoPE tables (§2.2), the
// causal + padding additive mask of left-padded batches, and scaled dot-product attention written
// out (matmul + fp32 softmax, LibTorch 1.13) or fused (at::scaled_dot_product_attention, LibTorch
// >= 2) behind one call.
//
// Threading: pure functions.

#include "core/common/Tensors.h"

namespace xopd::model {

/// inv_freq[i] = 1 / theta^(2i/D), computed exactly as HF: arange(0, D, 2, int64).float() / D in fp32.
torch::Tensor ropeInverseFrequencies(int64_t head_dim, double theta);

/// cos and sin tables [B, 1, T, D] for position_ids [B, T], computed in fp32 then cast to dtype.
std::pair<torch::Tensor, torch::Tensor> ropeCosSin(const torch::Tensor& inv_freq, const torch::Tensor& position_ids,
                                                   torch::ScalarType dtype);

/// x·cos + rotate_half(x)·sin, rotate_half(x) = cat(−x[..., D/2:], x[..., :D/2]) (NeoX half split).
torch::Tensor applyRope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

/// Positions of a left-padded batch: cumsum(mask) − 1 with pads set to 1 (HF), last `t` columns.
torch::Tensor positionsFromMask(const torch::Tensor& attention_mask, int64_t t);

/// The additive mask [B, 1, T, S] (0 where allowed, the dtype's lowest finite value elsewhere) for
/// T new queries after `past` cached keys, S = past + T. attention_mask [B, S] marks real tokens
/// with 1 and pads with 0; undefined means no padding. Returns undefined when nothing is masked
/// (no padding and T == 1).
torch::Tensor causalPaddingMask(const torch::Tensor& attention_mask, int64_t batch, int64_t t, int64_t past,
                                torch::ScalarType dtype, torch::Device device);

/// Which attention kernel to use.
enum class AttentionKernel {
    Invalid = 0,
    Auto,     ///< fused where LibTorch has it (>= 2.0), else written out
    Explicit  ///< matmul + fp32 softmax, always (the HF "eager" path)
};

/// softmax(q·kᵀ·scale + mask) · v with the softmax in fp32 (fp64 for fp64 inputs), cast back to q's dtype.
/// q [B, nH, T, D]; k, v [B, nKV, S, D] with nH a multiple of nKV (GQA: KV heads are repeated).
/// mask is additive and broadcastable to [B, nH, T, S], or undefined.
torch::Tensor scaledDotProductAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                        const torch::Tensor& mask, double scale,
                                        AttentionKernel kernel = AttentionKernel::Auto);

}  // namespace xopd::model
