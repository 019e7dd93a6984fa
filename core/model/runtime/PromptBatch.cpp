#include "core/model/runtime/PromptBatch.h"

#include "core/common/Error.h"

namespace xopd::model {

PromptInput PromptInput::fromIds(const std::vector<int64_t>& ids) {
    return {torch::tensor(ids, torch::kInt64), {}};
}

void checkPositions(const Qwen2Decoder& decoder, int64_t prompt_tokens, int64_t more_tokens, const char* more_what) {
    const int64_t limit = decoder.config().max_position_embeddings;
    if (limit <= 0) return;  // not stated by the config
    XOPD_CHECK(more_tokens <= limit && prompt_tokens <= limit - more_tokens,
               "a prompt of " << prompt_tokens << " tokens and " << more_what << " " << more_tokens
                              << " tokens need " << prompt_tokens + more_tokens
                              << " positions, more than the model's max_position_embeddings of " << limit);
}

PaddedBatch padBatch(const Qwen2Decoder& decoder, const std::vector<PromptInput>& prompts,
                     const std::vector<std::vector<int64_t>>& continuations, int64_t pad_id) {
    XOPD_CHECK(!prompts.empty(), "empty prompt batch");
    XOPD_CHECK(continuations.empty() || continuations.size() == prompts.size(),
               prompts.size() << " prompts but " << continuations.size() << " responses");
    const int64_t B = static_cast<int64_t>(prompts.size());
    PaddedBatch b;
    bool any_embeds = false;
    for (size_t i = 0; i < prompts.size(); ++i) {
        XOPD_CHECK(prompts[i].ids.defined() || prompts[i].embeds.defined(), "prompt " << i << " is empty");
        XOPD_CHECK(prompts[i].length() > 0, "prompt " << i << " has no tokens");
        b.prompt_lengths.push_back(prompts[i].length());
        b.prompt_columns = std::max(b.prompt_columns, prompts[i].length());
        any_embeds = any_embeds || prompts[i].embeds.defined();
    }
    for (const auto& c : continuations) {
        b.response_lengths.push_back(static_cast<int64_t>(c.size()));
        b.response_columns = std::max<int64_t>(b.response_columns, static_cast<int64_t>(c.size()));
    }
    const int64_t P = b.prompt_columns, R = b.response_columns, S = P + R;
    checkPositions(decoder, P, R, "a response of");
    const torch::Device dev = decoder.device();
    torch::Tensor ids = torch::full({B, S}, pad_id, torch::kInt64);
    torch::Tensor mask = torch::zeros({B, S}, torch::kInt64);
    for (int64_t i = 0; i < B; ++i) {
        const PromptInput& p = prompts[static_cast<size_t>(i)];
        const int64_t L = p.length();
        mask[i].narrow(0, P - L, L).fill_(1);
        if (p.ids.defined() && !p.embeds.defined()) ids[i].narrow(0, P - L, L).copy_(p.ids.to(torch::kCPU));
        if (!continuations.empty()) {
            const auto& c = continuations[static_cast<size_t>(i)];
            if (!c.empty()) {
                ids[i].narrow(0, P, static_cast<int64_t>(c.size())).copy_(torch::tensor(c, torch::kInt64));
                mask[i].narrow(0, P, static_cast<int64_t>(c.size())).fill_(1);
            }
        }
    }
    b.attention_mask = mask.to(dev);
    ids = ids.to(dev);
    if (!any_embeds) {
        b.input_ids = ids;
        return b;
    }
    // Embeddings: text embeddings for every id slot, then each embedded prompt copied over its span.
    torch::Tensor emb = decoder.embed(ids);
    std::vector<torch::Tensor> rows;
    for (int64_t i = 0; i < B; ++i) {
        const PromptInput& p = prompts[static_cast<size_t>(i)];
        if (!p.embeds.defined()) {
            rows.push_back(emb[i]);
            continue;
        }
        const int64_t L = p.length();
        XOPD_CHECK(p.embeds.dim() == 2 && p.embeds.size(1) == emb.size(2),
                   "prompt " << i << " embeddings have shape " << shapeString(p.embeds.sizes()) << ", expected [T, "
                             << emb.size(2) << "]");
        std::vector<torch::Tensor> parts;
        if (P - L > 0) parts.push_back(emb[i].narrow(0, 0, P - L));
        parts.push_back(p.embeds.to(dev, emb.scalar_type()));
        if (R > 0) parts.push_back(emb[i].narrow(0, P, R));
        rows.push_back(torch::cat(parts, 0));  // differentiable w.r.t. the prompt embeddings
    }
    b.inputs_embeds = torch::stack(rows, 0);
    return b;
}

}  // namespace xopd::model
