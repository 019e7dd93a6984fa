#pragma once
// The trainer's data-parallel pieces (README "Scaling out"; spec: peers.md §6.2), kept out of
// Trainer.cpp so that its step reads the same with or without a process group.
//
// What makes N ranks train exactly as one process with the same global batch:
//  - every rank draws the same global batch from DataOrder and cuts it into sampling groups of
//    train.dp_sample_group consecutive prompts; each rank takes a contiguous run of whole groups
//    (batchShard): rank 0 the first prompts, rank N-1 the last;
//  - each group is sampled in one draw from a generator keyed by (seed, step, group, stream)
//    (sampleGroups), so a prompt's responses do not depend on which rank samples it, nor on the
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

#include "core/common/Tensors.h"
#include "core/dist/Group.h"
#include "core/distill/Policy.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace xopd::distill::dp {

/// [begin, end) of `rank`'s contiguous share of `count` items: sizes differ by at most one.
std::pair<int64_t, int64_t> shardRange(int64_t count, int64_t rank, int64_t world);

/// [begin, end) of the prompts of a `batch`-prompt step that `rank` trains: whole groups of `group`
/// prompts (the last may be shorter), shared by shardRange. Empty when the groups are fewer than
/// the ranks (Trainer::setDataParallel refuses that).
std::pair<int64_t, int64_t> batchShard(int64_t batch, int64_t group, int64_t rank, int64_t world);

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

/// The global batch as the ranks actually trained it: each rank passes its shard's prompt indices
/// and where the shard starts in the batch; every rank gets all shards in rank order (an allreduce
/// of a `count`-long vector). Recorded per step as "dp/batch" so that the data order of N ranks can
/// be checked against one.
std::vector<int64_t> gatherShards(dist::Group& group, const std::vector<int64_t>& shard, int64_t offset, int64_t count);

/// After the scoring phase, before anything is summed: whether every rank's served teacher answered.
/// `mine` is this rank's serve::TeacherUnreachable message ("" when its requests were answered).
/// Returns "" when every rank was answered; else what every rank reports: its own message, or, on a
/// rank whose requests were answered, one naming the ranks that could not reach the teacher (and
/// `url`, this rank's, which answered). One allreduce of a world-size vector, so that all ranks rewind the same step together.
std::string teacherOutcome(dist::Group& group, const std::string& mine, const std::string& url);

/// Every rank's value of `x`, in rank order (per-rank step times for the monitor).
std::vector<double> gatherValues(dist::Group& group, double x);

/// m rollouts per prompt of a shard that starts at batch position `offset` (a multiple of
/// `group`): each group of `group` prompts sampled in one draw with a generator seeded from (seed,
/// step, the group's index in the batch, stream); rows prompt-major, prompt_index local to
/// `prompts`, padded to the longest row.
Rollouts sampleGroups(Policy& policy, const std::vector<PromptItem>& prompts, int64_t offset, int64_t group,
                      Stream stream, int64_t m, const SamplingOptions& options, uint64_t seed, int64_t step);

}  // namespace xopd::distill::dp
