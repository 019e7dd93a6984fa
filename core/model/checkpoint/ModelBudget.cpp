#include "core/model/checkpoint/ModelBudget.h"

#include "core/common/Error.h"
#include "core/model/checkpoint/CheckpointLayout.h"
#include "core/model/checkpoint/DecoderLayout.h"

#include <algorithm>

namespace xopd {

namespace {

int64_t numel(const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool isExpertTensor(const std::string& name) { return name.find(".mlp.experts.") != std::string::npos; }
bool isRouterTensor(const std::string& name) {
    const std::string weight = ".weight";
    return endsWith(name, weight) && isRouterModule(name.substr(0, name.size() - weight.size()));
}

/// Whisper-style encoder layers: q/k/v/out [d, d], biases on q, v, out (no key bias), two
/// LayerNorms, fc1 [ffn, d] + bias, fc2 [d, ffn] + bias (CheckpointLayout.cpp's expectations).
int64_t whisperLayers(const AudioEncoderConfig& a, bool key_bias) {
    const int64_t d = a.d_model, f = a.encoder_ffn_dim;
    return a.encoder_layers * (4 * d * d + 3 * d + (key_bias ? d : 0) + 2 * 2 * d + (f * d + f) + (d * f + d));
}

int64_t audioEncoderParameters(const ModelConfig& c) {
    if (!c.audio) return 0;
    const AudioEncoderConfig& a = *c.audio;
    const int64_t d = a.d_model;
    const int64_t out = a.output_dim > 0 ? a.output_dim : c.text.hidden_size;
    if (c.architecture == ModelArchitecture::Qwen3OmniMoe) {
        // AuT (docs/models/qwen3-omni.md §3): conv2d1 (1 -> C), conv2d2, conv2d3 (C -> C), 3x3, biased;
        // conv_out [d, C x mel bins after three stride-2 halvings], no bias; layers with a key bias;
        // ln_post; proj1 [d, d]; proj2 [out, d]. The sinusoid is a buffer, not a parameter.
        const int64_t ch = a.downsample_hidden_size;
        const int64_t freq = (((a.num_mel_bins + 1) / 2 + 1) / 2 + 1) / 2;
        return (9 * ch + ch) + 2 * (9 * ch * ch + ch) + ch * freq * d + whisperLayers(a, /*key_bias=*/true) + 2 * d +
               (d * d + d) + (d * out + out);
    }
    const int64_t convs = (a.num_mel_bins * d * 3 + d) + (d * d * 3 + d);
    if (c.architecture == ModelArchitecture::Qwen2Audio)  // learned positions, LayerNorm, projector to H
        return convs + a.max_source_positions * d + whisperLayers(a, false) + 2 * d + (c.text.hidden_size * d + c.text.hidden_size);
    // Qwen2.5-Omni: ln_post, proj to output_dim, and audio_bos_eos_token (Embedding(2, output_dim),
    // stored though the forward does not use it).
    return convs + whisperLayers(a, false) + 2 * d + (d * out + out) + 2 * out;
}

}  // namespace

ParameterCounts parameterCountsOf(const ModelConfig& c) {
    ParameterCounts p;
    const DecoderSize size = decoderSizeOf(c.text);
    int64_t expert_size = 0;  // one expert's parameters
    for (const auto& t : decoderTensors(size, /*with_head=*/!c.text.tie_word_embeddings)) {
        const int64_t n = numel(t.shape);
        p.total += n;
        if (t.role == DecoderTensorRole::Embedding) p.embedding += n;
        else if (t.role == DecoderTensorRole::Head) p.lm_head += n;
        else if (t.role == DecoderTensorRole::Norm && t.name.find("self_attn.") == std::string::npos) p.norms += n;
        else if (isExpertTensor(t.name)) p.experts += n;
        else if (isRouterTensor(t.name)) p.router += n;
        else if (t.name.find(".mlp.") != std::string::npos) p.dense_mlp += n;
        else p.attention += n;
    }
    const MixtureOfExperts& moe = c.text.moe;
    int64_t sparse_layers = 0;
    for (int64_t i = 0; i < c.text.num_hidden_layers; ++i) sparse_layers += moe.isSparseLayer(i) ? 1 : 0;
    if (sparse_layers > 0) expert_size = 3 * moe.moe_intermediate_size * c.text.hidden_size;
    // A token runs k of the E experts of each sparse layer; everything else of the decoder runs for
    // every token. The audio encoder runs on audio frames, not per token: not in `active` (the
    // model cards' convention, e.g. Qwen3-Omni "3.3B activated").
    p.active = p.total - sparse_layers * (moe.num_experts - moe.num_experts_per_tok) * expert_size;
    p.audio_encoder = audioEncoderParameters(c);
    p.total += p.audio_encoder;
    return p;
}

MemoryNeed memoryNeedOf(const ModelConfig& c, const MemoryOptions& o) {
    XOPD_CHECK(o.training != Training::Invalid && o.batch > 0 && o.sequence_length > 0 && o.weight_bytes > 0,
               "memory estimate: training mode, batch, length and weight bytes must be set");
    const TextModelConfig& t = c.text;
    const ParameterCounts p = parameterCountsOf(c);
    MemoryNeed m;
    m.weights = p.total * o.weight_bytes;
    const DecoderSize size = decoderSizeOf(t);
    if (o.training == Training::Full) {
        m.trainable_parameters = p.total - p.audio_encoder - (o.train_router ? 0 : p.router);
        m.gradients = m.trainable_parameters * o.weight_bytes;
    } else if (o.training == Training::Lora) {
        for (const auto& tensor : decoderTensors(size, /*with_head=*/false)) {
            if (tensor.role != DecoderTensorRole::Weight || isRouterTensor(tensor.name)) continue;
            const std::string module = tensor.name.substr(0, tensor.name.size() - std::string(".weight").size());
            const bool target = std::any_of(o.lora_targets.begin(), o.lora_targets.end(),
                                            [&](const std::string& s) { return endsWith(module, s); });
            if (target) m.trainable_parameters += o.lora_rank * (tensor.shape[0] + tensor.shape[1]);
        }
        m.weights += m.trainable_parameters * 4;  // fp32 adapters
        m.gradients = m.trainable_parameters * 4;
    }
    m.optimizer = m.trainable_parameters * 2 * 4;

    const int64_t tokens = o.batch * o.sequence_length, L = t.num_hidden_layers, b = o.weight_bytes;
    const int64_t q = t.num_attention_heads * t.head_dim, kv = t.num_key_value_heads * t.head_dim;
    m.kv_cache = kvCacheBytes(L, t.num_key_value_heads, t.head_dim, tokens, b);
    // The fp32 logits, their log-softmax and (training) the gradient of the logits.
    const int64_t logits = tokens * t.vocab_size * (o.training == Training::Frozen ? 2 : 3) * 4;
    auto layerActivations = [&](int64_t layer) {
        const bool sparse = t.moe.isSparseLayer(layer);
        const int64_t inter = sparse ? t.moe.num_experts_per_tok * t.moe.moe_intermediate_size : t.intermediate_size;
        // A sparse layer also keeps the router logits and, per routed (token, expert) pair, the
        // gathered input, the expert output and its weighted copy (3 k H).
        const int64_t moe = sparse ? t.moe.num_experts + 3 * t.moe.num_experts_per_tok * t.hidden_size : 0;
        // RoPE keeps q and k, their rotated halves and (Qwen3) their normed copies: 3 (q + kv) more.
        const int64_t per_token = 4 * t.hidden_size + 2 * q + 2 * kv + 3 * (q + kv) + 4 * inter + moe;
        // Eager attention: the scores and the probabilities, batch × heads × length² each.
        return per_token * tokens * b + 2 * o.batch * t.num_attention_heads * o.sequence_length * o.sequence_length * b;
    };
    if (o.training == Training::Frozen) {
        int64_t widest = 0;
        for (int64_t i = 0; i < L; ++i) widest = std::max(widest, layerActivations(i));
        m.activations = widest + logits;
    } else {
        for (int64_t i = 0; i < L; ++i) m.activations += layerActivations(i);
        m.activations += logits;
    }
    return m;
}

}  // namespace xopd
