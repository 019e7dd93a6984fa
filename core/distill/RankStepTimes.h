#pragma once
// The per-rank step times a data-parallel run records (README "Scaling out"): rank 0 gathers each
// rank's own step time and writes them, in rank order, as one JSON array of seconds under
// kRankStepSecondsKey in the step's JSON metrics (StepMetrics::json). The array's length is the
// job's world size at that step (a run resumed at another world size changes it). The monitor
// charts and tabulates them (widgets/run/RankTimesPanel.h).
//
// Torch-free, header-only; pure functions, any thread.

#include "core/distill/StepRecords.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace xopd::distill {

/// Key of the per-rank step times in StepMetrics::json.
inline constexpr const char* kRankStepSecondsKey = "dp/rank_step_s";

/// The JSON value stored under kRankStepSecondsKey.
inline std::string rankStepSecondsJson(const std::vector<double>& seconds) { return nlohmann::json(seconds).dump(); }

/// Each rank's step time of a step, rank 0 first; empty when the step has none (a single process)
/// or the value is not an array of numbers (a display need not fail on it).
inline std::vector<double> rankStepSeconds(const StepMetrics& m) {
    const auto it = m.json.find(kRankStepSecondsKey);
    if (it == m.json.end()) return {};
    const auto j = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    if (!j.is_array()) return {};
    std::vector<double> out;
    for (const auto& v : j) {
        if (!v.is_number()) return {};
        out.push_back(v.get<double>());
    }
    return out;
}

}  // namespace xopd::distill
