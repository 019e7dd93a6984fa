#pragma once
// Random-weight checkpoints for tests: every tensor that validateCheckpointShapes() expects for a
// config, under a chosen name layout, written as a model folder (config.json + safetensors).

#include "core/model/checkpoint/CheckpointLayout.h"
#include "core/model/checkpoint/ModelConfig.h"
#include "core/model/checkpoint/SafetensorsWriter.h"

#include <string>

namespace xopd::test {

/// The default hub layout of a config's family (language_model.model.*, thinker.model.*, ...).
CheckpointLayout hubLayout(const ModelConfig& config, bool tied = false);

/// Random weights (normal, std 0.02; norms 1) for config under layout, in dtype.
NamedTensors tinyWeights(const ModelConfig& config, const CheckpointLayout& layout,
                         torch::Dtype dtype = torch::kFloat32, uint64_t seed = 1);

/// Writes folder/config.json (a copy of config_file) and the weights of tinyWeights(); returns the
/// parsed config. max_shard_bytes > 0 writes shards + index.
ModelConfig writeTinyCheckpoint(const std::string& folder, const std::string& config_file, bool tied = false,
                                uint64_t max_shard_bytes = 0, torch::Dtype dtype = torch::kFloat32);

}  // namespace xopd::test
