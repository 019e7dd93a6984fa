#pragma once
// Rendering of evaluation results: a markdown table (the paper's Table 1 layout in miniature) and
// JSON. With a text baseline (the teacher's T score), each row also gets the relative drops
// ΔS = drop(S) and ΔT = drop(T) of Scores.h; with several prompt sets the drops would be averaged
// (Avg. Drop), here one prompt set = one benchmark.
//
// Threading: pure functions.

#include "core/eval/Scores.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace xopd::eval {

/// One row of a report.
struct EvalRow {
    /// Display name ("teacher", "student", "student + X-OPD", ...).
    std::string name;
    /// Model folder (or run folder) it was measured on.
    std::string path;
    /// Its scores.
    ModalityScores scores;
};

/// Markdown table with columns model | S % | T % | ΔS % | ΔT % | n. Missing values print as "–";
/// the Δ columns appear only when base_t is given.
std::string markdownTable(const std::vector<EvalRow>& rows, std::optional<double> base_t);

/// {"base_text_accuracy": x|null, "rows": [{"name","path","speech","text","speech_drop","text_drop","count"}]}
/// (null for values not measured).
nlohmann::json reportJson(const std::vector<EvalRow>& rows, std::optional<double> base_t);

}  // namespace xopd::eval
