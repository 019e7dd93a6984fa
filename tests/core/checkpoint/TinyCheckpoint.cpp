#include "tests/core/checkpoint/TinyCheckpoint.h"

#include "core/common/Json.h"
#include "core/common/Tensors.h"

#include <filesystem>

namespace xopd::test {

CheckpointLayout hubLayout(const ModelConfig& config, bool tied) {
    CheckpointLayout l;
    switch (config.architecture) {
        case ModelArchitecture::Qwen2:
            l.decoder_prefix = "model.";
            l.lm_head = "lm_head.weight";
            break;
        case ModelArchitecture::Qwen2Audio:
            l.decoder_prefix = "language_model.model.";
            l.lm_head = "language_model.lm_head.weight";
            l.audio_tower_prefix = "audio_tower.";
            l.projector_prefix = "multi_modal_projector.";
            break;
        case ModelArchitecture::Qwen25Omni:
            l.decoder_prefix = "thinker.model.";
            l.lm_head = "thinker.lm_head.weight";
            l.audio_tower_prefix = "thinker.audio_tower.";
            break;
        default:
            l.decoder_prefix = "model.";
            l.lm_head = "lm_head.weight";
            l.audio_tower_prefix = "audio_tower.";
            break;
    }
    l.embed_tokens = l.decoder_prefix + "embed_tokens.weight";
    if (tied) {
        l.lm_head = l.embed_tokens;
        l.lm_head_tied = true;
    }
    return l;
}

NamedTensors tinyWeights(const ModelConfig& config, const CheckpointLayout& layout, torch::Dtype dtype, uint64_t seed) {
    torch::manual_seed(seed);
    NamedTensors out;
    auto randn = [&](const std::string& name, std::vector<int64_t> shape) {
        out.emplace_back(name, (torch::randn(shape) * 0.02).to(dtype));
    };
    auto ones = [&](const std::string& name, std::vector<int64_t> shape) {
        out.emplace_back(name, (torch::ones(shape) + torch::randn(shape) * 0.01).to(dtype));
    };
    const TextModelConfig& t = config.text;
    const int64_t H = t.hidden_size, V = t.vocab_size, I = t.intermediate_size;
    const int64_t q = t.num_attention_heads * t.head_dim, kv = t.num_key_value_heads * t.head_dim;
    const std::string& d = layout.decoder_prefix;
    randn(layout.embed_tokens, {V, H});
    for (int64_t i = 0; i < t.num_hidden_layers; ++i) {
        const std::string l = d + "layers." + std::to_string(i) + ".";
        ones(l + "input_layernorm.weight", {H});
        randn(l + "self_attn.q_proj.weight", {q, H});
        randn(l + "self_attn.q_proj.bias", {q});
        randn(l + "self_attn.k_proj.weight", {kv, H});
        randn(l + "self_attn.k_proj.bias", {kv});
        randn(l + "self_attn.v_proj.weight", {kv, H});
        randn(l + "self_attn.v_proj.bias", {kv});
        randn(l + "self_attn.o_proj.weight", {H, q});
        ones(l + "post_attention_layernorm.weight", {H});
        randn(l + "mlp.gate_proj.weight", {I, H});
        randn(l + "mlp.up_proj.weight", {I, H});
        randn(l + "mlp.down_proj.weight", {H, I});
    }
    ones(d + "norm.weight", {H});
    if (!layout.lm_head_tied) randn(layout.lm_head, {V, H});
    if (!config.audio) return out;
    const AudioEncoderConfig& a = *config.audio;
    const std::string& p = layout.audio_tower_prefix;
    const int64_t D = a.d_model, F = a.encoder_ffn_dim;
    randn(p + "conv1.weight", {D, a.num_mel_bins, 3});
    randn(p + "conv1.bias", {D});
    randn(p + "conv2.weight", {D, D, 3});
    randn(p + "conv2.bias", {D});
    for (int64_t i = 0; i < a.encoder_layers; ++i) {
        const std::string l = p + "layers." + std::to_string(i) + ".";
        for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) randn(l + "self_attn." + proj + ".weight", {D, D});
        for (const char* proj : {"q_proj", "v_proj", "out_proj"}) randn(l + "self_attn." + proj + ".bias", {D});
        ones(l + "self_attn_layer_norm.weight", {D});
        randn(l + "self_attn_layer_norm.bias", {D});
        randn(l + "fc1.weight", {F, D});
        randn(l + "fc1.bias", {F});
        randn(l + "fc2.weight", {D, F});
        randn(l + "fc2.bias", {D});
        ones(l + "final_layer_norm.weight", {D});
        randn(l + "final_layer_norm.bias", {D});
    }
    if (!layout.projector_prefix.empty()) {
        randn(p + "embed_positions.weight", {a.max_source_positions, D});
        ones(p + "layer_norm.weight", {D});
        randn(p + "layer_norm.bias", {D});
        randn(layout.projector_prefix + "linear.weight", {H, D});
        randn(layout.projector_prefix + "linear.bias", {H});
    } else {
        const int64_t o = a.output_dim > 0 ? a.output_dim : H;
        ones(p + "ln_post.weight", {D});
        randn(p + "ln_post.bias", {D});
        randn(p + "proj.weight", {o, D});
        randn(p + "proj.bias", {o});
    }
    return out;
}

ModelConfig writeTinyCheckpoint(const std::string& folder, const std::string& config_file, bool tied,
                                uint64_t max_shard_bytes, torch::Dtype dtype) {
    std::filesystem::create_directories(folder);
    const std::string cfg = (std::filesystem::path(folder) / "config.json").string();
    writeFileAtomic(cfg, readTextFile(config_file));
    ModelConfig config = loadModelConfig(cfg);
    SafetensorsWriteOptions o;
    o.max_shard_bytes = max_shard_bytes;
    writeCheckpointWeights(folder, tinyWeights(config, hubLayout(config, tied), dtype), o);
    return config;
}

}  // namespace xopd::test
