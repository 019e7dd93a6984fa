#include "core/text/TokenizerFiles.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/text/RegexSplitter.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

namespace xopd::text {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json parseJson(const std::string& text, const std::string& source) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        XOPD_FAIL("'" << source << "': not valid JSON (" << e.what() << ")");
    }
}

std::pair<std::string, std::string> splitMergeString(const std::string& line, const std::string& source,
                                                     size_t rank) {
    const size_t space = line.find(' ');
    XOPD_CHECK(space != std::string::npos && space > 0 && space + 1 < line.size() &&
                   line.find(' ', space + 1) == std::string::npos,
               "'" << source << "': merge " << rank << " \"" << line << "\" is not two tokens separated by one space");
    return {line.substr(0, space), line.substr(space + 1)};
}

void readVocab(const json& vocab, const std::string& source, TokenizerFiles& out) {
    XOPD_CHECK(vocab.is_object(), "'" << source << "': the vocabulary is not a JSON object of token -> id");
    out.vocab.reserve(vocab.size());
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        XOPD_CHECK(it.value().is_number_integer() && it.value().get<int64_t>() >= 0 &&
                       it.value().get<int64_t>() < (int64_t(1) << 30),
                   "'" << source << "': vocabulary entry \"" << it.key() << "\" has no valid id");
        out.vocab.emplace(it.key(), it.value().get<int32_t>());
    }
}

void readMergesArray(const json& merges, const std::string& source, TokenizerFiles& out) {
    XOPD_CHECK(merges.is_array(), "'" << source << "': model.merges is not an array");
    out.merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
        const json& m = merges[i];
        if (m.is_string()) {
            out.merges.push_back(splitMergeString(m.get<std::string>(), source, i));
        } else {
            XOPD_CHECK(m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string(),
                       "'" << source << "': merge " << i << " is neither \"a b\" nor [\"a\", \"b\"]: " << m.dump());
            out.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        }
    }
}

AddedToken readAddedToken(const json& t, int64_t id, const std::string& source) {
    XOPD_CHECK(t.is_object() && t.contains("content") && t["content"].is_string(),
               "'" << source << "': added token " << id << " has no \"content\" string");
    AddedToken a;
    a.content = t["content"].get<std::string>();
    a.id = static_cast<int32_t>(id);
    a.special = t.value("special", false);
    XOPD_CHECK(!a.content.empty(), "'" << source << "': added token " << id << " is empty");
    for (const char* flag : {"lstrip", "rstrip", "single_word"}) {
        XOPD_CHECK(!t.value(flag, false), "'" << source << "': added token \"" << a.content << "\" sets " << flag
                                              << ", which this tokenizer does not support");
    }
    return a;
}

/// Finds the pre-tokenizer regex of tokenizer.json: a Split with a Regex pattern (alone or in a
/// Sequence with a ByteLevel that does not split again), or a lone ByteLevel with use_regex.
std::string readPattern(const json& pre, const std::string& source) {
    XOPD_CHECK(pre.is_object(), "'" << source << "': no pre_tokenizer (a byte-level BPE needs one)");
    std::vector<json> steps;
    if (pre.value("type", "") == "Sequence") {
        XOPD_CHECK(pre.contains("pretokenizers") && pre["pretokenizers"].is_array(),
                   "'" << source << "': pre_tokenizer Sequence without pretokenizers");
        for (const json& p : pre["pretokenizers"]) steps.push_back(p);
    } else {
        steps.push_back(pre);
    }
    std::string pattern;
    bool byteLevel = false;
    for (const json& p : steps) {
        const std::string type = p.value("type", "");
        if (type == "Split") {
            XOPD_CHECK(pattern.empty(), "'" << source << "': more than one regex pre-tokenizer is not supported");
            XOPD_CHECK(p.contains("pattern") && p["pattern"].is_object() && p["pattern"].contains("Regex"),
                       "'" << source << "': Split pre-tokenizer without a Regex pattern is not supported");
            XOPD_CHECK(p.value("behavior", "") == "Isolated" && !p.value("invert", false),
                       "'" << source << "': Split pre-tokenizer must use behavior Isolated, invert false");
            pattern = p["pattern"]["Regex"].get<std::string>();
        } else if (type == "ByteLevel") {
            byteLevel = true;
            XOPD_CHECK(!p.value("add_prefix_space", false),
                       "'" << source << "': ByteLevel add_prefix_space is not supported");
            if (p.value("use_regex", true)) {
                XOPD_CHECK(pattern.empty(), "'" << source << "': ByteLevel use_regex after a Split is not supported");
                pattern = kGpt2Pattern;
            }
        } else {
            XOPD_FAIL("'" << source << "': pre-tokenizer type '" << type << "' is not supported (Split, ByteLevel)");
        }
    }
    XOPD_CHECK(byteLevel, "'" << source << "': the pre_tokenizer has no ByteLevel step: not a byte-level BPE");
    XOPD_CHECK(!pattern.empty(), "'" << source << "': the pre_tokenizer has no regex");
    return pattern;
}

bool readNormalizer(const json& n, const std::string& source) {
    if (n.is_null()) return false;
    const std::string type = n.value("type", "");
    if (type == "NFC") return true;
    if (type == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array() &&
        n["normalizers"].size() == 1 && n["normalizers"][0].value("type", "") == "NFC")
        return true;
    XOPD_FAIL("'" << source << "': normalizer '" << n.dump() << "' is not supported (NFC or none)");
}

void checkNonEmptyMerges(const TokenizerFiles& f) {
    XOPD_CHECK(!f.merges.empty(), "'" << f.source << "': no merges loaded: refusing a BPE that would emit one token "
                                      << "per byte (merges must be \"a b\" strings or [\"a\", \"b\"] pairs)");
}

/// Added tokens of tokenizer_config.json ("added_tokens_decoder": {"151643": {...}}).
void readAddedTokensDecoder(const std::string& path, TokenizerFiles& out) {
    const json config = readJsonFile(path);
    if (!config.contains("added_tokens_decoder")) return;
    const json& dec = config["added_tokens_decoder"];
    XOPD_CHECK(dec.is_object(), "'" << path << "': added_tokens_decoder is not an object");
    for (auto it = dec.begin(); it != dec.end(); ++it) {
        int64_t id = -1;
        try {
            size_t used = 0;
            id = std::stoll(it.key(), &used);
            if (used != it.key().size()) id = -1;
        } catch (const std::exception&) {
            id = -1;
        }
        XOPD_CHECK(id >= 0 && id < (int64_t(1) << 30), "'" << path << "': added_tokens_decoder key '" << it.key()
                                                           << "' is not a token id");
        out.added.push_back(readAddedToken(it.value(), id, path));
    }
}

TokenizerFiles readSlowFiles(const fs::path& dir) {
    TokenizerFiles out;
    const fs::path vocabPath = dir / "vocab.json";
    const fs::path mergesPath = dir / "merges.txt";
    out.source = vocabPath.string();
    XOPD_CHECK(fs::exists(mergesPath), "'" << dir.string() << "': has vocab.json but no merges.txt");
    readVocab(readJsonFile(vocabPath.string()), vocabPath.string(), out);
    std::istringstream lines(readTextFile(mergesPath.string()));
    std::string line;
    size_t lineNo = 0;
    while (std::getline(lines, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || (lineNo == 1 && line.rfind("#version", 0) == 0)) continue;
        out.merges.push_back(splitMergeString(line, mergesPath.string() + ":" + std::to_string(lineNo),
                                              out.merges.size()));
    }
    if (out.merges.empty()) out.source = mergesPath.string();
    checkNonEmptyMerges(out);
    out.pattern = kQwen2Pattern;
    out.nfc = true;
    if (fs::exists(dir / "tokenizer_config.json")) readAddedTokensDecoder((dir / "tokenizer_config.json").string(), out);
    if (out.added.empty() && fs::exists(dir / "added_tokens.json")) {
        const std::string path = (dir / "added_tokens.json").string();
        const json added = readJsonFile(path);
        XOPD_CHECK(added.is_object(), "'" << path << "': not an object of token -> id");
        for (auto it = added.begin(); it != added.end(); ++it) {
            XOPD_CHECK(it.value().is_number_integer(), "'" << path << "': \"" << it.key() << "\" has no integer id");
            out.added.push_back({it.key(), it.value().get<int32_t>(), true});
        }
    }
    if (out.added.empty() && !out.vocab.count("<|endoftext|>")) {
        // Qwen2Tokenizer registers <|endoftext|> (its unk/eos/pad default) as the next id.
        out.added.push_back({"<|endoftext|>", static_cast<int32_t>(out.vocab.size()), true});
    }
    return out;
}

}  // namespace

TokenizerFiles parseTokenizerJson(const std::string& jsonText, const std::string& source) {
    const json doc = parseJson(jsonText, source);
    XOPD_CHECK(doc.is_object() && doc.contains("model") && doc["model"].is_object(),
               "'" << source << "': no \"model\" object: not a tokenizer.json");
    const json& model = doc["model"];
    const std::string type = model.value("type", "BPE");
    XOPD_CHECK(type == "BPE", "'" << source << "': model type '" << type << "' is not supported (BPE only)");
    XOPD_CHECK(model.value("dropout", json()).is_null() || model["dropout"] == 0.0,
               "'" << source << "': BPE dropout is not supported");
    XOPD_CHECK(!model.value("byte_fallback", false), "'" << source << "': BPE byte_fallback is not supported");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        const json v = model.value(key, json());
        XOPD_CHECK(v.is_null() || (v.is_string() && v.get<std::string>().empty()),
                   "'" << source << "': BPE " << key << " " << v.dump() << " is not supported");
    }
    XOPD_CHECK(model.contains("vocab") && model.contains("merges"), "'" << source << "': model has no vocab or merges");
    TokenizerFiles out;
    out.source = source;
    readVocab(model["vocab"], source, out);
    readMergesArray(model["merges"], source, out);
    checkNonEmptyMerges(out);
    out.nfc = readNormalizer(doc.value("normalizer", json()), source);
    out.pattern = readPattern(doc.value("pre_tokenizer", json()), source);
    if (doc.contains("decoder") && !doc["decoder"].is_null()) {
        XOPD_CHECK(doc["decoder"].value("type", "") == "ByteLevel",
                   "'" << source << "': decoder '" << doc["decoder"].value("type", "?") << "' is not supported (ByteLevel)");
    }
    if (doc.contains("added_tokens") && !doc["added_tokens"].is_null()) {
        const json& added = doc["added_tokens"];
        XOPD_CHECK(added.is_array(), "'" << source << "': added_tokens is not an array");
        for (const json& t : added) {
            XOPD_CHECK(t.is_object() && t.contains("id") && t["id"].is_number_integer(),
                       "'" << source << "': added token without an integer id: " << t.dump());
            out.added.push_back(readAddedToken(t, t["id"].get<int64_t>(), source));
        }
    }
    return out;
}

TokenizerFiles readTokenizerFiles(const std::string& fileOrDir) {
    const fs::path p(fileOrDir);
    std::error_code ec;
    XOPD_CHECK(fs::exists(p, ec), "'" << fileOrDir << "': no such tokenizer file or folder");
    if (fs::is_directory(p, ec)) {
        if (fs::exists(p / "tokenizer.json")) return readTokenizerFiles((p / "tokenizer.json").string());
        if (fs::exists(p / "vocab.json")) return readSlowFiles(p);
        XOPD_FAIL("'" << fileOrDir << "': folder has neither tokenizer.json nor vocab.json + merges.txt");
    }
    if (p.filename() == "vocab.json" || p.filename() == "merges.txt") return readSlowFiles(p.parent_path().empty() ? "." : p.parent_path());
    return parseTokenizerJson(readTextFile(fileOrDir), fileOrDir);
}

}  // namespace xopd::text
