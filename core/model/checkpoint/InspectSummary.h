#pragma once
// What `xopd inspect PATH` reports about a model folder or a single .safetensors file, as JSON
// (printed as is by `--json`) and as text. Opening runs every check of the checkpoint layer: each
// safetensors header (SafetensorsHeader.h), the shard index (WeightStore.h), config.json
// (ModelConfig.h), the tensor-name layout and every shape the config implies (CheckpointLayout.h).
//
// A folder with a config.json and no weights (or a config.json named directly) is inspected as a
// config: kind "config", its parameter counts computed (ModelBudget.h), no weights section.
//
// JSON keys: path, kind ("folder" | "file" | "config"), config {...} (folders),
// parameters_from_config {total, active, embedding, lm_head, attention, dense_mlp, router, experts,
// norms, audio_encoder} (folders), weights {format, shards[],
// tensors, data_bytes, dtypes{}, parameters{total, llm, audio_tower, projector, other}},
// layout {...}, tokenizer {present, files[], chat_template}, warnings[].
//
// No LibTorch in this header. Threading: pure function (reads files only).

#include "core/model/checkpoint/ModelBudget.h"

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace xopd {

/// Inspects path. Throws xopd::Error (naming the file and what is wrong) on the first failed check.
nlohmann::json inspectCheckpoint(const std::string& path);

/// Human-readable multi-line rendering of an inspectCheckpoint() report.
std::string formatInspectReport(const nlohmann::json& report);

/// `xopd inspect STUDENT --teacher TEACHER --batch N --length L`: the memory a run needs (ModelBudget.h)
/// for the student trained as `student` says and, when `teacher_path` is not empty, the frozen
/// teacher at the same batch and length. Paths are model folders or config.json files.
nlohmann::json memoryReport(const std::string& student_path, const std::string& teacher_path,
                            const MemoryOptions& student);

/// Text table of a memoryReport().
std::string formatMemoryReport(const nlohmann::json& report);

/// Chat template family of a template text: "qwen2.5-omni", "qwen2-audio", "chatml", "other".
std::string chatTemplateKind(const std::string& template_text);

}  // namespace xopd
