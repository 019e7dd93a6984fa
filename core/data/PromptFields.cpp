#include "core/data/PromptFields.h"

#include "core/common/Error.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace xopd::data {

namespace {

bool scalarText(const nlohmann::json& v, std::string* out) {
    if (v.is_string()) *out = v.get<std::string>();
    else if (v.is_number() || v.is_boolean()) *out = v.dump();
    else return false;
    return true;
}

}  // namespace

std::map<std::string, std::vector<std::string>> promptFieldValues(const std::string& manifest_path,
                                                                  const std::string& key) {
    std::ifstream in(manifest_path, std::ios::binary);
    XOPD_CHECK(in, "'" << manifest_path << "': cannot open prompt manifest");
    std::map<std::string, std::vector<std::string>> out;
    std::string line;
    for (int line_no = 1; std::getline(in, line); ++line_no) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const auto obj = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        XOPD_CHECK(obj.is_object() && obj.contains("id") && obj["id"].is_string(),
                   "'" << manifest_path << "' line " << line_no << ": not a JSON object with a string id");
        auto& values = out[obj["id"].get<std::string>()];
        if (!obj.contains(key) || obj[key].is_null()) continue;
        const auto& v = obj[key];
        std::string text;
        if (scalarText(v, &text)) {
            values.push_back(text);
            continue;
        }
        XOPD_CHECK(v.is_array(), "'" << manifest_path << "' line " << line_no << ": " << key
                                     << ": must be a string, a number or a list of them, got " << v.type_name());
        for (const auto& e : v) {
            XOPD_CHECK(scalarText(e, &text), "'" << manifest_path << "' line " << line_no << ": " << key
                                                 << ": a list element is " << e.type_name()
                                                 << ", not a string or a number");
            values.push_back(text);
        }
    }
    return out;
}

}  // namespace xopd::data
