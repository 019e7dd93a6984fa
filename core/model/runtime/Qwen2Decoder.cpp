#include "core/model/runtime/Qwen2Decoder.h"

#include "core/common/Error.h"

#include <cmath>

namespace xopd::model {

namespace {

Linear readLinear(const TensorMap& t, const std::string& name, const std::vector<int64_t>& shape, bool bias,
                  const std::string& what) {
    Linear l;
    l.weight = requireShaped(t, name + ".weight", shape, what);
    if (bias) l.bias = requireShaped(t, name + ".bias", {shape[0]}, what);
    return l;
}

}  // namespace

std::vector<std::pair<std::string, Linear*>> DecoderLayerWeights::linears() {
    std::vector<std::pair<std::string, Linear*>> out = {
        {"self_attn.q_proj", &q_proj}, {"self_attn.k_proj", &k_proj}, {"self_attn.v_proj", &v_proj}, {"self_attn.o_proj", &o_proj}};
    if (!sparse) {
        out.insert(out.end(), {{"mlp.gate_proj", &gate_proj}, {"mlp.up_proj", &up_proj}, {"mlp.down_proj", &down_proj}});
        return out;
    }
    out.emplace_back(kRouterName, &moe.router);
    for (size_t e = 0; e < moe.experts.size(); ++e) {
        const std::string p = expertPrefix(int64_t(e));
        auto& ex = moe.experts[e];
        out.insert(out.end(), {{p + "gate_proj", &ex.gate_proj}, {p + "up_proj", &ex.up_proj}, {p + "down_proj", &ex.down_proj}});
    }
    return out;
}

std::vector<std::pair<std::string, torch::Tensor*>> DecoderLayerWeights::norms(const DecoderSize& size) {
    std::vector<std::pair<std::string, torch::Tensor*>> out;
    for (const auto& [name, width] : decoderLayerNorms(size)) {
        torch::Tensor* slot = name == kInputNormName           ? &input_layernorm
                            : name == kPostAttentionNormName   ? &post_attention_layernorm
                            : name == kQNormName               ? &q_norm
                            : name == kKNormName               ? &k_norm
                                                               : nullptr;
        XOPD_ASSERT(slot);
        out.emplace_back(name, slot);
    }
    return out;
}

DecoderSize decoderSize(const DecoderConfig& c) {
    return {c.vocab_size,          c.hidden_size,         c.intermediate_size, c.num_hidden_layers,
            c.num_attention_heads, c.num_key_value_heads, c.head_dim,          c.qkv_bias,
            c.o_bias,              c.qk_norm,           c.moe};
}

Qwen2Decoder Qwen2Decoder::fromTensors(const DecoderConfig& config, const TensorMap& tensors,
                                       const std::string& prefix, const std::string& what) {
    std::vector<std::string> bodies = {prefix + "model."};
    if (prefix == "language_model.") bodies.push_back("model.language_model.");
    if (prefix == "thinker.") bodies.push_back("thinker.model.language_model.");
    std::string body;
    for (const auto& b : bodies)
        if (tensors.count(b + kEmbedTokensName)) {
            body = b;
            break;
        }
    XOPD_CHECK(!body.empty(), what << ": missing tensor '" << bodies[0] << kEmbedTokensName << "'"
                                   << (bodies.size() > 1 ? " (also tried '" + bodies[1] + kEmbedTokensName + "')" : ""));

    const DecoderConfig& c = config;
    const int64_t H = c.hidden_size, D = c.head_dim;
    const DecoderSize size = decoderSize(c);
    Qwen2Decoder d;
    d.config_ = config;
    d.embed_tokens_ = requireShaped(tensors, body + kEmbedTokensName, {c.vocab_size, H}, what);
    d.norm_ = requireShaped(tensors, body + kFinalNormName, {H}, what);
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const std::string p = body + decoderLayerPrefix(i);
        DecoderLayerWeights l;
        const auto widths = decoderLayerNorms(size);
        auto norms = l.norms(size);
        for (size_t k = 0; k < norms.size(); ++k) *norms[k].second = requireShaped(tensors, p + norms[k].first, {widths[k].second}, what);
        l.sparse = c.moe.isSparseLayer(i);
        if (l.sparse) l.moe.experts.resize(size_t(c.moe.num_experts));
        const auto layout = decoderLayerLinears(size, i);
        auto slots = l.linears();
        XOPD_ASSERT(slots.size() == layout.size());
        for (size_t k = 0; k < slots.size(); ++k) {
            XOPD_ASSERT(slots[k].first == layout[k].name);
            *slots[k].second = readLinear(tensors, p + slots[k].first, decoderLinearShape(size, slots[k].first), layout[k].bias, what);
        }
        d.layers_.push_back(std::move(l));
    }
    torch::Tensor head;
    for (const std::string& name : {prefix + kLmHeadName, std::string(kLmHeadName)})
        if (!head.defined() && tensors.count(name)) head = requireShaped(tensors, name, {c.vocab_size, H}, what);
    // §2.4: tied models have no lm_head.weight; fall back to embed_tokens when it is absent.
    d.tied_ = !head.defined();
    d.lm_head_ = d.tied_ ? d.embed_tokens_ : head;
    for (const auto* t : {&d.norm_, &d.lm_head_})
        XOPD_CHECK(t->scalar_type() == d.embed_tokens_.scalar_type(),
                   what << ": mixed weight dtypes (" << t->scalar_type() << " vs " << d.embed_tokens_.scalar_type() << ")");
    d.inv_freq_ = ropeInverseFrequencies(D, c.rope_theta);
    return d;
}

torch::Tensor Qwen2Decoder::embed(const torch::Tensor& ids) const {
    return torch::embedding(embed_tokens_, ids.to(embed_tokens_.device()));
}

torch::Tensor Qwen2Decoder::logitsFromHidden(const torch::Tensor& hidden) const {
    return torch::linear(hidden, lm_head_);
}

DecoderOutput Qwen2Decoder::forward(const DecoderInput& in) const {
    XOPD_CHECK(in.inputs_embeds.defined() || in.input_ids.defined(), "Qwen2Decoder: no input_ids or inputs_embeds");
    torch::Tensor x = in.inputs_embeds.defined() ? in.inputs_embeds.to(dtype()) : embed(in.input_ids);
    XOPD_CHECK(x.dim() == 3 && x.size(2) == config_.hidden_size,
               "Qwen2Decoder: inputs have shape " << shapeString(x.sizes()) << ", expected [B, T, "
                                                  << config_.hidden_size << "]");
    const int64_t B = x.size(0), T = x.size(1);
    const int64_t past = in.cache ? in.cache->length() : 0;
    const int64_t nH = config_.num_attention_heads, nKV = config_.num_key_value_heads, D = config_.head_dim;
    if (in.cache) XOPD_CHECK(in.cache->layers() == config_.num_hidden_layers, "Qwen2Decoder: cache has "
                                                                                << in.cache->layers() << " layers");

    torch::Tensor mask_2d = in.attention_mask;
    if (mask_2d.defined())
        XOPD_CHECK(mask_2d.dim() == 2 && mask_2d.size(0) == B && mask_2d.size(1) == past + T,
                   "Qwen2Decoder: attention_mask has shape " << shapeString(mask_2d.sizes()) << ", expected [" << B
                                                             << ", " << past + T << "]");
    torch::Tensor pos = in.position_ids;
    if (!pos.defined()) {
        pos = mask_2d.defined() ? positionsFromMask(mask_2d.to(x.device()), T)
                                : torch::arange(past, past + T, torch::TensorOptions().dtype(torch::kInt64).device(x.device()))
                                      .unsqueeze(0)
                                      .expand({B, T});
    }
    auto [cos, sin] = ropeCosSin(inv_freq_, pos.to(x.device()), x.scalar_type());
    torch::Tensor mask = causalPaddingMask(mask_2d, B, T, past, x.scalar_type(), x.device());
    const double scale = 1.0 / std::sqrt(static_cast<double>(D));
    // The tokens router statistics count: this pass's columns of the mask (pads excluded).
    torch::Tensor realTokens;
    if (in.router_stats && mask_2d.defined()) realTokens = mask_2d.narrow(1, past, T) != 0;

    DecoderOutput out;
    for (size_t li = 0; li < layers_.size(); ++li) {
        const DecoderLayerWeights& l = layers_[li];
        if (in.output_hidden_states) out.hidden_states.push_back(x);
        torch::Tensor h = rmsNorm(x, l.input_layernorm, config_.rms_norm_eps);
        torch::Tensor q = l.q_proj.forward(h).view({B, T, nH, D});
        torch::Tensor k = l.k_proj.forward(h).view({B, T, nKV, D});
        if (config_.qk_norm) {  // Qwen3: RMSNorm over each head's D values, before RoPE
            q = rmsNorm(q, l.q_norm, config_.rms_norm_eps);
            k = rmsNorm(k, l.k_norm, config_.rms_norm_eps);
        }
        q = q.transpose(1, 2);
        k = k.transpose(1, 2);
        torch::Tensor v = l.v_proj.forward(h).view({B, T, nKV, D}).transpose(1, 2);
        q = applyRope(q, cos, sin);
        k = applyRope(k, cos, sin);
        if (in.cache) std::tie(k, v) = in.cache->append(static_cast<int64_t>(li), k, v);
        torch::Tensor a = scaledDotProductAttention(q, k, v, mask, scale, in.kernel);
        a = a.transpose(1, 2).reshape({B, T, nH * D});
        x = x + l.o_proj.forward(a);
        h = rmsNorm(x, l.post_attention_layernorm, config_.rms_norm_eps);
        if (l.sparse)
            x = x + sparseMoeForward(l.moe, config_.moe, config_.hidden_act, h, realTokens, in.router_stats, int64_t(li));
        else
            x = x + l.down_proj.forward(activation(l.gate_proj.forward(h), config_.hidden_act) * l.up_proj.forward(h));
    }
    if (in.cache) in.cache->advance(T);
    x = rmsNorm(x, norm_, config_.rms_norm_eps);
    if (in.output_hidden_states) out.hidden_states.push_back(x);
    out.last_hidden_state = x;
    if (in.compute_logits) {
        torch::Tensor hx = (in.logits_to_keep > 0 && in.logits_to_keep < T) ? x.narrow(1, T - in.logits_to_keep, in.logits_to_keep) : x;
        out.logits = logitsFromHidden(hx);
    }
    return out;
}

std::vector<std::pair<std::string, torch::Tensor*>> Qwen2Decoder::namedParameters() {
    std::vector<std::pair<std::string, torch::Tensor*>> out;
    const std::string body = "model.";
    out.emplace_back(body + kEmbedTokensName, &embed_tokens_);
    for (size_t i = 0; i < layers_.size(); ++i) {
        const std::string p = body + decoderLayerPrefix(int64_t(i));
        auto& l = layers_[i];
        for (auto& [n, norm] : l.norms(decoderSize(config_))) out.emplace_back(p + n, norm);
        for (auto& [n, lin] : l.linears()) {
            out.emplace_back(p + n + ".weight", &lin->weight);
            if (lin->bias.defined()) out.emplace_back(p + n + ".bias", &lin->bias);
        }
    }
    out.emplace_back(body + kFinalNormName, &norm_);
    if (!tied_) out.emplace_back(kLmHeadName, &lm_head_);
    return out;
}

std::vector<std::pair<std::string, Linear*>> Qwen2Decoder::namedLinears() {
    std::vector<std::pair<std::string, Linear*>> out;
    for (size_t i = 0; i < layers_.size(); ++i) {
        const std::string p = "model." + decoderLayerPrefix(int64_t(i));
        for (auto& [n, lin] : layers_[i].linears()) out.emplace_back(p + n, lin);
    }
    return out;
}

void Qwen2Decoder::to(torch::ScalarType dtype) {
    for (auto& [name, t] : namedParameters()) *t = t->to(dtype);
    for (auto& [name, l] : namedLinears()) {
        if (l->lora_a.defined()) l->lora_a = l->lora_a.to(dtype);
        if (l->lora_b.defined()) l->lora_b = l->lora_b.to(dtype);
    }
    if (tied_) lm_head_ = embed_tokens_;
}

void Qwen2Decoder::to(torch::Device device) {
    for (auto& [name, t] : namedParameters()) *t = t->to(device);
    for (auto& [name, l] : namedLinears()) {
        if (l->lora_a.defined()) l->lora_a = l->lora_a.to(device);
        if (l->lora_b.defined()) l->lora_b = l->lora_b.to(device);
    }
    if (tied_) lm_head_ = embed_tokens_;
    inv_freq_ = inv_freq_.to(device);
}

int64_t Qwen2Decoder::parameterCount() const {
    int64_t n = 0;
    for (auto& [name, t] : const_cast<Qwen2Decoder*>(this)->namedParameters()) n += t->numel();
    return n;
}

}  // namespace xopd::model
