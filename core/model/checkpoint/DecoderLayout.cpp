#include "core/model/checkpoint/DecoderLayout.h"

#include "core/common/Error.h"

namespace xopd {

std::string decoderLayerPrefix(int64_t layer) { return "layers." + std::to_string(layer) + "."; }

const std::vector<DecoderLinear>& qwen2LayerLinears() {
    static const std::vector<DecoderLinear> linears{
        {"self_attn.q_proj", true}, {"self_attn.k_proj", true}, {"self_attn.v_proj", true}, {"self_attn.o_proj", false},
        {"mlp.gate_proj", false},   {"mlp.up_proj", false},     {"mlp.down_proj", false},
    };
    return linears;
}

std::vector<int64_t> qwen2LinearShape(const DecoderSize& s, const std::string& linear) {
    const int64_t H = s.hidden_size, I = s.intermediate_size;
    const int64_t q = s.num_attention_heads * s.head_dim, kv = s.num_key_value_heads * s.head_dim;
    if (linear == "self_attn.q_proj") return {q, H};
    if (linear == "self_attn.k_proj" || linear == "self_attn.v_proj") return {kv, H};
    if (linear == "self_attn.o_proj") return {H, q};
    if (linear == "mlp.gate_proj" || linear == "mlp.up_proj") return {I, H};
    if (linear == "mlp.down_proj") return {H, I};
    XOPD_FAIL("internal error: '" << linear << "' is not a linear layer of the Qwen2 decoder");
}

std::vector<DecoderTensor> qwen2DecoderTensors(const DecoderSize& s, bool with_head) {
    using Role = DecoderTensorRole;
    const int64_t H = s.hidden_size;
    std::vector<DecoderTensor> out;
    out.push_back({kEmbedTokensName, {s.vocab_size, H}, Role::Embedding});
    for (int64_t i = 0; i < s.num_hidden_layers; ++i) {
        const std::string p = decoderLayerPrefix(i);
        out.push_back({p + kInputNormName, {H}, Role::Norm});
        out.push_back({p + kPostAttentionNormName, {H}, Role::Norm});
        for (const auto& lin : qwen2LayerLinears()) {
            const auto shape = qwen2LinearShape(s, lin.name);
            out.push_back({p + lin.name + ".weight", shape, Role::Weight});
            if (lin.bias) out.push_back({p + lin.name + ".bias", {shape[0]}, Role::Bias});
        }
    }
    out.push_back({kFinalNormName, {H}, Role::Norm});
    if (with_head) out.push_back({kLmHeadName, {s.vocab_size, H}, Role::Head});
    return out;
}

}  // namespace xopd
