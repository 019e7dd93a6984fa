#include "core/eval/EvalReport.h"

#include <cstdio>

namespace xopd::eval {

namespace {

std::string cell(std::optional<double> v) {
    if (!v) return "–";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", *v);
    return buf;
}

std::optional<double> dropOf(std::optional<double> base_t, std::optional<double> score) {
    if (!base_t || !score) return std::nullopt;
    return relativeDrop(*base_t, *score);
}

nlohmann::json orNull(std::optional<double> v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

std::string markdownTable(const std::vector<EvalRow>& rows, std::optional<double> base_t) {
    std::string s = base_t ? "| model | S % | T % | ΔS % | ΔT % | n |\n|---|---|---|---|---|---|\n"
                           : "| model | S % | T % | n |\n|---|---|---|---|\n";
    for (const auto& r : rows) {
        s += "| " + r.name + " | " + cell(r.scores.speech) + " | " + cell(r.scores.text) + " | ";
        if (base_t) s += cell(dropOf(base_t, r.scores.speech)) + " | " + cell(dropOf(base_t, r.scores.text)) + " | ";
        s += std::to_string(r.scores.count) + " |\n";
    }
    return s;
}

nlohmann::json reportJson(const std::vector<EvalRow>& rows, std::optional<double> base_t) {
    nlohmann::json out;
    out["base_text_accuracy"] = orNull(base_t);
    out["rows"] = nlohmann::json::array();
    for (const auto& r : rows)
        out["rows"].push_back({{"name", r.name},
                               {"path", r.path},
                               {"speech", orNull(r.scores.speech)},
                               {"text", orNull(r.scores.text)},
                               {"speech_drop", orNull(dropOf(base_t, r.scores.speech))},
                               {"text_drop", orNull(dropOf(base_t, r.scores.text))},
                               {"count", r.scores.count}});
    return out;
}

}  // namespace xopd::eval
