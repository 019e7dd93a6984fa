#pragma once
// Writes tensors as safetensors exactly as the reference writer (huggingface/safetensors) lays them
// out: entries sorted by descending dtype rank (F64/I64 > F32 > BF16 > F16 > ... ) then by name,
// `__metadata__` = {"format":"pt"}, the JSON header padded with spaces to a multiple of 8, data
// packed with no gaps. Files are written atomically (PATH.tmp-<pid>, fsync, rename): a crash leaves
// either the old file or the new one, never half of one.
//
//   xopd::NamedTensors t = {{"model.norm.weight", torch::ones({32}, torch::kBFloat16)}};
//   xopd::writeSafetensors("out/model.safetensors", t);
//   xopd::SafetensorsWriteOptions o; o.max_shard_bytes = 5000000000;
//   xopd::writeCheckpointWeights("out", t, o);                // shards + index when larger
//
// Threading: functions only; tensors are read, never modified. Tensors on CUDA are copied to CPU.

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace xopd {

/// Named tensors in any order; names must be unique.
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// Options of writeCheckpointWeights().
struct SafetensorsWriteOptions {
    /// `__metadata__` of every file (transformers writes {"format":"pt"}).
    std::map<std::string, std::string> metadata{{"format", "pt"}};
    /// Largest data size of one shard in bytes; 0 = always one `model.safetensors`. When the tensors
    /// exceed it they are split into `model-0000K-of-0000N.safetensors` plus
    /// `model.safetensors.index.json` (a single tensor larger than the limit gets a shard of its own).
    uint64_t max_shard_bytes = 0;
};

/// Writes one safetensors file atomically. Supported dtypes: BF16, F16, F32, F64, I64, I32, I16,
/// I8, U8, BOOL. Throws xopd::Error naming the file (or the tensor) on a duplicate name, an
/// unsupported dtype or an I/O error; the destination is then untouched.
void writeSafetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

/// Writes the weights of a checkpoint folder (which must exist): `model.safetensors`, or shards +
/// `model.safetensors.index.json` when over options.max_shard_bytes. Removes a stale
/// `model.safetensors` / index of the other layout. Returns the file names written (index last).
std::vector<std::string> writeCheckpointWeights(const std::string& folder, const NamedTensors& tensors,
                                                const SafetensorsWriteOptions& options = {});

}  // namespace xopd
