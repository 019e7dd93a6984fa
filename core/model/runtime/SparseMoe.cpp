#include "core/model/runtime/SparseMoe.h"

#include "core/common/Error.h"

#include <cmath>
#include <limits>

namespace xopd::model {

void RouterStats::merge(const RouterStats& o) {
    for (const auto& [layer, counts] : o.tokens_per_expert) {
        auto& mine = tokens_per_expert[layer];
        if (mine.empty()) mine.assign(counts.size(), 0);
        XOPD_ASSERT(mine.size() == counts.size());
        for (size_t e = 0; e < counts.size(); ++e) mine[e] += counts[e];
    }
    entropy_sum += o.entropy_sum;
    routed += o.routed;
    for (const auto& [layer, c] : o.choices) {
        auto& mine = choices[layer];
        mine = mine.defined() ? torch::cat({mine, c}, 0) : c;
    }
}

double RouterStats::meanEntropy() const {
    return routed > 0 ? entropy_sum / double(routed) : std::numeric_limits<double>::quiet_NaN();
}

namespace {

void recordRouting(const torch::Tensor& probs, const torch::Tensor& chosen, const torch::Tensor& valid, int64_t E,
                   RouterStats& stats, int64_t layer) {
    torch::NoGradGuard no_grad;
    torch::Tensor p = probs.detach(), c = chosen;
    if (valid.defined()) {
        const torch::Tensor keep = valid.reshape({-1}).to(p.device()).to(torch::kBool);
        p = p.index({keep});
        c = c.index({keep});
    }
    if (p.size(0) == 0) return;
    const torch::Tensor entropy = -(p * torch::log(p.clamp_min(std::numeric_limits<float>::min()))).sum(-1);
    const torch::Tensor counts = torch::bincount(c.reshape({-1}), {}, E).to(torch::kCPU).to(torch::kInt64);
    RouterStats one;
    one.tokens_per_expert[layer] = std::vector<int64_t>(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + E);
    one.entropy_sum = entropy.sum().to(torch::kCPU).to(torch::kDouble).item<double>();
    one.routed = p.size(0);
    if (stats.record_choices) one.choices[layer] = std::get<0>(c.sort(-1)).to(torch::kCPU).to(torch::kInt64);
    stats.merge(one);
}

}  // namespace

torch::Tensor sparseMoeForward(const SparseMoeWeights& w, const MixtureOfExperts& moe, const std::string& act,
                               const torch::Tensor& x, const torch::Tensor& valid, RouterStats* stats, int64_t layer) {
    const int64_t E = moe.num_experts, k = moe.num_experts_per_tok, H = x.size(-1);
    XOPD_CHECK(int64_t(w.experts.size()) == E, "sparse MoE layer " << layer << ": " << w.experts.size()
                                                                   << " experts loaded, the config has " << E);
    const torch::Tensor flat = x.reshape({-1, H});
    if (flat.size(0) == 0) return torch::zeros_like(x);
    // Router logits in the weights' dtype (nn.Linear), softmax in float32 over all experts
    // (F.softmax(..., dtype=torch.float)); an fp64 reference model stays in fp64 (Linear.h).
    const torch::Tensor logits = w.router.forward(flat);
    const torch::Tensor probs = torch::softmax(logits, -1, upcastType(flat.scalar_type()));
    auto [top_weights, top_experts] = torch::topk(probs, k, -1);
    if (moe.norm_topk_prob) top_weights = top_weights / top_weights.sum(-1, /*keepdim=*/true);
    top_weights = top_weights.to(flat.scalar_type());
    if (stats) recordRouting(probs, top_experts, valid, E, *stats, layer);

    // (token, expert) pairs grouped by expert; a stable sort keeps token order within an expert.
    const torch::Tensor pair_experts = top_experts.reshape({-1});
    const torch::Tensor order = std::get<1>(torch::sort(pair_experts, /*stable=*/true, /*dim=*/0, /*descending=*/false));
    const torch::Tensor pair_tokens = torch::div(order, k, "floor");
    const torch::Tensor pair_weights = top_weights.reshape({-1}).index_select(0, order).unsqueeze(1);
    const torch::Tensor counts = torch::bincount(pair_experts, {}, E).to(torch::kCPU).to(torch::kInt64);
    const int64_t* count = counts.data_ptr<int64_t>();

    const torch::Tensor routed = flat.index_select(0, pair_tokens);
    std::vector<torch::Tensor> outputs;
    int64_t offset = 0;
    for (int64_t e = 0; e < E; ++e) {
        if (count[e] == 0) continue;
        const ExpertWeights& ex = w.experts[size_t(e)];
        const torch::Tensor xe = routed.narrow(0, offset, count[e]);
        outputs.push_back(ex.down_proj.forward(activation(ex.gate_proj.forward(xe), act) * ex.up_proj.forward(xe)));
        offset += count[e];
    }
    const torch::Tensor weighted = torch::cat(outputs, 0) * pair_weights;
    return torch::zeros_like(flat).index_add(0, pair_tokens, weighted).view(x.sizes());
}

}  // namespace xopd::model
