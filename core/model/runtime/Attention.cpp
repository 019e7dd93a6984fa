#include "core/model/runtime/Attention.h"

#include "core/common/Error.h"
#include "core/model/runtime/Linear.h"

#include <cmath>

namespace xopd::model {

torch::Tensor ropeInverseFrequencies(int64_t head_dim, double theta) {
    torch::Tensor exponent = torch::arange(0, head_dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(head_dim);
    // Python: 1.0 / (base ** exponent): pow(scalar, fp32 tensor) in fp32, then reciprocal.
    return torch::reciprocal(torch::pow(theta, exponent));
}

std::pair<torch::Tensor, torch::Tensor> ropeCosSin(const torch::Tensor& inv_freq, const torch::Tensor& position_ids,
                                                   torch::ScalarType dtype) {
    torch::Tensor pos = position_ids.to(torch::kFloat32).unsqueeze(-1);             // [B,T,1]
    torch::Tensor freqs = pos * inv_freq.to(pos.device()).view({1, 1, -1});          // [B,T,D/2]
    torch::Tensor emb = torch::cat({freqs, freqs}, -1);                              // [B,T,D]
    return {emb.cos().to(dtype).unsqueeze(1), emb.sin().to(dtype).unsqueeze(1)};
}

torch::Tensor applyRope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
    const int64_t half = x.size(-1) / 2;
    torch::Tensor rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
    return x * cos + rotated * sin;
}

torch::Tensor positionsFromMask(const torch::Tensor& attention_mask, int64_t t) {
    torch::Tensor m = attention_mask.to(torch::kInt64);
    torch::Tensor pos = m.cumsum(-1) - 1;
    pos.masked_fill_(m == 0, 1);
    return pos.narrow(1, pos.size(1) - t, t);
}

torch::Tensor causalPaddingMask(const torch::Tensor& attention_mask, int64_t batch, int64_t t, int64_t past,
                                torch::ScalarType dtype, torch::Device device) {
    const int64_t s = past + t;
    const bool padded = attention_mask.defined() && !attention_mask.all().item<bool>();
    if (!padded && t == 1) return {};
    auto opts = torch::TensorOptions().device(device);
    torch::Tensor qpos = torch::arange(past, s, opts.dtype(torch::kInt64)).view({t, 1});
    torch::Tensor kpos = torch::arange(0, s, opts.dtype(torch::kInt64)).view({1, s});
    torch::Tensor allowed = (kpos <= qpos).view({1, 1, t, s});                     // causal
    if (padded) {
        XOPD_CHECK(attention_mask.dim() == 2 && attention_mask.size(0) == batch && attention_mask.size(1) == s,
                   "attention mask has shape [" << attention_mask.size(0) << ", " << attention_mask.size(1)
                                                << "], expected [" << batch << ", " << s << "]");
        allowed = allowed & attention_mask.to(device).to(torch::kBool).view({batch, 1, 1, s});
    }
    double lowest = dtype == torch::kBFloat16 ? -3.3895313892515355e38
                    : dtype == torch::kFloat16 ? -65504.0
                    : dtype == torch::kFloat64 ? std::numeric_limits<double>::lowest()
                                                : static_cast<double>(std::numeric_limits<float>::lowest());
    torch::Tensor zero = torch::zeros({}, opts.dtype(dtype));
    torch::Tensor low = torch::full({}, lowest, opts.dtype(dtype));
    return torch::where(allowed, zero, low);
}

namespace {
torch::Tensor repeatKv(const torch::Tensor& x, int64_t rep) {
    if (rep == 1) return x;
    const auto b = x.size(0), h = x.size(1), s = x.size(2), d = x.size(3);
    return x.unsqueeze(2).expand({b, h, rep, s, d}).reshape({b, h * rep, s, d});
}
}  // namespace

torch::Tensor scaledDotProductAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                        const torch::Tensor& mask, double scale, AttentionKernel kernel) {
    const int64_t rep = q.size(1) / k.size(1);
    torch::Tensor kk = repeatKv(k, rep), vv = repeatKv(v, rep);
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
    if (kernel == AttentionKernel::Auto) {
        // The fused op scales by 1/sqrt(D) by default; pass the scale explicitly (LibTorch >= 2.1).
        return at::scaled_dot_product_attention(q, kk, vv, mask.defined() ? mask.to(q.scalar_type()) : mask, 0.0,
                                                false, scale);
    }
#endif
    (void)kernel;
    torch::Tensor w = torch::matmul(q, kk.transpose(2, 3)) * scale;
    if (mask.defined()) w = w + mask;
    // fp32 for bf16 / fp32 (HF eager). An fp64 model stays fp64: its mask holds the fp64 lowest, which
    // would round to −inf in fp32 and turn fully masked rows (left padding) into NaN.
    w = torch::softmax(w, -1, upcastType(q.scalar_type())).to(q.scalar_type());
    return torch::matmul(w, vv);
}

}  // namespace xopd::model
