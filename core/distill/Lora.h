#pragma once
// LoRA adapters on the decoder's linear layers (core/model/runtime Linear.h): W x + (α/r)·B A x,
// A [r, in] random (Kaiming-uniform, as PEFT), B [out, r] zero, so training starts from the base
// model exactly. Saved in the PEFT folder format: adapter_config.json + adapter_model.safetensors
// with tensor names "base_model.model.<module>.lora_A.weight" / ".lora_B.weight".
//
//   auto adapters = attachLora(decoder.namedLinears(), options);   // base weights stay frozen
//   optimizer params = loraParameters(adapters);
//   writePeftAdapter(folder, adapters, options, "Qwen/Qwen2.5-0.5B-Instruct");
//
// Threading: call between forward passes. Lifetime: the Linear pointers must outlive the adapters.

#include "core/model/runtime/Linear.h"

#include "core/common/Tensors.h"

#include <string>
#include <utility>
#include <vector>

namespace xopd::distill {

/// LoRA shape.
struct LoraOptions {
    /// Rank r (>= 1).
    int64_t rank = 16;
    /// α; the delta is scaled by α / r.
    double alpha = 32.0;
    /// Module-name suffixes to wrap ("q_proj" matches "model.layers.3.self_attn.q_proj").
    std::vector<std::string> targets{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    /// Seed of A's initialisation.
    uint64_t seed = 0;
};

/// One wrapped layer.
struct LoraAdapter {
    std::string module;             ///< "model.layers.0.self_attn.q_proj"
    model::Linear* linear = nullptr;
};

/// Fills lora_a / lora_b / lora_scale of every linear whose name ends with a target, sets them to
/// require grad, and freezes the base weights. Throws xopd::Error when no module matches.
std::vector<LoraAdapter> attachLora(const std::vector<std::pair<std::string, model::Linear*>>& linears,
                                    const LoraOptions& options);

/// The trainable tensors (A and B of every adapter).
std::vector<torch::Tensor> loraParameters(const std::vector<LoraAdapter>& adapters);

/// Adapter tensors in PEFT naming, in a fixed order.
std::vector<std::pair<std::string, torch::Tensor>> loraState(const std::vector<LoraAdapter>& adapters);

/// Writes adapter_config.json + adapter_model.safetensors (atomic files) into an existing folder.
void writePeftAdapter(const std::string& folder, const std::vector<LoraAdapter>& adapters, const LoraOptions& options,
                      const std::string& base_model);

}  // namespace xopd::distill
