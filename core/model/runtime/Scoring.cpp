#include "core/model/runtime/Scoring.h"

#include "core/common/Error.h"
#include "core/model/runtime/Linear.h"

#include <limits>

namespace xopd::model {

ScoreResult score(const Qwen2Decoder& decoder, const std::vector<PromptInput>& prompts,
                  const std::vector<std::vector<int64_t>>& responses, const ScoreOptions& o) {
    XOPD_CHECK(prompts.size() == responses.size(), prompts.size() << " prompts but " << responses.size() << " responses");
    XOPD_CHECK(o.temperature > 0, "score: temperature must be > 0");
    const int64_t V = decoder.config().vocab_size;
    for (size_t i = 0; i < responses.size(); ++i)
        for (int64_t id : responses[i])
            XOPD_CHECK(id >= 0 && id < V, "response " << i << ": token id " << id << " outside the vocabulary (" << V << ")");
    PaddedBatch batch = padBatch(decoder, prompts, responses, o.pad_token_id);
    const int64_t B = static_cast<int64_t>(prompts.size()), P = batch.prompt_columns, R = batch.response_columns;
    ScoreResult out;
    torch::Tensor rmask = torch::zeros({B, R}, torch::kBool);
    for (int64_t b = 0; b < B; ++b)
        if (batch.response_lengths[b] > 0) rmask[b].narrow(0, 0, batch.response_lengths[b]).fill_(true);
    out.response_mask = rmask.to(decoder.device());
    if (R == 0) {
        out.logprobs = torch::zeros({B, 0}, torch::TensorOptions().device(decoder.device()));
        return out;
    }
    DecoderInput in;
    in.input_ids = batch.input_ids;
    in.inputs_embeds = batch.inputs_embeds;
    in.attention_mask = batch.attention_mask;
    in.compute_logits = false;
    in.kernel = o.kernel;
    in.router_stats = o.router_stats;
    // The last response token predicts nothing we score: run P + R − 1 columns.
    if (in.input_ids.defined()) in.input_ids = in.input_ids.narrow(1, 0, P + R - 1);
    if (in.inputs_embeds.defined()) in.inputs_embeds = in.inputs_embeds.narrow(1, 0, P + R - 1);
    in.attention_mask = in.attention_mask.narrow(1, 0, P + R - 1);
    torch::Tensor hidden = decoder.forward(in).last_hidden_state.narrow(1, P - 1, R);  // predicts response tokens
    torch::Tensor targets = batch.attention_mask.new_empty({B, R});
    {
        torch::Tensor t = torch::full({B, R}, 0, torch::kInt64);
        for (int64_t b = 0; b < B; ++b)
            if (!responses[b].empty())
                t[b].narrow(0, 0, batch.response_lengths[b]).copy_(torch::tensor(responses[b], torch::kInt64));
        targets = t.to(decoder.device());
    }
    std::vector<int64_t> masked;
    for (int64_t id : o.masked_token_ids)
        if (id >= 0 && id < V) masked.push_back(id);
    torch::Tensor masked_t = masked.empty() ? torch::Tensor() : torch::tensor(masked, torch::kInt64).to(decoder.device());

    std::vector<torch::Tensor> lps, ents, tk_ids, tk_lps, fulls, ranks;
    for (int64_t b = 0; b < B; ++b) {  // one row at a time bounds the [R, V] fp32 buffer
        torch::Tensor logits = decoder.logitsFromHidden(hidden[b]);                       // [R, V]
        logits = logits.to(upcastType(logits.scalar_type()));                             // fp32 (fp64 models: fp64)
        if (masked_t.defined()) logits = logits.index_fill(-1, masked_t, -std::numeric_limits<float>::infinity());
        if (o.temperature != 1.0) logits = logits / o.temperature;
        torch::Tensor lp = logits.log_softmax(-1);
        lps.push_back(lp.gather(-1, targets[b].unsqueeze(-1)).squeeze(-1));
        if (o.rank) ranks.push_back(lp.gt(lps.back().unsqueeze(-1)).sum(-1) + 1);
        if (o.entropy) {
            torch::Tensor finite = lp.masked_fill(torch::isinf(lp), 0.0);
            ents.push_back(-(lp.exp() * finite).sum(-1));
        }
        if (o.top_k > 0) {
            auto [v, i] = lp.topk(std::min(o.top_k, V), -1);
            tk_lps.push_back(v);
            tk_ids.push_back(i);
        }
        if (o.full_distribution) fulls.push_back(lp);
    }
    torch::Tensor m = out.response_mask;
    out.logprobs = torch::stack(lps).masked_fill(~m, 0.0);
    if (o.entropy) out.entropy = torch::stack(ents).masked_fill(~m, 0.0);
    if (o.top_k > 0) {
        out.topk_logprobs = torch::stack(tk_lps);
        out.topk_ids = torch::stack(tk_ids);
    }
    if (o.full_distribution) out.full_logprobs = torch::stack(fulls);
    if (o.rank) out.rank = torch::stack(ranks).masked_fill(~m, 0);
    return out;
}

}  // namespace xopd::model
