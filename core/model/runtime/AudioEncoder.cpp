#include "core/model/runtime/AudioEncoder.h"

#include "core/common/Error.h"
#include "core/model/runtime/Attention.h"

#include <cmath>
#include <limits>

namespace xopd::model {

int64_t audioTokenCount(int64_t valid_frames) {
    auto floorDiv = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
    const int64_t t1 = floorDiv(valid_frames - 1, 2) + 1;  // Python floor division, as HF
    return floorDiv(t1 - 2, 2) + 1;
}

namespace {
Linear readLin(const TensorMap& t, const std::string& name, int64_t out, int64_t in, bool bias, const std::string& what) {
    Linear l;
    l.weight = requireShaped(t, name + ".weight", {out, in}, what);
    if (bias) l.bias = requireShaped(t, name + ".bias", {out}, what);
    return l;
}
}  // namespace

WhisperLayer WhisperLayer::read(const TensorMap& t, const std::string& p, int64_t d, int64_t ffn, const std::string& what,
                                bool key_bias) {
    WhisperLayer l;
    l.attn_ln_weight = requireShaped(t, p + "self_attn_layer_norm.weight", {d}, what);
    l.attn_ln_bias = requireShaped(t, p + "self_attn_layer_norm.bias", {d}, what);
    l.q_proj = readLin(t, p + "self_attn.q_proj", d, d, true, what);
    l.k_proj = readLin(t, p + "self_attn.k_proj", d, d, key_bias, what);
    l.v_proj = readLin(t, p + "self_attn.v_proj", d, d, true, what);
    l.out_proj = readLin(t, p + "self_attn.out_proj", d, d, true, what);
    l.final_ln_weight = requireShaped(t, p + "final_layer_norm.weight", {d}, what);
    l.final_ln_bias = requireShaped(t, p + "final_layer_norm.bias", {d}, what);
    l.fc1 = readLin(t, p + "fc1", ffn, d, true, what);
    l.fc2 = readLin(t, p + "fc2", d, ffn, true, what);
    return l;
}

torch::Tensor WhisperLayer::forward(const torch::Tensor& x, const torch::Tensor& mask, int64_t heads,
                                    bool scale_query) const {
    const int64_t N = x.size(0), T = x.size(1), d = x.size(2), D = d / heads;
    const double scale = 1.0 / std::sqrt(static_cast<double>(D));
    torch::Tensor h = layerNorm(x, attn_ln_weight, attn_ln_bias);
    torch::Tensor q = q_proj.forward(h);
    if (scale_query) q = q * scale;
    q = q.view({N, T, heads, D}).transpose(1, 2);
    torch::Tensor k = k_proj.forward(h).view({N, T, heads, D}).transpose(1, 2);
    torch::Tensor v = v_proj.forward(h).view({N, T, heads, D}).transpose(1, 2);
    torch::Tensor a = scaledDotProductAttention(q, k, v, mask, scale_query ? 1.0 : scale, AttentionKernel::Explicit);
    torch::Tensor y = x + out_proj.forward(a.transpose(1, 2).reshape({N, T, d}));
    h = layerNorm(y, final_ln_weight, final_ln_bias);
    return y + fc2.forward(geluExact(fc1.forward(h)));
}

void WhisperLayer::collect(const std::string& p, std::vector<std::pair<std::string, torch::Tensor*>>& out) {
    out.emplace_back(p + "self_attn_layer_norm.weight", &attn_ln_weight);
    out.emplace_back(p + "self_attn_layer_norm.bias", &attn_ln_bias);
    for (auto& [n, l] : std::vector<std::pair<std::string, Linear*>>{{"self_attn.q_proj", &q_proj},
                                                                    {"self_attn.k_proj", &k_proj},
                                                                    {"self_attn.v_proj", &v_proj},
                                                                    {"self_attn.out_proj", &out_proj},
                                                                    {"fc1", &fc1},
                                                                    {"fc2", &fc2}}) {
        out.emplace_back(p + n + ".weight", &l->weight);
        if (l->bias.defined()) out.emplace_back(p + n + ".bias", &l->bias);
    }
    out.emplace_back(p + "final_layer_norm.weight", &final_ln_weight);
    out.emplace_back(p + "final_layer_norm.bias", &final_ln_bias);
}

void checkClipFeatures(const AudioFeatures& c, size_t i, int64_t mel_bins) {
    XOPD_CHECK(c.mel.dim() == 2 && c.mel.size(0) == mel_bins,
               "audio clip " << i << ": features have shape " << shapeString(c.mel.sizes()) << ", expected [" << mel_bins
                             << ", frames]");
    XOPD_CHECK(c.valid_frames >= 1 && c.valid_frames <= c.mel.size(1),
               "audio clip " << i << ": valid frames " << c.valid_frames << " outside 1.." << c.mel.size(1));
}

torch::Tensor keyPaddingMask(const std::vector<int64_t>& lengths, int64_t T, const torch::TensorOptions& options) {
    const int64_t N = int64_t(lengths.size());
    const torch::Tensor len = torch::tensor(lengths, torch::kInt64).to(options.device()).view({N, 1});
    const torch::Tensor padded =
        torch::arange(T, torch::TensorOptions().dtype(torch::kInt64).device(options.device())).view({1, T}) >= len;
    const double lowest = options.dtype() == torch::kBFloat16 ? -3.3895313892515355e38
                                                              : static_cast<double>(std::numeric_limits<float>::lowest());
    return torch::zeros({N, 1, 1, T}, options).masked_fill(padded.view({N, 1, 1, T}), lowest);
}

void convertParameters(std::vector<std::pair<std::string, torch::Tensor*>> params, torch::ScalarType dtype) {
    for (auto& [n, t] : params) *t = t->to(dtype);
}
void convertParameters(std::vector<std::pair<std::string, torch::Tensor*>> params, torch::Device device) {
    for (auto& [n, t] : params) *t = t->to(device);
}

}  // namespace xopd::model
