#include "core/distill/DataParallel.h"

#include "core/common/Error.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace xopd::distill::dp {
namespace {

bool endsWith(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
bool startsWith(const std::string& s, const std::string& head) { return s.rfind(head, 0) == 0; }

enum class Rule { Sum, Max, Min, Mean };

Rule ruleOf(const std::string& k) {
    if (k == "tokens_per_s" || endsWith(k, "/objective") || endsWith(k, "/gkd_divergence") ||
        endsWith(k, "/tokens"))
        return Rule::Sum;
    if (startsWith(k, "time/") || endsWith(k, "_max")) return Rule::Max;
    if (endsWith(k, "_min")) return Rule::Min;
    return Rule::Mean;
}

torch::Tensor doubles(const std::vector<double>& v) {
    return torch::tensor(v, torch::TensorOptions().dtype(torch::kDouble)).contiguous();
}

std::vector<double> values(const torch::Tensor& t) {
    const auto c = t.contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

std::pair<int64_t, int64_t> shardRange(int64_t count, int64_t rank, int64_t world) {
    XOPD_CHECK(world >= 1 && rank >= 0 && rank < world, "shard: rank " << rank << " of " << world);
    return {count * rank / world, count * (rank + 1) / world};
}

std::pair<int64_t, int64_t> batchShard(int64_t batch, int64_t group, int64_t rank, int64_t world) {
    XOPD_CHECK(group >= 1, "batchShard: group of " << group);
    const int64_t groups = (batch + group - 1) / group;
    const auto [lo, hi] = shardRange(groups, rank, world);
    return {std::min(batch, lo * group), std::min(batch, hi * group)};
}

void broadcastParameters(dist::Group& group, const std::vector<torch::Tensor>& tensors) {
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> data;
    for (const auto& t : tensors) data.push_back(t.detach().contiguous());
    group.broadcast(data, 0);
    for (size_t i = 0; i < tensors.size(); ++i)
        if (data[i].data_ptr() != tensors[i].data_ptr()) tensors[i].detach().copy_(data[i]);
}

void allreduceGradients(dist::Group& group, const std::vector<torch::Tensor>& params, int64_t bucket_bytes) {
    torch::NoGradGuard noGrad;
    // Which grads exist anywhere: a rank whose shard left a parameter unused must still take part.
    std::vector<double> defined(params.size());
    for (size_t i = 0; i < params.size(); ++i) defined[i] = params[i].grad().defined() ? 1.0 : 0.0;
    defined = allreduceSum(group, defined);
    std::vector<torch::Tensor> grads;
    for (size_t i = 0; i < params.size(); ++i) {
        if (defined[i] == 0.0) continue;
        auto p = params[i];
        if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
        grads.push_back(p.grad());
    }
    // Buckets: consecutive grads of one dtype and device up to bucket_bytes (a larger grad alone).
    size_t i = 0;
    while (i < grads.size()) {
        size_t j = i;
        int64_t bytes = 0;
        while (j < grads.size() && grads[j].scalar_type() == grads[i].scalar_type() &&
               grads[j].device() == grads[i].device() &&
               (j == i || bytes + grads[j].numel() * int64_t(grads[j].element_size()) <= bucket_bytes)) {
            bytes += grads[j].numel() * int64_t(grads[j].element_size());
            ++j;
        }
        std::vector<torch::Tensor> flat;
        for (size_t k = i; k < j; ++k) flat.push_back(grads[k].reshape({-1}));
        std::vector<torch::Tensor> bucket{torch::cat(flat).contiguous()};
        group.allreduce(bucket, dist::ReduceOp::Sum);
        int64_t offset = 0;
        for (size_t k = i; k < j; ++k) {
            const int64_t n = grads[k].numel();
            grads[k].copy_(bucket[0].slice(0, offset, offset + n).view_as(grads[k]));
            offset += n;
        }
        i = j;
    }
}

std::vector<double> allreduceSum(dist::Group& group, std::vector<double> v) {
    if (v.empty()) return v;
    std::vector<torch::Tensor> t{doubles(v)};
    group.allreduce(t, dist::ReduceOp::Sum);
    return values(t[0]);
}

std::string teacherOutcome(dist::Group& group, const std::string& mine, const std::string& url) {
    std::vector<double> failed(size_t(group.worldSize()), 0.0);
    failed[size_t(group.rank())] = mine.empty() ? 0.0 : 1.0;
    failed = allreduceSum(group, failed);
    if (!mine.empty()) return mine;
    std::string ranks;
    for (size_t r = 0; r < failed.size(); ++r)
        if (failed[r] > 0.0) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
    if (ranks.empty()) return {};
    return "the served teacher was unreachable from rank " + ranks + " of " + std::to_string(group.worldSize()) + " (rank " +
           std::to_string(group.rank()) + "'s requests to '" + url + "' were answered)";
}

void reduceScalars(dist::Group& group, std::map<std::string, double>& scalars) {
    // The same keys everywhere, or the packed vectors below would not line up.
    std::string names;
    for (const auto& [k, v] : scalars) names += k + '\n';
    const double h = double(std::hash<std::string>{}(names) % (uint64_t(1) << 52));
    std::vector<torch::Tensor> lo{doubles({h, double(scalars.size())})}, hi{doubles({h, double(scalars.size())})};
    group.allreduce(lo, dist::ReduceOp::Min);
    group.allreduce(hi, dist::ReduceOp::Max);
    XOPD_CHECK(values(lo[0]) == values(hi[0]),
               "data parallel: the ranks' step metrics have different names (" << scalars.size() << " here)");

    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> sums, mins, maxs;
    for (const auto& [k, v] : scalars) {
        const bool finite = !std::isnan(v);
        switch (ruleOf(k)) {
            case Rule::Sum: sums.push_back(v); sums.push_back(1.0); break;
            case Rule::Max: maxs.push_back(finite ? v : -inf); break;
            case Rule::Min: mins.push_back(finite ? v : inf); break;
            case Rule::Mean: {
                // Weight: the stream's token count for "text/…" / "speech/…" keys, else 1.
                double w = 1.0;
                const auto slash = k.find('/');
                if (slash != std::string::npos) {
                    const auto it = scalars.find(k.substr(0, slash + 1) + "tokens");
                    if (it != scalars.end() && std::isfinite(it->second)) w = it->second;
                }
                if (!finite) w = 0.0;
                sums.push_back(finite ? v * w : 0.0);
                sums.push_back(w);
                break;
            }
        }
    }
    std::vector<torch::Tensor> s{doubles(sums)}, mn{doubles(mins)}, mx{doubles(maxs)};
    if (!sums.empty()) group.allreduce(s, dist::ReduceOp::Sum);
    if (!mins.empty()) group.allreduce(mn, dist::ReduceOp::Min);
    if (!maxs.empty()) group.allreduce(mx, dist::ReduceOp::Max);
    const auto S = sums.empty() ? sums : values(s[0]), Mn = mins.empty() ? mins : values(mn[0]),
               Mx = maxs.empty() ? maxs : values(mx[0]);
    size_t is = 0, imn = 0, imx = 0;
    for (auto& [k, v] : scalars) {
        switch (ruleOf(k)) {
            case Rule::Sum: v = S[is]; is += 2; break;
            case Rule::Max: v = std::isfinite(Mx[imx]) ? Mx[imx] : std::nan(""); ++imx; break;
            case Rule::Min: v = std::isfinite(Mn[imn]) ? Mn[imn] : std::nan(""); ++imn; break;
            case Rule::Mean: v = S[is + 1] > 0 ? S[is] / S[is + 1] : std::nan(""); is += 2; break;
        }
    }
}

std::vector<int64_t> gatherShards(dist::Group& group, const std::vector<int64_t>& shard, int64_t offset, int64_t count) {
    XOPD_CHECK(offset >= 0 && offset + int64_t(shard.size()) <= count,
               "gatherShards: a shard of " << shard.size() << " at " << offset << " in " << count);
    std::vector<double> all(size_t(count), 0.0);
    for (size_t i = 0; i < shard.size(); ++i) all[size_t(offset) + i] = double(shard[i]);
    all = allreduceSum(group, all);
    return std::vector<int64_t>(all.begin(), all.end());
}

std::vector<double> gatherValues(dist::Group& group, double x) {
    std::vector<double> all(size_t(group.worldSize()), 0.0);
    all[size_t(group.rank())] = x;
    return allreduceSum(group, all);
}

Rollouts sampleGroups(Policy& policy, const std::vector<PromptItem>& prompts, int64_t offset, int64_t group,
                      Stream stream, int64_t m, const SamplingOptions& options, uint64_t seed, int64_t step) {
    XOPD_CHECK(group >= 1 && offset % group == 0, "sampleGroups: a shard at " << offset << " in groups of " << group);
    std::vector<Rollouts> parts;
    std::vector<int64_t> firstPrompt;  ///< per part: its first prompt's index in `prompts`
    int64_t L = 0;
    for (int64_t begin = 0; begin < int64_t(prompts.size()); begin += group) {
        const int64_t end = std::min<int64_t>(begin + group, int64_t(prompts.size()));
        const uint64_t index = uint64_t((offset + begin) / group);  // the group's place in the batch
        // splitmix64-style mixing: distinct (seed, step, group, stream) give unrelated streams.
        uint64_t key = seed * 0x9E3779B97F4A7C15ULL ^ (uint64_t(step) + 1) * 0xBF58476D1CE4E5B9ULL ^
                       (index + 1) * 0x94D049BB133111EBULL ^ uint64_t(stream);
        key ^= key >> 31;
        auto gen = at::detail::createCPUGenerator(key);
        const std::vector<PromptItem> part(prompts.begin() + begin, prompts.begin() + end);
        parts.push_back(policy.sample(part, stream, m, options, gen));
        firstPrompt.push_back(begin);
        L = std::max<int64_t>(L, parts.back().tokens.size(1));
    }
    Rollouts r;
    std::vector<torch::Tensor> tokens, logprobs, mask;
    for (size_t i = 0; i < parts.size(); ++i) {
        auto& p = parts[i];
        const int64_t pad = L - p.tokens.size(1);
        tokens.push_back(torch::constant_pad_nd(p.tokens, {0, pad}, 0));
        logprobs.push_back(torch::constant_pad_nd(p.logprobs, {0, pad}, 0));
        mask.push_back(torch::constant_pad_nd(p.mask.to(torch::kUInt8), {0, pad}, 0).to(torch::kBool));
        for (int64_t pi : p.prompt_index) r.prompt_index.push_back(firstPrompt[i] + pi);
        r.eos.insert(r.eos.end(), p.eos.begin(), p.eos.end());
        r.truncated.insert(r.truncated.end(), p.truncated.begin(), p.truncated.end());
    }
    r.tokens = torch::cat(tokens);
    r.logprobs = torch::cat(logprobs);
    r.mask = torch::cat(mask);
    return r;
}

}  // namespace xopd::distill::dp
