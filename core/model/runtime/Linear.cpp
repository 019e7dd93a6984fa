#include "core/model/runtime/Linear.h"

#include "core/common/Error.h"

namespace xopd::model {

torch::Tensor Linear::forward(const torch::Tensor& x) const {
    torch::Tensor y = torch::linear(x, weight, bias.defined() ? bias : torch::Tensor());
    if (hasLora()) {
        torch::Tensor delta = torch::linear(torch::linear(x, lora_a), lora_b);
        y = y + delta * lora_scale;
    }
    return y;
}

torch::ScalarType upcastType(torch::ScalarType dtype) {
    return dtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

torch::Tensor rmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
    torch::Tensor h = x.to(upcastType(x.scalar_type()));
    torch::Tensor var = h.pow(2).mean(-1, /*keepdim=*/true);
    h = h * torch::rsqrt(var + eps);
    return weight * h.to(x.scalar_type());
}

torch::Tensor layerNorm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                        double eps) {
    return torch::layer_norm(x, {x.size(-1)}, weight, bias, eps);
}

torch::Tensor geluExact(const torch::Tensor& x) { return torch::gelu(x); }

torch::Tensor activation(const torch::Tensor& x, const std::string& name) {
    if (name == "silu") return torch::silu(x);
    if (name == "gelu") return torch::gelu(x);
    if (name == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
    XOPD_FAIL("unsupported activation '" << name << "'");
}

}  // namespace xopd::model
