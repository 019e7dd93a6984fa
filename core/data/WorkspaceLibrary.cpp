#include "core/data/WorkspaceLibrary.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/data/PromptSet.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

namespace xopd::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "xopd-workspace-library";
constexpr int kVersion = 1;

bool isKnownSplit(const std::string& s) {
    const auto& k = knownSplits();
    return std::find(k.begin(), k.end(), s) != k.end();
}

std::string stringField(const nlohmann::json& obj, const char* field, const std::string& where, bool required,
                        const std::string& fallback = {}) {
    if (!obj.contains(field) || obj.at(field).is_null()) {
        XOPD_CHECK(!required, where << ": " << field << ": missing (required)");
        return fallback;
    }
    const auto& v = obj.at(field);
    XOPD_CHECK(v.is_string(), where << ": " << field << ": must be a string, got " << v.type_name());
    return v.get<std::string>();
}

LibraryPrompt parsePrompt(const nlohmann::json& obj, const std::string& where, bool edit, const fs::path& base) {
    XOPD_CHECK(obj.is_object(), where << ": must be a JSON object, got " << obj.type_name());
    LibraryPrompt p;
    p.id = stringField(obj, "id", where, true);
    XOPD_CHECK(!p.id.empty(), where << ": id: must not be empty");
    p.transcript = stringField(obj, "transcript", where, false);
    p.split = stringField(obj, "split", where, false, "train");
    XOPD_CHECK(isKnownSplit(p.split), where << ": split: '" << p.split << "' is not one of train, eval, test, dev");
    if (obj.contains("tags")) {
        const auto& tags = obj.at("tags");
        XOPD_CHECK(tags.is_array(), where << ": tags: must be an array of strings");
        for (const auto& t : tags) {
            XOPD_CHECK(t.is_string(), where << ": tags: must be an array of strings");
            p.tags.push_back(t.get<std::string>());
        }
    }
    if (edit) return p;
    p.audio = stringField(obj, "audio", where, true);
    XOPD_CHECK(!p.audio.empty(), where << ": audio: must not be empty");
    const fs::path audio(p.audio);
    p.audio_path = (audio.is_absolute() ? audio : base / audio).lexically_normal().string();
    p.source = stringField(obj, "source", where, false, "imported");
    p.voice = stringField(obj, "voice", where, false);
    return p;
}

std::vector<LibraryPrompt> parseList(const nlohmann::json& root, const char* key, const std::string& file, bool edit,
                                     const fs::path& base) {
    std::vector<LibraryPrompt> out;
    if (!root.contains(key)) return out;
    const auto& list = root.at(key);
    XOPD_CHECK(list.is_array(), "'" << file << "': " << key << ": must be an array");
    std::set<std::string> ids;
    for (size_t i = 0; i < list.size(); ++i) {
        std::ostringstream where;
        where << "'" << file << "': " << key << "[" << i << "]";
        LibraryPrompt p = parsePrompt(list[i], where.str(), edit, base);
        XOPD_CHECK(ids.insert(p.id).second, where.str() << ": id: '" << p.id << "' is used twice");
        out.push_back(std::move(p));
    }
    return out;
}

/// A list of distinct, non-empty ids under `key` (absent: empty).
std::vector<std::string> parseIdList(const nlohmann::json& root, const char* key, const std::string& file) {
    std::vector<std::string> out;
    if (!root.contains(key)) return out;
    const auto& list = root.at(key);
    XOPD_CHECK(list.is_array(), "'" << file << "': " << key << ": must be an array of ids");
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
        XOPD_CHECK(list[i].is_string() && !list[i].get<std::string>().empty(),
                   "'" << file << "': " << key << "[" << i << "]: must be a non-empty string");
        XOPD_CHECK(seen.insert(list[i].get<std::string>()).second,
                   "'" << file << "': " << key << "[" << i << "]: '" << list[i].get<std::string>() << "' is listed twice");
        out.push_back(list[i].get<std::string>());
    }
    return out;
}

/// `path` relative to `base` when it lies under it, else as it is.
std::string relativeIfUnder(const std::string& path, const fs::path& base) {
    const fs::path p = fs::path(path).lexically_normal();
    if (!p.is_absolute()) return p.string();
    const fs::path rel = p.lexically_relative(base);
    if (rel.empty() || *rel.begin() == "..") return p.string();
    return rel.string();
}

void checkList(const std::vector<LibraryPrompt>& list, const char* key, const std::string& file, bool edit) {
    std::set<std::string> ids;
    for (size_t i = 0; i < list.size(); ++i) {
        const auto& p = list[i];
        std::ostringstream where;
        where << "'" << file << "': " << key << "[" << i << "]";
        XOPD_CHECK(!p.id.empty(), where.str() << ": id: must not be empty");
        XOPD_CHECK(ids.insert(p.id).second, where.str() << ": id: '" << p.id << "' is used twice");
        XOPD_CHECK(isKnownSplit(p.split), where.str() << ": split: '" << p.split << "' is not one of train, eval, test, dev");
        XOPD_CHECK(edit || !(p.audio_path.empty() && p.audio.empty()), where.str() << ": audio: must not be empty");
    }
}

}  // namespace

std::string workspaceLibraryPath(const std::string& workspace) {
    return (fs::path(workspace) / "prompts" / "library.json").string();
}

WorkspaceLibrary readWorkspaceLibrary(const std::string& path) {
    WorkspaceLibrary lib;
    std::error_code ec;
    if (!fs::exists(path, ec)) return lib;
    const nlohmann::json root = readJsonFile(path);
    XOPD_CHECK(root.is_object(), "'" << path << "': must be a JSON object, got " << root.type_name());
    XOPD_CHECK(root.value("format", std::string()) == kFormat,
               "'" << path << "': format: not an xopd workspace library (expected \"" << kFormat << "\")");
    XOPD_CHECK(root.contains("version") && root.at("version").is_number_integer(),
               "'" << path << "': version: missing or not an integer");
    const int version = root.at("version").get<int>();
    XOPD_CHECK(version == kVersion, "'" << path << "': version: " << version << " is not supported (this program reads "
                                        << kVersion << ")");
    const fs::path base = fs::absolute(fs::path(path)).parent_path();
    lib.prompts = parseList(root, "prompts", path, false, base);
    lib.kit_edits = parseList(root, "kit_edits", path, true, base);
    lib.kit_removed = parseIdList(root, "kit_removed", path);
    return lib;
}

void writeWorkspaceLibrary(const std::string& path, const WorkspaceLibrary& library) {
    checkList(library.prompts, "prompts", path, false);
    checkList(library.kit_edits, "kit_edits", path, true);
    std::set<std::string> removed;
    for (const auto& id : library.kit_removed)
        XOPD_CHECK(!id.empty() && removed.insert(id).second,
                   "'" << path << "': kit_removed: '" << id << "' is empty or listed twice");
    const fs::path base = fs::absolute(fs::path(path)).parent_path();
    // Key order kept (ordered_json) so the file is stable and diffable.
    nlohmann::ordered_json root;
    root["format"] = kFormat;
    root["version"] = kVersion;
    auto prompts = nlohmann::ordered_json::array();
    for (const auto& p : library.prompts) {
        nlohmann::ordered_json o;
        o["id"] = p.id;
        o["audio"] = relativeIfUnder(p.audio_path.empty() ? p.audio : p.audio_path, base);
        o["source"] = p.source;
        o["transcript"] = p.transcript;
        o["split"] = p.split;
        o["tags"] = p.tags;
        if (!p.voice.empty()) o["voice"] = p.voice;
        prompts.push_back(std::move(o));
    }
    root["prompts"] = std::move(prompts);
    auto edits = nlohmann::ordered_json::array();
    for (const auto& p : library.kit_edits) {
        nlohmann::ordered_json o;
        o["id"] = p.id;
        o["transcript"] = p.transcript;
        o["split"] = p.split;
        o["tags"] = p.tags;
        edits.push_back(std::move(o));
    }
    root["kit_edits"] = std::move(edits);
    root["kit_removed"] = library.kit_removed;
    std::error_code ec;
    fs::create_directories(base, ec);  // a failure shows as the write's error, naming the file
    writeFileAtomic(path, root.dump(2) + "\n");
}

}  // namespace xopd::data
