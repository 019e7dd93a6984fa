#pragma once
// Model configuration parsed from a Hugging Face `config.json` (model-formats.md §2.5, §3.1, §4):
// the Qwen2-family text decoder, the Whisper-style audio encoder and the special token ids, for
//   - Qwen2 / Qwen2.5 text models         model_type "qwen2"                 weight prefix ""
//   - Qwen2-Audio                          model_type "qwen2_audio"           weight prefix "language_model."
//   - Qwen2.5-Omni (the thinker is used)   model_type "qwen2_5_omni"          weight prefix "thinker."
//   - a stand-alone Qwen2.5-Omni thinker   model_type "qwen2_5_omni_thinker"  weight prefix ""
//   - Qwen3 dense text models              model_type "qwen3"                 weight prefix ""
//     (per-head RMSNorm of q and k before RoPE; biases per attention_bias; head_dim default 128)
//   - Qwen3-MoE text models                model_type "qwen3_moe"             weight prefix ""
//     (Qwen3 attention; sparse MLP layers per MixtureOfExperts.h; head_dim default H / nH)
//   - Qwen3-Omni (config only, for inspect) model_type "qwen3_omni_moe"        weight prefix "thinker."
//     (its AuT audio encoder is not implemented yet: loading its weights is refused, naming why)
// Absent keys take the transformers class defaults of that architecture (e.g. num_key_value_heads
// defaults to 32 for a Qwen2 text config, not to num_attention_heads).
//
//   xopd::ModelConfig c = xopd::loadModelConfig("/models/Qwen2-Audio-7B-Instruct");
//   c.text.num_hidden_layers;  c.audio->d_model;  c.special.audio_token_id;
//
// No LibTorch, no Qt: the GUI may include this. Threading: plain values and pure functions.

#include "core/model/checkpoint/MixtureOfExperts.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xopd {

/// The supported model families. Zero is invalid.
enum class ModelArchitecture { Unknown = 0, Qwen2 = 1, Qwen2Audio = 2, Qwen25Omni = 3, Qwen25OmniThinker = 4, Qwen3 = 5, Qwen3Moe = 6, Qwen3OmniMoe = 7 };

/// Human-readable name ("Qwen2ForCausalLM"-like family name: "qwen2", "qwen2-audio", ...).
const char* architectureName(ModelArchitecture architecture);

/// The Qwen2-family decoder (Qwen2Config / Qwen2_5OmniTextConfig keys).
struct TextModelConfig {
    /// model_type of the text config ("qwen2", "qwen2_5_omni_text"; "" when the file has none).
    std::string model_type;
    /// Rows of the embedding and of lm_head (padded; larger than the tokenizer's vocabulary).
    int64_t vocab_size = 151936;
    /// Model width H.
    int64_t hidden_size = 4096;
    /// SwiGLU width I.
    int64_t intermediate_size = 22016;
    /// Number of decoder layers.
    int64_t num_hidden_layers = 32;
    /// Query heads nH.
    int64_t num_attention_heads = 32;
    /// Key/value heads nKV (GQA). Absent: the class default (32 for Qwen2); explicit null: nH.
    int64_t num_key_value_heads = 32;
    /// Per-head width D: `head_dim` when given, else hidden_size / num_attention_heads.
    int64_t head_dim = 128;
    /// Biases of q_proj, k_proj, v_proj (Qwen2: always; Qwen3: `attention_bias`, default false).
    bool qkv_bias = true;
    /// Bias of o_proj (Qwen2: never; Qwen3: `attention_bias`).
    bool o_bias = false;
    /// Per-head RMSNorm of the queries and keys before RoPE, weights q_norm / k_norm [head_dim] (Qwen3).
    bool qk_norm = false;
    /// Sparse MLP layers (Qwen3-MoE: num_experts, num_experts_per_tok, moe_intermediate_size,
    /// norm_topk_prob, decoder_sparse_step, mlp_only_layers); disabled for dense families.
    MixtureOfExperts moe;
    /// MLP activation ("silu" in real models).
    std::string hidden_act = "silu";
    /// RMSNorm epsilon (1e-6 Qwen2/2.5, 1e-5 Qwen2-Audio's LLM).
    double rms_norm_eps = 1e-6;
    /// RoPE base: `rope_theta`, or `rope_parameters.rope_theta` in files of recent transformers.
    double rope_theta = 10000.0;
    /// M-RoPE sections when rope_scaling has `mrope_section` (Omni); empty otherwise. For audio + text
    /// input M-RoPE equals ordinary 1-D RoPE, so the decoder may ignore it.
    std::vector<int64_t> mrope_section;
    /// Positions the model was trained for.
    int64_t max_position_embeddings = 32768;
    /// lm_head shares the embedding matrix. The loader also falls back to embed_tokens whenever the
    /// checkpoint has no lm_head tensor (CheckpointLayout.h).
    bool tie_word_embeddings = false;
    /// BOS id when the config names one.
    std::optional<int64_t> bos_token_id;
    /// EOS ids (`eos_token_id` may be an int or a list); empty when absent.
    std::vector<int64_t> eos_token_ids;
    /// PAD id when the config names one.
    std::optional<int64_t> pad_token_id;
    /// Stored dtype (`torch_dtype` or `dtype`, e.g. "bfloat16"); "" when absent.
    std::string dtype;
};

/// The Whisper-style audio encoder (Qwen2AudioEncoderConfig / Qwen2_5OmniAudioEncoderConfig).
struct AudioEncoderConfig {
    /// model_type ("qwen2_audio_encoder", "qwen2_5_omni_audio_encoder"; "" when absent).
    std::string model_type;
    /// Mel bins of the input features (128 for Whisper-large-v3-style encoders).
    int64_t num_mel_bins = 128;
    /// Encoder layers.
    int64_t encoder_layers = 32;
    /// Attention heads (head dim = d_model / heads = 64).
    int64_t encoder_attention_heads = 20;
    /// MLP width (fc1 output).
    int64_t encoder_ffn_dim = 5120;
    /// Encoder width.
    int64_t d_model = 1280;
    /// Frames after conv2 (1500 = 30 s); the input has 2 x this many mel frames.
    int64_t max_source_positions = 1500;
    /// Omni: chunk half-width in mel frames (chunks are 2 x n_window = 200 frames); 0 for Qwen2-Audio.
    int64_t n_window = 0;
    /// Omni: width of the tower's own `proj` output (the LLM width); 0 for Qwen2-Audio, whose
    /// `multi_modal_projector.linear` maps d_model to the text hidden size.
    int64_t output_dim = 0;
    /// Activation ("gelu" = exact erf GELU).
    std::string activation_function = "gelu";
    /// Multiply input embeddings by sqrt(d_model) (false for these models).
    bool scale_embedding = false;
    /// Qwen3-Omni's AuT: channels of its three stride-2 conv2d layers (480); 0 for the Whisper-style towers.
    int64_t downsample_hidden_size = 0;
    /// Qwen3-Omni's AuT: mel frames per attention window at inference (800); 0 otherwise.
    int64_t n_window_infer = 0;
};

/// Token ids with a meaning for the model (not the tokenizer's own special tokens).
struct SpecialTokenIds {
    /// The audio placeholder `<|AUDIO|>` (`audio_token_index` or `audio_token_id`).
    std::optional<int64_t> audio_token_id;
    /// `<|audio_bos|>` when the config names it (Omni `audio_start_token_id`).
    std::optional<int64_t> audio_start_token_id;
    /// `<|audio_eos|>` when the config names it (Omni `audio_end_token_id`).
    std::optional<int64_t> audio_end_token_id;
    /// Image placeholder (Omni `image_token_index`).
    std::optional<int64_t> image_token_id;
    /// Video placeholder (Omni `video_token_index`).
    std::optional<int64_t> video_token_id;
    /// Omni `user_token_id`.
    std::optional<int64_t> user_token_id;
    /// Label value ignored by the loss (`ignore_index`, -100).
    std::optional<int64_t> ignore_index;
};

/// A parsed config.json.
struct ModelConfig {
    /// The family, from model_type.
    ModelArchitecture architecture = ModelArchitecture::Unknown;
    /// Top-level model_type ("qwen2", "qwen2_audio", "qwen2_5_omni", "qwen2_5_omni_thinker").
    std::string model_type;
    /// `architectures` list of the file (e.g. "Qwen2ForCausalLM"); may be empty.
    std::vector<std::string> architectures;
    /// The text decoder.
    TextModelConfig text;
    /// The audio encoder; nullopt for text-only models.
    std::optional<AudioEncoderConfig> audio;
    /// Model-level token ids.
    SpecialTokenIds special;
    /// Nominal tensor-name prefix of the multimodal wrapper: "", "language_model.", "thinker.".
    /// CheckpointLayout.h resolves the exact names present in a checkpoint.
    std::string weight_prefix;
    /// Omni: M-RoPE time positions per second of audio (25).
    int64_t position_id_per_seconds = 25;
    /// Omni: seconds per chunk of the interleaved position scheme (2).
    int64_t seconds_per_chunk = 2;
    /// Path of the file it was read from ("" when parsed from memory).
    std::string source;

    /// True for speech models (an audio encoder is configured).
    bool hasAudio() const { return audio.has_value(); }
};

/// The model_types parseModelConfig accepts.
std::vector<std::string> supportedModelTypes();

/// Parses a config.json object. `source` names the file in errors. Throws xopd::Error naming the
/// file on: an unknown model_type (listing the supported ones), a missing or mistyped key value,
/// use_sliding_window = true, unsupported rope_scaling, non-positive sizes, hidden_size not a
/// multiple of num_attention_heads (when head_dim is absent), heads not a multiple of kv heads.
ModelConfig parseModelConfig(const nlohmann::json& config, const std::string& source);

/// Reads `path` (a config.json, or a folder holding one) and parses it.
ModelConfig loadModelConfig(const std::string& path);

}  // namespace xopd
