#include "core/text/TokenizerFiles.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/text/RegexSplitter.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string_view>

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

/// obj[key] when obj is an object holding key with a non-null value, else nullptr.
const json* field(const json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    const auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

/// The string at obj[key], fallback when absent or null; an error naming `where` and key when it is
/// something else (json::value() would throw a bare nlohmann type_error).
std::string stringField(const json& obj, const char* key, const std::string& fallback,
                        const std::string& source, const std::string& where) {
    const json* v = field(obj, key);
    if (!v) return fallback;
    XOPD_CHECK(v->is_string(),
               "'" << source << "': " << where << key << " must be a string, got " << v->dump());
    return v->get<std::string>();
}

/// The boolean at obj[key], as stringField().
bool boolField(const json& obj, const char* key, bool fallback, const std::string& source,
               const std::string& where) {
    const json* v = field(obj, key);
    if (!v) return fallback;
    XOPD_CHECK(v->is_boolean(),
               "'" << source << "': " << where << key << " must be true or false, got " << v->dump());
    return v->get<bool>();
}

std::pair<std::string, std::string> splitMergeString(const std::string& line, const std::string& source,
                                                     size_t rank) {
    const size_t space = line.find(' ');
    XOPD_CHECK(space != std::string::npos && space > 0 && space + 1 < line.size() &&
                   line.find(' ', space + 1) == std::string::npos,
               "'" << source << "': merge " << rank << " \"" << line << "\" is not two tokens separated by one space");
    return {line.substr(0, space), line.substr(space + 1)};
}

/// A token's text for messages: quoted, cut after 80 bytes (fuzzed or hostile files may have huge ones).
std::string quotedToken(const std::string& text) {
    constexpr size_t kMax = 80;
    return "\"" + (text.size() <= kMax ? text : text.substr(0, kMax) + "...") + "\"";
}

std::string idRange() { return "token ids must be in [0, " + std::to_string(kMaxTokenIds) + ")"; }

/// A token id read from JSON: an integer in [0, kMaxTokenIds), else an error naming `what`.
/// Checked on the JSON value, before any narrowing to int32_t.
int32_t readTokenId(const json& v, const std::string& source, const std::string& what) {
    XOPD_CHECK(v.is_number_integer(),
               "'" << source << "': " << what << " has no integer id (" << v.dump() << ")");
    const bool inRange = v.is_number_unsigned() ? v.get<uint64_t>() < uint64_t(kMaxTokenIds)
                                                : v.get<int64_t>() >= 0 && v.get<int64_t>() < kMaxTokenIds;
    XOPD_CHECK(inRange, "'" << source << "': " << what << " has id " << v.dump() << ": " << idRange());
    return static_cast<int32_t>(v.get<int64_t>());
}

void readVocab(const json& vocab, const std::string& source, TokenizerFiles& out) {
    XOPD_CHECK(vocab.is_object(), "'" << source << "': the vocabulary is not a JSON object of token -> id");
    out.vocab.reserve(vocab.size());
    for (auto it = vocab.begin(); it != vocab.end(); ++it)
        out.vocab.emplace(it.key(),
                          readTokenId(it.value(), source, "vocabulary token " + quotedToken(it.key())));
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

/// One added token: t is its object ({"content": ..., "special": ...}), id its id as JSON.
AddedToken readAddedToken(const json& t, const json& id, const std::string& source) {
    XOPD_CHECK(t.is_object() && t.contains("content") && t["content"].is_string(),
               "'" << source << "': added token " << id.dump() << " has no \"content\" string");
    AddedToken a;
    a.content = t["content"].get<std::string>();
    XOPD_CHECK(!a.content.empty(), "'" << source << "': added token " << id.dump() << " is empty");
    a.id = readTokenId(id, source, "added token " + quotedToken(a.content));
    const std::string where = "added token " + quotedToken(a.content) + ": ";
    a.special = boolField(t, "special", false, source, where);
    for (const char* flag : {"lstrip", "rstrip", "single_word"}) {
        XOPD_CHECK(!boolField(t, flag, false, source, where),
                   "'" << source << "': added token \"" << a.content << "\" sets " << flag
                       << ", which this tokenizer does not support");
    }
    return a;
}

/// Finds the pre-tokenizer regex of tokenizer.json: a Split with a Regex pattern (alone or in a
/// Sequence with a ByteLevel that does not split again), or a lone ByteLevel with use_regex.
std::string readPattern(const json& pre, const std::string& source) {
    XOPD_CHECK(pre.is_object(), "'" << source << "': no pre_tokenizer (a byte-level BPE needs one)");
    std::vector<json> steps;
    if (stringField(pre, "type", "", source, "pre_tokenizer.") == "Sequence") {
        XOPD_CHECK(pre.contains("pretokenizers") && pre["pretokenizers"].is_array(),
                   "'" << source << "': pre_tokenizer Sequence without pretokenizers");
        for (const json& p : pre["pretokenizers"]) steps.push_back(p);
    } else {
        steps.push_back(pre);
    }
    std::string pattern;
    bool byteLevel = false;
    for (const json& p : steps) {
        const std::string type = stringField(p, "type", "", source, "pre-tokenizer ");
        if (type == "Split") {
            XOPD_CHECK(pattern.empty(), "'" << source << "': more than one regex pre-tokenizer is not supported");
            const json* regex = field(p, "pattern") ? field(p["pattern"], "Regex") : nullptr;
            XOPD_CHECK(
                regex && regex->is_string(),
                "'" << source << "': Split pre-tokenizer without a Regex pattern string is not supported");
            XOPD_CHECK(stringField(p, "behavior", "", source, "Split pre-tokenizer ") == "Isolated" &&
                           !boolField(p, "invert", false, source, "Split pre-tokenizer "),
                       "'" << source << "': Split pre-tokenizer must use behavior Isolated, invert false");
            pattern = regex->get<std::string>();
            XOPD_CHECK(!pattern.empty(), "'" << source << "': Split pre-tokenizer has an empty Regex");
        } else if (type == "ByteLevel") {
            byteLevel = true;
            XOPD_CHECK(!boolField(p, "add_prefix_space", false, source, "ByteLevel pre-tokenizer "),
                       "'" << source << "': ByteLevel add_prefix_space is not supported");
            if (boolField(p, "use_regex", true, source, "ByteLevel pre-tokenizer ")) {
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
    const std::string type = stringField(n, "type", "", source, "normalizer.");
    if (type == "NFC") return true;
    if (type == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array() &&
        n["normalizers"].size() == 1 &&
        stringField(n["normalizers"][0], "type", "", source, "normalizer ") == "NFC")
        return true;
    XOPD_FAIL("'" << source << "': normalizer '" << n.dump() << "' is not supported (NFC or none)");
}

void checkNonEmptyMerges(const TokenizerFiles& f) {
    XOPD_CHECK(!f.merges.empty(), "'" << f.source << "': no merges loaded: refusing a BPE that would emit one token "
                                      << "per byte (merges must be \"a b\" strings or [\"a\", \"b\"] pairs)");
}

/// Added tokens of tokenizer_config.json ("added_tokens_decoder": {"151643": {...}}).
void readAddedTokensDecoder(const std::string& path, TokenizerFiles& out) {
    const json config = parseJson(readTextFile(path), path);
    if (!config.contains("added_tokens_decoder")) return;
    const json& dec = config["added_tokens_decoder"];
    XOPD_CHECK(dec.is_object(), "'" << path << "': added_tokens_decoder is not an object");
    for (auto it = dec.begin(); it != dec.end(); ++it) {
        // The key is the id as text; range checks happen on the number (readTokenId).
        bool isNumber = false;
        int64_t id = 0;
        try {
            size_t used = 0;
            id = std::stoll(it.key(), &used);
            isNumber = used == it.key().size();
        } catch (const std::exception&) {
            isNumber = false;
        }
        XOPD_CHECK(isNumber,
                   "'" << path << "': added_tokens_decoder key '" << it.key() << "' is not a token id");
        out.added.push_back(readAddedToken(it.value(), json(id), path));
    }
}

TokenizerFiles readSlowFiles(const fs::path& dir) {
    TokenizerFiles out;
    const fs::path vocabPath = dir / "vocab.json";
    const fs::path mergesPath = dir / "merges.txt";
    out.source = vocabPath.string();
    XOPD_CHECK(fs::exists(mergesPath), "'" << dir.string() << "': has vocab.json but no merges.txt");
    readVocab(parseJson(readTextFile(vocabPath.string()), vocabPath.string()), vocabPath.string(), out);
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
    if (fs::exists(dir / "tokenizer_config.json")) {
        out.added_source = (dir / "tokenizer_config.json").string();
        readAddedTokensDecoder(out.added_source, out);
    }
    if (out.added.empty() && fs::exists(dir / "added_tokens.json")) {
        out.added_source = (dir / "added_tokens.json").string();
        const json added = parseJson(readTextFile(out.added_source), out.added_source);
        XOPD_CHECK(added.is_object(), "'" << out.added_source << "': not an object of token -> id");
        for (auto it = added.begin(); it != added.end(); ++it) {
            XOPD_CHECK(!it.key().empty(), "'" << out.added_source << "': an added token is empty");
            out.added.push_back(
                {it.key(), readTokenId(it.value(), out.added_source, "added token " + quotedToken(it.key())),
                 true});
        }
    }
    if (out.added.empty() && !out.vocab.count("<|endoftext|>")) {
        // Qwen2Tokenizer registers <|endoftext|> (its unk/eos/pad default) as the next id.
        out.added_source = out.source;
        int32_t next = 0;
        for (const auto& [token, id] : out.vocab) next = std::max(next, id + 1);
        out.added.push_back({"<|endoftext|>", next, true});
    }
    checkTokenIds(out);
    return out;
}

}  // namespace

void checkTokenIds(const std::unordered_map<std::string, int32_t>& vocab,
                   const std::vector<AddedToken>& added, const std::string& vocabSource,
                   const std::string& addedSource) {
    // 1. Bounds, before anything is sized by an id. Remember the token with the largest id.
    int32_t maxId = -1;
    std::string maxWhat;
    for (const auto& [token, id] : vocab) {
        XOPD_CHECK(id >= 0 && id < kMaxTokenIds, "'" << vocabSource << "': vocabulary token "
                                                     << quotedToken(token) << " has id " << id << ": "
                                                     << idRange());
        if (id > maxId) {
            maxId = id;
            maxWhat = "'" + vocabSource + "': vocabulary token " + quotedToken(token);
        }
    }
    for (const AddedToken& t : added) {
        XOPD_CHECK(!t.content.empty(), "'" << addedSource << "': added token " << t.id << " is empty");
        XOPD_CHECK(t.id >= 0 && t.id < kMaxTokenIds, "'" << addedSource << "': added token "
                                                         << quotedToken(t.content) << " has id " << t.id
                                                         << ": " << idRange());
        if (t.id > maxId) {
            maxId = t.id;
            maxWhat = "'" + addedSource + "': added token " + quotedToken(t.content);
        }
    }
    const auto unusedMessage = [&](size_t used) {
        std::ostringstream os;
        os << maxWhat << " has id " << maxId << ", but only " << used << " ids are used: at most "
           << kMaxUnusedTokenIds << " ids below the largest may be unused";
        return os.str();
    };
    const size_t entries = vocab.size() + added.size();
    if (static_cast<size_t>(maxId + 1) > entries + kMaxUnusedTokenIds) XOPD_FAIL(unusedMessage(entries));

    // 2. One owner per id: now bounded by the number of entries (+ kMaxUnusedTokenIds).
    std::vector<const std::string*> vocabOwner(static_cast<size_t>(maxId + 1), nullptr);
    size_t used = 0;
    for (const auto& [token, id] : vocab) {
        XOPD_CHECK(!vocabOwner[id], "'" << vocabSource << "': id " << id
                                        << " is used by both vocabulary tokens "
                                        << quotedToken(*vocabOwner[id]) << " and " << quotedToken(token));
        vocabOwner[id] = &token;
        ++used;
    }
    std::vector<const AddedToken*> addedOwner(static_cast<size_t>(maxId + 1), nullptr);
    std::unordered_map<std::string_view, const AddedToken*> addedByText;
    for (const AddedToken& t : added) {
        if (const AddedToken* other = addedOwner[t.id])
            XOPD_FAIL("'" << addedSource << "': id " << t.id << " is used by two added tokens, "
                          << quotedToken(other->content) << " and " << quotedToken(t.content));
        const auto [it, inserted] = addedByText.emplace(t.content, &t);
        XOPD_CHECK(inserted, "'" << addedSource << "': added token " << quotedToken(t.content)
                                 << " has two ids (" << it->second->id << " and " << t.id << ")");
        addedOwner[t.id] = &t;
        const auto inVocab = vocab.find(t.content);
        XOPD_CHECK(inVocab == vocab.end() || inVocab->second == t.id,
                   "'" << addedSource << "': added token " << quotedToken(t.content) << " has id " << t.id
                       << ", but the vocabulary of '" << vocabSource << "' gives it id " << inVocab->second);
        XOPD_CHECK(!vocabOwner[t.id] || *vocabOwner[t.id] == t.content,
                   "'" << addedSource << "': added token " << quotedToken(t.content) << " has id " << t.id
                       << ", which is vocabulary token " << quotedToken(*vocabOwner[t.id]) << " of '"
                       << vocabSource << "'");
        if (!vocabOwner[t.id]) ++used;
    }
    if (static_cast<size_t>(maxId + 1) > used + kMaxUnusedTokenIds) XOPD_FAIL(unusedMessage(used));
}

void checkTokenIds(const TokenizerFiles& files) {
    checkTokenIds(files.vocab, files.added, files.source,
                  files.added_source.empty() ? files.source : files.added_source);
}

TokenizerFiles parseTokenizerJson(const std::string& jsonText, const std::string& source) {
    const json doc = parseJson(jsonText, source);
    XOPD_CHECK(doc.is_object() && doc.contains("model") && doc["model"].is_object(),
               "'" << source << "': no \"model\" object: not a tokenizer.json");
    const json& model = doc["model"];
    const std::string type = stringField(model, "type", "BPE", source, "model.");
    XOPD_CHECK(type == "BPE", "'" << source << "': model type '" << type << "' is not supported (BPE only)");
    XOPD_CHECK(!field(model, "dropout") || model["dropout"] == 0.0,
               "'" << source << "': BPE dropout is not supported");
    XOPD_CHECK(!boolField(model, "byte_fallback", false, source, "model."),
               "'" << source << "': BPE byte_fallback is not supported");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        const json v = field(model, key) ? model[key] : json();
        XOPD_CHECK(v.is_null() || (v.is_string() && v.get<std::string>().empty()),
                   "'" << source << "': BPE " << key << " " << v.dump() << " is not supported");
    }
    XOPD_CHECK(model.contains("vocab") && model.contains("merges"), "'" << source << "': model has no vocab or merges");
    TokenizerFiles out;
    out.source = source;
    readVocab(model["vocab"], source, out);
    readMergesArray(model["merges"], source, out);
    checkNonEmptyMerges(out);
    out.nfc = readNormalizer(field(doc, "normalizer") ? doc["normalizer"] : json(), source);
    out.pattern = readPattern(field(doc, "pre_tokenizer") ? doc["pre_tokenizer"] : json(), source);
    if (const json* decoder = field(doc, "decoder")) {
        const std::string decoderType = stringField(*decoder, "type", "", source, "decoder.");
        XOPD_CHECK(decoderType == "ByteLevel",
                   "'" << source << "': decoder '" << decoderType << "' is not supported (ByteLevel)");
    }
    if (doc.contains("added_tokens") && !doc["added_tokens"].is_null()) {
        const json& added = doc["added_tokens"];
        XOPD_CHECK(added.is_array(), "'" << source << "': added_tokens is not an array");
        for (const json& t : added) {
            XOPD_CHECK(t.is_object() && t.contains("id") && t["id"].is_number_integer(),
                       "'" << source << "': added token without an integer id: " << t.dump());
            out.added.push_back(readAddedToken(t, t["id"], source));
        }
    }
    checkTokenIds(out);
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
