#pragma once
// What a model costs, computed from its config alone (no weights needed): parameters in total and
// active per token (a MoE token runs only its k experts), and the memory a run needs — weights,
// gradients and optimizer state of what trains, LoRA adapters, the KV cache at a batch and length,
// and an estimate of the activations kept for the backward pass. `xopd inspect` prints them for a
// folder (with or without weights) and for a student/teacher pair, so that a researcher sizes a
// Qwen3-30B-A3B run before downloading 60 GB.
//
//   ParameterCounts p = parameterCountsOf(loadModelConfig(dir));   // p.total, p.active
//   MemoryNeed m = memoryNeedOf(config, {.training = Training::Lora, .batch = 8, .sequence_length = 1024});
//
// Counts follow the tensors the checkpoint stores (DecoderLayout.h for the decoder, the audio
// towers' modules for the encoder), so a tiny model's count equals its safetensors' element count;
// tests/reference/model/param_count.py is the independent reference for the real configs.
//
// No LibTorch, no Qt. Threading: pure functions.

#include "core/model/checkpoint/ModelConfig.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xopd {

/// Parameters of a model by part.
struct ParameterCounts {
    int64_t total = 0;           ///< every parameter the checkpoint stores for the parts below
    int64_t active = 0;          ///< per text token: the decoder minus the experts a token is not routed to
    int64_t embedding = 0;       ///< embed_tokens
    int64_t lm_head = 0;         ///< the untied head (0 when tied)
    int64_t attention = 0;       ///< q/k/v/o (+ biases, q/k norms) of every layer
    int64_t dense_mlp = 0;       ///< SwiGLU MLPs of dense layers
    int64_t router = 0;          ///< MoE routers
    int64_t experts = 0;         ///< all experts of all sparse layers
    int64_t norms = 0;           ///< layer norms and the final norm
    int64_t audio_encoder = 0;   ///< audio tower + projector (speech models)
};

/// Counts from the config (decoder via decoderTensors(); audio tower per family).
ParameterCounts parameterCountsOf(const ModelConfig& config);

/// How a model is used in a run.
enum class Training {
    Invalid = 0,
    Frozen,  ///< teacher or inference: weights only
    Full,    ///< every decoder weight trains (MoE routers stay frozen unless train_router)
    Lora,    ///< adapters on the target linears
};

/// Sizes of a run for memoryNeedOf().
struct MemoryOptions {
    Training training = Training::Frozen;
    int64_t batch = 1;               ///< sequences processed together
    int64_t sequence_length = 1024;  ///< prompt + response tokens per sequence
    int64_t weight_bytes = 2;        ///< bytes per stored weight (2: bf16, 4: fp32)
    int64_t lora_rank = 16;
    /// Module-name suffixes the adapters wrap (experts' projections match "gate_proj" etc. too).
    std::vector<std::string> lora_targets = {"q_proj", "k_proj", "v_proj", "o_proj"};
    bool train_router = false;       ///< full training also updates MoE routers
};

/// Bytes of a KV cache: keys and values of every layer, kv_heads × head_dim per position.
inline int64_t kvCacheBytes(int64_t layers, int64_t kv_heads, int64_t head_dim, int64_t positions, int64_t bytes) {
    return 2 * layers * kv_heads * head_dim * positions * bytes;
}

/// Memory of one model in a run, in bytes.
struct MemoryNeed {
    int64_t weights = 0;           ///< parameters × weight_bytes
    int64_t trainable_parameters = 0;
    int64_t gradients = 0;         ///< trainable × weight_bytes (LoRA adapters are fp32: × 4)
    int64_t optimizer = 0;         ///< AdamW: two fp32 moments per trainable parameter
    int64_t kv_cache = 0;          ///< 2 × layers × kv heads × head_dim × batch × length × weight_bytes
    int64_t activations = 0;       ///< estimate, see memoryNeedOf()
    int64_t total() const { return weights + gradients + optimizer + kv_cache + activations; }
};

/// The memory a run needs for one model. Activations (an estimate, stated here): when training,
/// per token and layer the tensors autograd keeps — the two norm outputs and residuals (4 H), q, k,
/// v and the attention output (2 nH·D + 2 nKV·D), RoPE's rotated halves and the q/k norms' copies
/// (3 (nH·D + nKV·D)), the MLP's gate, up, activation and product
/// (4 I_active, I_active = k × moe_intermediate for a sparse layer), for a sparse layer the router
/// logits and the gathered inputs, outputs and weighted outputs of its k experts (3 k H) — plus the
/// eager attention's scores and probabilities (2 × batch × nH × length² per layer) and the fp32
/// logits, log-softmax and logit gradient of the whole batch (3 × 4 bytes × V per token); frozen,
/// one layer's working set plus the logits and log-softmax. Measured against a real forward +
/// backward by tests/bench/bench_memory_estimate.cpp (peak RSS / estimate 0.86–1.17 from batch 16 × 128 to 2 × 1024 tokens on this CPU).
MemoryNeed memoryNeedOf(const ModelConfig& config, const MemoryOptions& options);

}  // namespace xopd
