#include "core/distill/Lora.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/model/checkpoint/SafetensorsWriter.h"

#include <cmath>
#include <set>

namespace xopd::distill {
namespace {
bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

std::vector<LoraAdapter> attachLora(const std::vector<std::pair<std::string, model::Linear*>>& linears,
                                    const LoraOptions& o) {
    XOPD_CHECK(o.rank >= 1, "LoRA rank must be >= 1, got " << o.rank);
    XOPD_CHECK(o.alpha > 0, "LoRA alpha must be > 0, got " << o.alpha);
    auto gen = at::detail::createCPUGenerator(o.seed);
    std::vector<LoraAdapter> out;
    for (const auto& [name, lin] : linears) {
        bool match = false;
        for (const auto& t : o.targets) match |= endsWith(name, t);
        if (!match) continue;
        torch::NoGradGuard noGrad;
        const auto opts = torch::TensorOptions().dtype(lin->weight.scalar_type());
        // PEFT: A ~ kaiming_uniform(a = sqrt(5)) → U(−1/sqrt(in), 1/sqrt(in)); B = 0.
        const double bound = 1.0 / std::sqrt(double(lin->inFeatures()));
        auto a = (torch::rand({o.rank, lin->inFeatures()}, gen, torch::kFloat32) * 2.0 - 1.0) * bound;
        lin->lora_a = a.to(opts).to(lin->weight.device()).set_requires_grad(true);
        lin->lora_b = torch::zeros({lin->outFeatures(), o.rank}, opts.device(lin->weight.device())).set_requires_grad(true);
        lin->lora_scale = o.alpha / double(o.rank);
        lin->weight.set_requires_grad(false);
        if (lin->bias.defined()) lin->bias.set_requires_grad(false);
        out.push_back({name, lin});
    }
    XOPD_CHECK(!out.empty(), "LoRA: no linear layer matches the targets (first module: '"
                                 << (linears.empty() ? std::string("none") : linears.front().first) << "')");
    return out;
}

std::vector<torch::Tensor> loraParameters(const std::vector<LoraAdapter>& adapters) {
    std::vector<torch::Tensor> p;
    for (const auto& a : adapters) {
        p.push_back(a.linear->lora_a);
        p.push_back(a.linear->lora_b);
    }
    return p;
}

std::vector<std::pair<std::string, torch::Tensor>> loraState(const std::vector<LoraAdapter>& adapters) {
    std::vector<std::pair<std::string, torch::Tensor>> s;
    for (const auto& a : adapters) {
        s.emplace_back("base_model.model." + a.module + ".lora_A.weight", a.linear->lora_a);
        s.emplace_back("base_model.model." + a.module + ".lora_B.weight", a.linear->lora_b);
    }
    return s;
}

void writePeftAdapter(const std::string& folder, const std::vector<LoraAdapter>& adapters, const LoraOptions& o,
                      const std::string& base_model) {
    std::set<std::string> modules;
    for (const auto& a : adapters) modules.insert(a.module.substr(a.module.rfind('.') + 1));
    nlohmann::json cfg = {
        {"peft_type", "LORA"},
        {"task_type", "CAUSAL_LM"},
        {"base_model_name_or_path", base_model},
        {"r", o.rank},
        {"lora_alpha", o.alpha},
        {"lora_dropout", 0.0},
        {"bias", "none"},
        {"fan_in_fan_out", false},
        {"inference_mode", true},
        {"target_modules", std::vector<std::string>(modules.begin(), modules.end())},
    };
    writeJsonFileAtomic(folder + "/adapter_config.json", cfg);
    NamedTensors tensors;
    for (auto& [n, t] : loraState(adapters)) tensors.emplace_back(n, t.detach().contiguous());
    writeSafetensors(folder + "/adapter_model.safetensors", tensors);
}

}  // namespace xopd::distill
