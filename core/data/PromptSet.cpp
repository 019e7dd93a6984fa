#include "core/data/PromptSet.h"

#include "core/common/Error.h"
#include "core/common/Json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace xopd::data {

namespace fs = std::filesystem;

std::vector<PromptItem> PromptSet::bySplit(const std::string& split) const {
    std::vector<PromptItem> out;
    for (const auto& item : items)
        if (item.split == split) out.push_back(item);
    return out;
}

const std::vector<std::string>& knownSplits() {
    static const std::vector<std::string> splits{"train", "eval", "test", "dev"};
    return splits;
}

namespace {

bool isKnownSplit(const std::string& s) {
    const auto& k = knownSplits();
    return std::find(k.begin(), k.end(), s) != k.end();
}

std::string requireString(const nlohmann::json& obj, const char* field, const std::string& where,
                          bool allow_empty = false) {
    XOPD_CHECK(obj.contains(field), where << ": " << field << ": missing (required)");
    const auto& v = obj.at(field);
    XOPD_CHECK(v.is_string(), where << ": " << field << ": must be a string, got " << v.type_name());
    auto s = v.get<std::string>();
    XOPD_CHECK(allow_empty || !s.empty(), where << ": " << field << ": must not be empty");
    return s;
}

std::string splitList() {
    std::string s;
    for (const auto& k : knownSplits()) s += (s.empty() ? "" : ", ") + k;
    return s;
}

}  // namespace

PromptItem parsePromptLine(const std::string& line, const std::string& where) {
    nlohmann::json obj;
    try {
        obj = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
        // parse_error, and out_of_range for a number that overflows a double (1e400).
        XOPD_FAIL(where << ": not valid JSON (" << e.what() << ")");
    }
    XOPD_CHECK(obj.is_object(), where << ": must be a JSON object, got " << obj.type_name());
    PromptItem item;
    item.id = requireString(obj, "id", where);
    item.audio = requireString(obj, "audio", where);
    item.transcript = requireString(obj, "transcript", where);
    item.split = requireString(obj, "split", where);
    XOPD_CHECK(isKnownSplit(item.split),
               where << ": split: '" << item.split << "' is not one of " << splitList());
    if (obj.contains("reference") && !obj["reference"].is_null()) {
        XOPD_CHECK(obj["reference"].is_string(),
                   where << ": reference: must be a string, got " << obj["reference"].type_name());
        item.reference = obj["reference"].get<std::string>();
    }
    if (obj.contains("tags")) {
        const auto& tags = obj["tags"];
        XOPD_CHECK(tags.is_array(), where << ": tags: must be an array of strings");
        for (const auto& t : tags) {
            XOPD_CHECK(t.is_string(), where << ": tags: must be an array of strings");
            item.tags.push_back(t.get<std::string>());
        }
    }
    if (obj.contains("voice")) item.voice = requireString(obj, "voice", where, true);
    if (obj.contains("condition")) item.condition = requireString(obj, "condition", where);
    if (obj.contains("source_id")) item.source_id = requireString(obj, "source_id", where);
    return item;
}

PromptSet loadPromptSet(const std::string& manifest_path, const LoadPromptSetOptions& options) {
    std::ifstream in(manifest_path, std::ios::binary);
    XOPD_CHECK(in, "'" << manifest_path << "': cannot open prompt manifest");
    PromptSet set;
    set.manifest_path = manifest_path;
    const fs::path base = fs::absolute(fs::path(manifest_path)).parent_path();
    std::set<std::string> ids;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        std::ostringstream where;
        where << "'" << manifest_path << "' line " << line_no;
        PromptItem item = parsePromptLine(line, where.str());
        XOPD_CHECK(ids.insert(item.id).second, where.str() << ": id: '" << item.id << "' is used twice");
        const fs::path audio(item.audio);
        item.audio_path = (audio.is_absolute() ? audio : base / audio).lexically_normal().string();
        if (options.require_audio) {
            std::error_code ec;
            const auto status = fs::status(item.audio_path, ec);
            const char* what = status.type() == fs::file_type::not_found ? "does not exist"
                               : fs::is_directory(status)              ? "is a folder, not an audio file"
                               : fs::is_fifo(status)                   ? "is a FIFO (named pipe), not an audio file"
                               : !fs::is_regular_file(status)          ? "is not a regular file"
                                                                       : nullptr;
            XOPD_CHECK(!what, where.str() << ": audio: '" << item.audio_path << "' " << what);
        }
        set.items.push_back(std::move(item));
    }
    XOPD_CHECK(!set.items.empty(), "'" << manifest_path << "': prompt manifest has no items");
    return set;
}

std::string promptItemToJsonLine(const PromptItem& item) {
    // nlohmann::ordered_json keeps the documented key order, so files are stable and diffable.
    nlohmann::ordered_json obj;
    obj["id"] = item.id;
    obj["audio"] = item.audio;
    obj["transcript"] = item.transcript;
    if (item.reference) obj["reference"] = *item.reference;
    obj["split"] = item.split;
    if (!item.tags.empty()) obj["tags"] = item.tags;
    if (!item.voice.empty()) obj["voice"] = item.voice;
    if (!item.condition.empty()) obj["condition"] = item.condition;
    if (!item.source_id.empty()) obj["source_id"] = item.source_id;
    return obj.dump();
}

void writePromptSet(const std::string& manifest_path, const std::vector<PromptItem>& items) {
    std::set<std::string> ids;
    std::string text;
    for (size_t i = 0; i < items.size(); ++i) {
        const auto& item = items[i];
        XOPD_CHECK(!item.id.empty(), "'" << manifest_path << "': item " << i + 1 << ": id: must not be empty");
        XOPD_CHECK(ids.insert(item.id).second,
                   "'" << manifest_path << "': item " << i + 1 << ": id: '" << item.id << "' is used twice");
        XOPD_CHECK(isKnownSplit(item.split), "'" << manifest_path << "': item " << i + 1 << ": split: '"
                                                 << item.split << "' is not one of " << splitList());
        XOPD_CHECK(!item.transcript.empty(),
                   "'" << manifest_path << "': item " << i + 1 << ": transcript: must not be empty");
        XOPD_CHECK(!item.audio.empty(), "'" << manifest_path << "': item " << i + 1 << ": audio: must not be empty");
        text += promptItemToJsonLine(item);
        text += '\n';
    }
    writeFileAtomic(manifest_path, text);
}

}  // namespace xopd::data
