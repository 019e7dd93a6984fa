#pragma once
// What `xopd inspect PATH` reports about a model folder or a single .safetensors file, as JSON
// (printed as is by `--json`) and as text. Opening runs every check of the checkpoint layer: each
// safetensors header (SafetensorsHeader.h), the shard index (WeightStore.h), config.json
// (ModelConfig.h), the tensor-name layout and every shape the config implies (CheckpointLayout.h).
//
// JSON keys: path, kind ("folder" | "file"), config {...} (folders), weights {format, shards[],
// tensors, data_bytes, dtypes{}, parameters{total, llm, audio_tower, projector, other}},
// layout {...}, tokenizer {present, files[], chat_template}, warnings[].
//
// No LibTorch in this header. Threading: pure function (reads files only).

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace xopd {

/// Inspects path. Throws xopd::Error (naming the file and what is wrong) on the first failed check.
nlohmann::json inspectCheckpoint(const std::string& path);

/// Human-readable multi-line rendering of an inspectCheckpoint() report.
std::string formatInspectReport(const nlohmann::json& report);

/// Chat template family of a template text: "qwen2.5-omni", "qwen2-audio", "chatml", "other".
std::string chatTemplateKind(const std::string& template_text);

}  // namespace xopd
