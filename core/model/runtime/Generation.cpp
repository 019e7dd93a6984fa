#include "core/model/runtime/Generation.h"

#include "core/common/Error.h"
#include "core/common/SystemMemory.h"
#include "core/model/checkpoint/ModelBudget.h"

#include <ATen/CPUGeneratorImpl.h>

#include <limits>

namespace xopd::model {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

torch::Tensor applyIdMask(torch::Tensor logits, const std::vector<int64_t>& ids) {
    if (ids.empty()) return logits;
    std::vector<int64_t> valid;
    for (int64_t id : ids)
        if (id >= 0 && id < logits.size(-1)) valid.push_back(id);
    if (valid.empty()) return logits;
    logits = logits.clone();
    logits.index_fill_(-1, torch::tensor(valid, torch::kInt64).to(logits.device()), kNegInf);
    return logits;
}
}  // namespace

at::Generator makeGenerator(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

torch::Tensor samplingLogits(const torch::Tensor& logits_in, const SamplingOptions& o) {
    XOPD_CHECK(o.temperature > 0, "samplingLogits: temperature must be > 0 (got " << o.temperature << ")");
    XOPD_CHECK(o.top_p > 0 && o.top_p <= 1, "top_p must be in (0, 1] (got " << o.top_p << ")");
    XOPD_CHECK(o.top_k >= 0, "top_k must be >= 0 (got " << o.top_k << ")");
    torch::Tensor logits = applyIdMask(logits_in.to(torch::kFloat32), o.masked_token_ids);
    if (o.temperature != 1.0) logits = logits / o.temperature;
    const int64_t V = logits.size(-1);
    if (o.top_k > 0 && o.top_k < V) {
        torch::Tensor kth = std::get<0>(logits.topk(o.top_k, -1)).narrow(-1, o.top_k - 1, 1);
        logits = logits.masked_fill(logits < kth, kNegInf);
    }
    if (o.top_p < 1.0) {
        auto [sorted, index] = logits.sort(-1, /*descending=*/false);
        torch::Tensor cum = sorted.softmax(-1).cumsum(-1);
        torch::Tensor remove = cum <= (1.0 - o.top_p);
        remove.narrow(-1, V - 1, 1).fill_(false);  // keep at least the most likely id
        logits = logits.masked_fill(remove.scatter(-1, index, remove), kNegInf);
    }
    return logits;
}

SampledStep sampleStep(const torch::Tensor& logits_in, const SamplingOptions& o, at::Generator& generator) {
    torch::Tensor logits = logits_in.to(torch::kFloat32);
    torch::Tensor raw = logits.log_softmax(-1);
    SampledStep s;
    if (o.temperature == 0.0) {
        s.ids = applyIdMask(logits, o.masked_token_ids).argmax(-1);
        s.logprobs = torch::zeros({logits.size(0)}, logits.options());
    } else {
        torch::Tensor lp = samplingLogits(logits, o).log_softmax(-1);
        // Sample on the CPU with the seeded generator so results do not depend on the device.
        s.ids = torch::multinomial(lp.exp().to(torch::kCPU), 1, false, generator).squeeze(-1).to(logits.device());
        s.logprobs = lp.gather(-1, s.ids.unsqueeze(-1)).squeeze(-1);
    }
    s.raw_logprobs = raw.gather(-1, s.ids.unsqueeze(-1)).squeeze(-1);
    return s;
}

int64_t generationMemoryBytes(const Qwen2Decoder& decoder, int64_t batch, int64_t prompt_tokens, int64_t new_tokens) {
    const DecoderConfig& c = decoder.config();
    const int64_t bytes = int64_t(torch::elementSize(decoder.dtype())), S = prompt_tokens + new_tokens;
    const int64_t kv = kvCacheBytes(c.num_hidden_layers, c.num_key_value_heads, c.head_dim, batch * S, bytes);
    const int64_t prefill_attention = 2 * batch * c.num_attention_heads * prompt_tokens * prompt_tokens * bytes;
    const int64_t prefill_logits = 2 * batch * prompt_tokens * c.vocab_size * 4;
    return kv + prefill_attention + prefill_logits;
}

void checkGenerationFitsMemory(const Qwen2Decoder& decoder, int64_t batch, int64_t prompt_tokens, int64_t new_tokens,
                               uint64_t available_bytes) {
    if (available_bytes == 0) return;
    const double need = double(generationMemoryBytes(decoder, batch, prompt_tokens, new_tokens));
    const double gib = 1024.0 * 1024.0 * 1024.0;
    XOPD_CHECK(need <= double(available_bytes),
               "generating " << new_tokens << " tokens after a prompt of " << prompt_tokens << " tokens for " << batch
                             << " sequence(s) needs about " << need / gib << " GiB (KV cache and prefill), more than the "
                             << double(available_bytes) / gib << " GiB available: lower max_new_tokens or the batch");
}

GenerationResult generate(const Qwen2Decoder& decoder, const std::vector<PromptInput>& prompts,
                          const SamplingOptions& o) {
    XOPD_CHECK(o.max_new_tokens >= 0, "max_new_tokens must be >= 0");
    XOPD_CHECK(o.temperature >= 0, "temperature must be >= 0 (got " << o.temperature << ")");
    torch::NoGradGuard no_grad;
    PaddedBatch batch = padBatch(decoder, prompts, {}, o.pad_token_id);
    const int64_t B = static_cast<int64_t>(prompts.size()), P = batch.prompt_columns;
    checkPositions(decoder, P, o.max_new_tokens, "max_new_tokens");  // before the cache is sized by it
    if (decoder.device().is_cpu()) checkGenerationFitsMemory(decoder, B, P, o.max_new_tokens, availableMemoryBytes());
    GenerationResult r;
    r.tokens.resize(B);
    r.logprobs.resize(B);
    r.raw_logprobs.resize(B);
    r.finished.assign(B, false);
    r.truncated.assign(B, false);
    r.prompt_lengths = batch.prompt_lengths;
    if (o.max_new_tokens == 0) {
        r.truncated.assign(B, true);
        return r;
    }
    at::Generator gen = makeGenerator(o.seed);
    KvCache cache = decoder.makeCache(P + o.max_new_tokens);
    torch::Tensor mask = torch::ones({B, P + o.max_new_tokens}, batch.attention_mask.options());
    mask.narrow(1, 0, P).copy_(batch.attention_mask);

    DecoderInput in;
    in.input_ids = batch.input_ids;
    in.inputs_embeds = batch.inputs_embeds;
    in.attention_mask = mask.narrow(1, 0, P);
    in.cache = &cache;
    in.logits_to_keep = 1;
    in.kernel = o.kernel;
    std::vector<char> done(static_cast<size_t>(B), 0);
    int64_t remaining = B;
    for (int64_t step = 0; step < o.max_new_tokens && remaining > 0; ++step) {
        torch::Tensor logits = decoder.forward(in).logits.select(1, 0);  // [B, V]
        SampledStep s = sampleStep(logits, o, gen);
        ++r.steps;
        auto ids = s.ids.to(torch::kCPU);
        auto lp = s.logprobs.to(torch::kCPU);
        auto raw = s.raw_logprobs.to(torch::kCPU);
        auto ida = ids.accessor<int64_t, 1>();
        auto lpa = lp.accessor<float, 1>();
        auto rawa = raw.accessor<float, 1>();
        for (int64_t b = 0; b < B; ++b) {
            if (done[b]) {
                ida[b] = o.pad_token_id;
                continue;
            }
            r.tokens[b].push_back(ida[b]);
            r.logprobs[b].push_back(lpa[b]);
            r.raw_logprobs[b].push_back(rawa[b]);
            if (o.on_token) o.on_token(b, ida[b]);
            for (int64_t stop : o.stop_token_ids)
                if (ida[b] == stop) {
                    done[b] = 1;
                    r.finished[b] = true;
                    --remaining;
                    break;
                }
        }
        in.inputs_embeds = torch::Tensor();
        in.input_ids = ids.to(decoder.device()).view({B, 1});
        in.attention_mask = mask.narrow(1, 0, P + step + 1);
    }
    for (int64_t b = 0; b < B; ++b) r.truncated[b] = !r.finished[b];
    return r;
}

}  // namespace xopd::model
