#pragma once
// The shapes and constants the runtime needs (spec model-formats.md §2.5, §3.1, §4), converted from
// the checkpoint layer's xopd::ModelConfig (the one parser of config.json), and written back as a
// Hugging Face config.json by the tiny-model builder. Torch-free.
//
//   ModelRuntimeConfig cfg = runtimeConfigFrom(xopd::loadModelConfig(dir));
//   if (cfg.kind == ModelKind::Qwen2Audio) ...
//
// Threading: plain values.

#include "core/model/checkpoint/ModelConfig.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::model {

/// Which architecture a checkpoint folder holds. Zero is invalid.
enum class ModelKind {
    Invalid = 0,
    Qwen2Text,         ///< Qwen2ForCausalLM (Qwen2, Qwen2.5), tensor prefix ""
    Qwen2Audio,        ///< Qwen2AudioForConditionalGeneration, LLM prefix "language_model."
    Qwen25OmniThinker, ///< Qwen2.5-Omni thinker, LLM prefix "thinker."
    Qwen3Text,         ///< Qwen3ForCausalLM (dense): q/k RMSNorm, biases per attention_bias; prefix ""
    Qwen3MoeText,      ///< Qwen3MoeForCausalLM: Qwen3 attention, sparse MLP layers (DecoderConfig::moe); prefix ""
    Qwen3OmniThinker   ///< Qwen3-Omni thinker: Qwen3-MoE decoder + AuT audio encoder, prefix "thinker."
};

/// "qwen2", "qwen2_audio", "qwen2_5_omni_thinker", "qwen3" or "qwen3_moe".
std::string modelKindName(ModelKind kind);

/// The Qwen-family decoder (§2.5): Qwen2 / Qwen2.5, and Qwen3 with qk_norm and its own biases.
struct DecoderConfig {
    int64_t vocab_size = 0;               ///< rows of embed_tokens and lm_head
    int64_t hidden_size = 0;              ///< H
    int64_t intermediate_size = 0;        ///< I of the SwiGLU MLP
    int64_t num_hidden_layers = 0;        ///< number of decoder layers
    int64_t num_attention_heads = 0;      ///< nH
    int64_t num_key_value_heads = 0;      ///< nKV (absent key -> 32, the Qwen2Config default; null -> nH)
    int64_t head_dim = 0;                 ///< D (config head_dim, else H / nH)
    double rms_norm_eps = 1e-6;           ///< RMSNorm epsilon
    double rope_theta = 10000.0;          ///< RoPE base (rope_theta or rope_parameters.rope_theta)
    int64_t max_position_embeddings = 0;  ///< informational; positions are not clamped
    bool tie_word_embeddings = false;     ///< head = embed_tokens when lm_head.weight is absent
    std::string hidden_act = "silu";      ///< "silu", "gelu" (erf) or "gelu_pytorch_tanh"
    bool qkv_bias = true;                 ///< q/k/v projections have biases (Qwen2; Qwen3: attention_bias)
    bool o_bias = false;                  ///< o_proj has a bias (Qwen3 with attention_bias)
    bool qk_norm = false;                 ///< per-head RMSNorm of q and k before RoPE (Qwen3)
    MixtureOfExperts moe;                 ///< sparse MLP layers (Qwen3-MoE); disabled when dense
    int64_t bos_token_id = -1;            ///< -1 when absent
    std::vector<int64_t> eos_token_ids;   ///< eos_token_id as a list (may be empty)
    std::string torch_dtype = "float32";  ///< torch_dtype / dtype of the checkpoint
};

/// The Whisper-style audio encoder of Qwen2-Audio and Qwen2.5-Omni (§3.2, §4).
struct AudioTowerConfig {
    int64_t num_mel_bins = 128;             ///< input channels of conv1
    int64_t d_model = 1280;                 ///< encoder width
    int64_t encoder_layers = 32;            ///< number of encoder layers
    int64_t encoder_attention_heads = 20;   ///< heads (head dim = d_model / heads)
    int64_t encoder_ffn_dim = 5120;         ///< fc1 width
    int64_t max_source_positions = 1500;    ///< positions after conv2 (input = 2x this many frames)
    int64_t n_window = 100;                 ///< Omni: chunk = 2 * n_window mel frames
    int64_t output_dim = 0;                 ///< Omni: proj output width (= text hidden size)
    std::string activation_function = "gelu";  ///< exact erf GELU
    int64_t downsample_hidden_size = 0;     ///< Qwen3-Omni AuT: channels of its three conv2d (480)
    int64_t n_window_infer = 0;             ///< Qwen3-Omni AuT: mel frames per attention window (800)
};

/// Everything the runtime reads from one config.json.
struct ModelRuntimeConfig {
    ModelKind kind = ModelKind::Invalid;  ///< dispatch from architectures / model_type
    DecoderConfig text;                   ///< the LLM
    AudioTowerConfig audio;               ///< meaningful for the speech kinds only
    std::string tensor_prefix;            ///< "", "language_model." or "thinker."
    int64_t audio_token_id = -1;          ///< <|AUDIO|> placeholder id (speech kinds)
    int64_t audio_bos_token_id = -1;      ///< <|audio_bos|> id when known
    int64_t audio_eos_token_id = -1;      ///< <|audio_eos|> id when known
    int64_t image_token_id = -1;          ///< Omni image placeholder when known
    int64_t video_token_id = -1;          ///< Omni video placeholder when known
    /// Ids whose meaning is modality specific (audio/image/video placeholders and markers);
    /// masked when comparing with a text teacher (§12).
    std::vector<int64_t> modality_token_ids;
    bool is_speech() const {
        return kind == ModelKind::Qwen2Audio || kind == ModelKind::Qwen25OmniThinker || kind == ModelKind::Qwen3OmniThinker;
    }
};

/// Converts the checkpoint layer's parsed config. Throws xopd::Error naming config.source for an
/// activation the runtime does not implement.
ModelRuntimeConfig runtimeConfigFrom(const xopd::ModelConfig& config);

/// Serialises back to a config.json in the Hugging Face layout of the kind (used by the tiny-model
/// builder); parseModelConfig(toConfigJson(c)) gives c back.
nlohmann::json toConfigJson(const ModelRuntimeConfig& config);

}  // namespace xopd::model
