#pragma once
// WeightStore: name -> tensor for a whole checkpoint, lazily loaded. Opens a model folder with
// `model.safetensors.index.json` (sharded) or `model.safetensors` (single file), an index file, or a
// single `.safetensors` file. On open every shard is mapped and validated (headers only; no tensor
// data is read), every shard named by the index must exist, and every name in the weight map must
// be in its shard. get() returns a zero-copy CPU view over the mapping (see SafetensorsFile.h).
//
//   auto store = xopd::WeightStore::open("/models/Qwen2.5-0.5B-Instruct");
//   if (store.has("lm_head.weight")) ...;
//   torch::Tensor emb = store.get("model.embed_tokens.weight");
//   for (auto& n : store.namesWithPrefix("model.layers.0.")) ...
//
// An in-memory store (fromTensors) serves trained or generated weights through the same interface.
// Lifetime: a WeightStore is a cheap handle (shared state); copies share the mappings, and tensors
// returned by get() stay valid after the store is gone. Threading: immutable after open; every const
// method may be called from any thread.

#include "core/model/checkpoint/SafetensorsHeader.h"

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace xopd {

class SafetensorsFile;

/// Where one tensor lives.
struct WeightLocation {
    /// Header entry (dtype, shape, byte range within its shard's data buffer).
    TensorInfo info;
    /// Path of the shard file ("" for in-memory tensors).
    std::string file;
};

class WeightStore {
public:
    /// Empty store.
    WeightStore();
    /// Opens a folder, an index json or a .safetensors file (see above). Throws xopd::Error naming
    /// the file at fault: missing weights, missing shard, bad index, a mapped name absent from its
    /// shard, a name held by two shards, or any malformed safetensors file.
    static WeightStore open(const std::string& path);
    /// A store over tensors held in memory (names must be unique).
    static WeightStore fromTensors(const std::vector<std::pair<std::string, torch::Tensor>>& tensors);

    /// True when a tensor of that name exists.
    bool has(const std::string& name) const;
    /// The tensor (CPU; dtype and shape as stored). Throws xopd::Error naming the checkpoint and
    /// the tensor when absent.
    torch::Tensor get(const std::string& name) const;
    /// Header info and file of a tensor without loading it. Throws when absent.
    const WeightLocation& location(const std::string& name) const;
    /// All names, sorted.
    std::vector<std::string> names() const;
    /// Sorted names starting with prefix.
    std::vector<std::string> namesWithPrefix(const std::string& prefix) const;
    /// True when any name starts with prefix.
    bool hasPrefix(const std::string& prefix) const;
    /// Number of tensors.
    size_t size() const;
    /// Total element count of the tensors whose names start with prefix ("" = all).
    int64_t parameterCount(const std::string& prefix = "") const;
    /// Total bytes of tensor data.
    uint64_t dataBytes() const;

    /// What was opened (folder, index or file path; "<memory>" for fromTensors).
    const std::string& source() const;
    /// Shard files in order (one entry for a single-file checkpoint; empty in memory).
    const std::vector<std::string>& shardFiles() const;
    /// Index file when sharded, else "".
    const std::string& indexFile() const;
    /// `metadata` of the index (e.g. total_size) as JSON text, "" when unsharded.
    const std::string& indexMetadataJson() const;
    /// Names present in a shard but not listed in the index's weight_map (loaded anyway; reported
    /// by `xopd inspect` as a warning).
    const std::vector<std::string>& unmappedNames() const;
    /// Per dtype name ("BF16"), the number of tensors.
    std::map<std::string, int64_t> dtypeCounts() const;

private:
    struct State;
    std::shared_ptr<const State> state_;
};

}  // namespace xopd
