#pragma once
// A linear layer as plain tensors, y = x·Wᵀ + b (+ scale · (x·Aᵀ)·Bᵀ when a LoRA adapter is set).
// The runtime keeps weights as plain tensors (no torch::nn modules) so they can be memory-mapped
// read-only for inference, set to requires_grad for training, and wrapped by LoRA without copying:
// a LoRA wrapper fills lora_a [r, in] and lora_b [out, r] and lora_scale (alpha / r).
//
// Threading: forward() is const and may run concurrently on different inputs.

#include "core/common/Tensors.h"

namespace xopd::model {

struct Linear {
    torch::Tensor weight;    ///< [out, in]
    torch::Tensor bias;      ///< [out] or undefined
    torch::Tensor lora_a;    ///< [r, in] or undefined (no adapter)
    torch::Tensor lora_b;    ///< [out, r] or undefined
    double lora_scale = 0.0; ///< alpha / r; the delta is scale · B·A

    /// y = x·Wᵀ + b (+ LoRA delta). Differentiable.
    torch::Tensor forward(const torch::Tensor& x) const;
    int64_t inFeatures() const { return weight.size(1); }
    int64_t outFeatures() const { return weight.size(0); }
    bool hasLora() const { return lora_a.defined() && lora_b.defined(); }
};

/// The dtype that norms, softmaxes and log-probs run in for activations of `dtype`: fp32 for
/// bf16 / fp16 / fp32 (HF's upcast, §11), fp64 for fp64. An fp64 model is a full-precision reference
/// (finite-difference and float64-reference checks), so nothing in it may round through fp32.
torch::ScalarType upcastType(torch::ScalarType dtype);

/// Qwen2RMSNorm: normalise in upcastType (fp32 for bf16 / fp32 models), cast back to x's dtype,
/// then multiply by weight (§2.1, §11).
torch::Tensor rmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

/// nn.LayerNorm over the last dimension in the activation dtype (Whisper, §11).
torch::Tensor layerNorm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                        double eps = 1e-5);

/// Exact (erf) GELU.
torch::Tensor geluExact(const torch::Tensor& x);

/// The activation named by a Qwen2 config's hidden_act ("silu", "gelu", "gelu_pytorch_tanh").
torch::Tensor activation(const torch::Tensor& x, const std::string& name);

}  // namespace xopd::model
