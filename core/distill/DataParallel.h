#pragma once
// The trainer's data-parallel pieces (README "Scaling out"; spec: peers.md §6.2), kept out of
// Trainer.cpp so that its step reads the same with or without a process group.
//
// What makes N ranks train exactly as one process with the same global batch:
//  - every rank draws the same global batch from DataOrder and takes a contiguous shard of it
//    (shardRange): rank 0 the first prompts, rank N-1 the last;
//  - rollouts are sampled per prompt from a generator keyed by (seed, step, prompt, stream)
//    (samplePerPrompt), so a prompt's responses do not depend on which rank samples it, nor on the
//    world size: a job of one rank (torchrun --nproc_per_node 1) is the reference of N ranks, and a
//    checkpoint resumes at any world size. (The single process without a launcher keeps its one
//    batched draw from the trainer's generator: byte-identical to before.)
//  - each rank's loss is already divided by the GLOBAL normaliser (allreduced), so the SUM of the
//    ranks' gradients is the gradient of the one-process loss (allreduceGradients, in buckets);
//  - clipping, the non-finite guard and AdamW then see identical gradients on every rank, and the
//    weights stay identical (they were broadcast from rank 0 once, broadcastParameters).
//
// Threading: the trainer's thread. Every function here is a collective: all ranks call it in the
// same order.

#include "core/dist/Group.h"
#include "core/distill/Policy.h"

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace xopd::distill::dp {

/// [begin, end) of `rank`'s contiguous share of `count` items: sizes differ by at most one.
std::pair<int64_t, int64_t> shardRange(int64_t count, int64_t rank, int64_t world);

/// Rank 0's values of `tensors` on every rank (in place).
void broadcastParameters(dist::Group& group, const std::vector<torch::Tensor>& tensors);

/// Sums the gradients of `params` over the ranks, in place: grads are flattened into buckets of at
/// most `bucket_bytes` (per dtype and device), one allreduce per bucket, then copied back. A grad
/// undefined on this rank but defined on another becomes zeros here; one undefined everywhere stays
/// undefined (AdamW skips it, as in one process).
void allreduceGradients(dist::Group& group, const std::vector<torch::Tensor>& params, int64_t bucket_bytes);

/// Element-wise sum of `values` over the ranks.
std::vector<double> allreduceSum(dist::Group& group, std::vector<double> values);

/// Reduces a step's scalars (StepMetrics::scalars) over the ranks, by the key's meaning:
/// sums for "*/objective", "*/gkd_divergence", "*/tokens", "tokens_per_s" (each rank's share);
/// maxima for "time/*" and "*_max"; minima for "*_min"; everything else a mean weighted by the
/// stream's token count ("text/…", "speech/…") or by rank ("loss", "grad_norm", "lr": the trainer
/// has already reduced them, so every rank holds the same value). Means over tokens are then exact; percentiles
/// ("*_p10" …) and row statistics are the weighted mean of the ranks' own (an approximation).
/// Throws xopd::Error when the ranks hold different keys.
void reduceScalars(dist::Group& group, std::map<std::string, double>& scalars);

/// The global batch as the ranks actually trained it: each rank passes its shard's prompt indices;
/// every rank gets all shards in rank order (an allreduce of a `count`-long vector). Recorded per
/// step as the metric "dp/batch" so that the data order of N ranks can be checked against one.
std::vector<int64_t> gatherShards(dist::Group& group, const std::vector<int64_t>& shard, int64_t count);

/// m rollouts per prompt, sampled one prompt at a time with a generator seeded from (seed, step,
/// global prompt index, stream); rows prompt-major, prompt_index local to `prompts`, padded to the
/// longest row. `global_index[i]` is prompts[i]'s index in the prompt set.
Rollouts samplePerPrompt(Policy& policy, const std::vector<PromptItem>& prompts,
                         const std::vector<int64_t>& global_index, Stream stream, int64_t m,
                         const SamplingOptions& options, uint64_t seed, int64_t step);

}  // namespace xopd::distill::dp
