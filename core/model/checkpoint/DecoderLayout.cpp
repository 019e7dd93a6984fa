#include "core/model/checkpoint/DecoderLayout.h"

#include "core/common/Error.h"

namespace xopd {

std::string decoderLayerPrefix(int64_t layer) { return "layers." + std::to_string(layer) + "."; }

std::vector<DecoderLinear> decoderLayerLinears(const DecoderSize& s) {
    return {{"self_attn.q_proj", s.qkv_bias}, {"self_attn.k_proj", s.qkv_bias}, {"self_attn.v_proj", s.qkv_bias},
            {"self_attn.o_proj", s.o_bias},   {"mlp.gate_proj", false},          {"mlp.up_proj", false},
            {"mlp.down_proj", false}};
}

std::vector<int64_t> decoderLinearShape(const DecoderSize& s, const std::string& linear) {
    const int64_t H = s.hidden_size, I = s.intermediate_size;
    const int64_t q = s.num_attention_heads * s.head_dim, kv = s.num_key_value_heads * s.head_dim;
    if (linear == "self_attn.q_proj") return {q, H};
    if (linear == "self_attn.k_proj" || linear == "self_attn.v_proj") return {kv, H};
    if (linear == "self_attn.o_proj") return {H, q};
    if (linear == "mlp.gate_proj" || linear == "mlp.up_proj") return {I, H};
    if (linear == "mlp.down_proj") return {H, I};
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
        for (const auto& lin : decoderLayerLinears(s)) {
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
