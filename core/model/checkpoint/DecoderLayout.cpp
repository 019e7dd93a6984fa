#include "core/model/checkpoint/DecoderLayout.h"

#include "core/common/Error.h"

namespace xopd {

std::string decoderLayerPrefix(int64_t layer) { return "layers." + std::to_string(layer) + "."; }

bool isRouterModule(const std::string& module) {
    const std::string suffix = std::string(".") + kRouterName;
    return module == kRouterName ||
           (module.size() > suffix.size() && module.compare(module.size() - suffix.size(), suffix.size(), suffix) == 0);
}

std::string expertPrefix(int64_t expert) { return "mlp.experts." + std::to_string(expert) + "."; }

std::vector<DecoderLinear> attentionLinears(const DecoderSize& s) {
    return {{"self_attn.q_proj", s.qkv_bias}, {"self_attn.k_proj", s.qkv_bias}, {"self_attn.v_proj", s.qkv_bias},
            {"self_attn.o_proj", s.o_bias}};
}

std::vector<DecoderLinear> decoderLayerLinears(const DecoderSize& s, int64_t layer) {
    std::vector<DecoderLinear> out = attentionLinears(s);
    if (!s.moe.isSparseLayer(layer)) {
        for (const char* n : {"mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) out.push_back({n, false});
        return out;
    }
    out.push_back({kRouterName, false});
    for (int64_t e = 0; e < s.moe.num_experts; ++e)
        for (const char* n : {"gate_proj", "up_proj", "down_proj"}) out.push_back({expertPrefix(e) + n, false});
    return out;
}

std::vector<int64_t> decoderLinearShape(const DecoderSize& s, const std::string& linear) {
    const int64_t H = s.hidden_size, I = s.intermediate_size, E = s.moe.moe_intermediate_size;
    const int64_t q = s.num_attention_heads * s.head_dim, kv = s.num_key_value_heads * s.head_dim;
    if (linear == "self_attn.q_proj") return {q, H};
    if (linear == "self_attn.k_proj" || linear == "self_attn.v_proj") return {kv, H};
    if (linear == "self_attn.o_proj") return {H, q};
    if (linear == "mlp.gate_proj" || linear == "mlp.up_proj") return {I, H};
    if (linear == "mlp.down_proj") return {H, I};
    if (linear == kRouterName) return {s.moe.num_experts, H};
    const std::string experts = "mlp.experts.";
    if (linear.rfind(experts, 0) == 0) {  // mlp.experts.N.{gate,up,down}_proj
        auto ends = [&](const std::string& suffix) {
            return linear.size() > suffix.size() && linear.compare(linear.size() - suffix.size(), suffix.size(), suffix) == 0;
        };
        if (ends(".gate_proj") || ends(".up_proj")) return {E, H};
        if (ends(".down_proj")) return {H, E};
    }
    XOPD_FAIL("internal error: '" << linear << "' is not a linear layer of the decoder");
}

std::vector<std::pair<std::string, int64_t>> decoderLayerNorms(const DecoderSize& s) {
    std::vector<std::pair<std::string, int64_t>> out{{kInputNormName, s.hidden_size}, {kPostAttentionNormName, s.hidden_size}};
    if (s.qk_norm) {
        out.emplace_back(kQNormName, s.head_dim);
        out.emplace_back(kKNormName, s.head_dim);
    }
    return out;
}

std::vector<DecoderTensor> decoderTensors(const DecoderSize& s, bool with_head) {
    using Role = DecoderTensorRole;
    const int64_t H = s.hidden_size;
    std::vector<DecoderTensor> out;
    out.push_back({kEmbedTokensName, {s.vocab_size, H}, Role::Embedding});
    for (int64_t i = 0; i < s.num_hidden_layers; ++i) {
        const std::string p = decoderLayerPrefix(i);
        for (const auto& [name, width] : decoderLayerNorms(s)) out.push_back({p + name, {width}, Role::Norm});
        for (const auto& lin : decoderLayerLinears(s, i)) {
            const auto shape = decoderLinearShape(s, lin.name);
            out.push_back({p + lin.name + ".weight", shape, Role::Weight});
            if (lin.bias) out.push_back({p + lin.name + ".bias", {shape[0]}, Role::Bias});
        }
    }
    out.push_back({kFinalNormName, {H}, Role::Norm});
    if (with_head) out.push_back({kLmHeadName, {s.vocab_size, H}, Role::Head});
    return out;
}

}  // namespace xopd
