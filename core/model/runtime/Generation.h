#pragma once
// Batched autoregressive sampling with a KV cache (left-padded prompts, §2.2): temperature, top-k,
// top-p, a seeded torch::Generator (the same seed and inputs give the same tokens on CPU), stop
// tokens, a token budget, and an optional id mask (masked ids get logit −inf, §12 "Sampling").
//
//   SamplingOptions o;  o.max_new_tokens = 32;  o.seed = 7;  o.stop_token_ids = {151645, 151643};
//   GenerationResult r = generate(lm.decoder(), {PromptInput::fromIds(ids)}, o);
//
// Log-probabilities returned per sampled token (both fp32):
//   - logprobs:     log-softmax of the distribution actually sampled from: fp32 logits with masked
//                   ids at −inf, divided by the temperature, then top-k and top-p filtered (removed
//                   ids at −inf). Greedy decoding (temperature 0) reports 0 (probability 1).
//   - raw_logprobs: log-softmax of the model's fp32 logits at temperature 1, no mask, no
//                   filtering: exactly what teacher-forced scoring (Scoring.h) returns for the token,
//                   i.e. log π_old for the distillation ratio.
//
// Threading: one call at a time per cache; the decoder may be shared. Runs under NoGradGuard.

#include "core/common/Tensors.h"
#include "core/model/runtime/PromptBatch.h"
#include "core/model/runtime/Qwen2Decoder.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace xopd::model {

/// Sampling knobs. Defaults follow method.md D6 (T = 1, top-p = 1, top-k off).
struct SamplingOptions {
    double temperature = 1.0;                ///< 0 = greedy (argmax); > 0 divides the logits
    double top_p = 1.0;                      ///< nucleus mass in (0, 1]; 1 = off
    int64_t top_k = 0;                       ///< keep the k largest logits; 0 = off
    uint64_t seed = 0;                       ///< seed of the CPU generator used for sampling
    int64_t max_new_tokens = 64;             ///< budget per sequence
    std::vector<int64_t> stop_token_ids;     ///< a sampled stop id ends its sequence (and is kept)
    std::vector<int64_t> masked_token_ids;   ///< ids never sampled (logit −inf)
    int64_t pad_token_id = 0;                ///< id fed for finished rows and used for padding
    AttentionKernel kernel = AttentionKernel::Auto;  ///< attention implementation
    /// Called as each token is sampled (streaming): (row, id), once per new token of each row still
    /// running, stop ids included, in order, on the calling thread; may be empty. Changes nothing
    /// about what is sampled.
    std::function<void(int64_t row, int64_t id)> on_token;
};

/// What generate() returns, one entry per prompt.
struct GenerationResult {
    std::vector<std::vector<int64_t>> tokens;       ///< sampled ids, the stop id included when finished
    std::vector<std::vector<float>> logprobs;       ///< under the sampling distribution (see above)
    std::vector<std::vector<float>> raw_logprobs;   ///< under the model at temperature 1 (see above)
    std::vector<bool> finished;                     ///< ended with a stop token
    std::vector<bool> truncated;                    ///< hit max_new_tokens without a stop token
    std::vector<int64_t> prompt_lengths;            ///< real prompt tokens per row
    int64_t steps = 0;                              ///< decode steps run (including the prefill step)
};

/// Turns fp32 logits [B, V] into the filtered, temperature-scaled logits sampling uses: masked ids,
/// temperature, top-k, then top-p (HF order; top-p keeps the smallest set whose mass reaches p and
/// always at least one id). Returned logits have −inf at removed ids. Not for temperature 0.
torch::Tensor samplingLogits(const torch::Tensor& logits, const SamplingOptions& options);

/// One sampling step: next ids [B] and both log-probabilities [B] (see above).
struct SampledStep {
    torch::Tensor ids, logprobs, raw_logprobs;
};
SampledStep sampleStep(const torch::Tensor& logits, const SamplingOptions& options, at::Generator& generator);

/// A CPU generator seeded with seed.
at::Generator makeGenerator(uint64_t seed);

/// Bytes a generation needs beyond the weights: the KV cache of batch × (prompt + new) positions,
/// the prefill's attention scores and probabilities, and its fp32 logits and log-softmax.
int64_t generationMemoryBytes(const Qwen2Decoder& decoder, int64_t batch, int64_t prompt_tokens, int64_t new_tokens);

/// Throws xopd::Error with the numbers when generationMemoryBytes() exceeds `available_bytes`
/// (0 = unknown: no check). generate() calls it on the CPU before sizing the cache.
void checkGenerationFitsMemory(const Qwen2Decoder& decoder, int64_t batch, int64_t prompt_tokens, int64_t new_tokens,
                               uint64_t available_bytes);

/// Samples continuations of a batch of prompts (see the header comment).
GenerationResult generate(const Qwen2Decoder& decoder, const std::vector<PromptInput>& prompts,
                          const SamplingOptions& options);

}  // namespace xopd::model
