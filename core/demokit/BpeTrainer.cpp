#include "core/demokit/BpeTrainer.h"

#include "core/common/Error.h"
#include "core/common/Json.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <nlohmann/json.hpp>
#include <pcre2.h>

#include <map>
#include <memory>

namespace xopd::demokit {

const char* const kQwen2PretokenizePattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

namespace {

std::string utf8(unsigned cp) {
    std::string s;
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else if (cp < 0x800) {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        s += static_cast<char>(0xE0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
}

bool selfMapped(int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); }

}  // namespace

const std::vector<std::string>& byteLevelSymbols() {
    static const std::vector<std::string> table = [] {
        std::vector<std::string> t(256);
        int n = 0;
        for (int b = 0; b < 256; ++b) t[b] = selfMapped(b) ? utf8(static_cast<unsigned>(b)) : utf8(256u + n++);
        return t;
    }();
    return table;
}

std::vector<std::string> byteLevelBaseTokens() {
    const auto& sym = byteLevelSymbols();
    std::vector<std::string> out;
    for (int b = 0; b < 256; ++b)
        if (selfMapped(b)) out.push_back(sym[b]);
    for (int b = 0; b < 256; ++b)
        if (!selfMapped(b)) out.push_back(sym[b]);
    return out;
}

std::vector<std::string> pretokenize(const std::string& text) {
    int err = 0;
    PCRE2_SIZE err_off = 0;
    static const std::shared_ptr<pcre2_code> code(
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kQwen2PretokenizePattern), PCRE2_ZERO_TERMINATED,
                      PCRE2_UTF | PCRE2_UCP, &err, &err_off, nullptr),
        pcre2_code_free);
    XOPD_CHECK(code, "internal error: the Qwen2 pre-tokenizer pattern does not compile (PCRE2 error " << err << ")");
    std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
        pcre2_match_data_create_from_pattern(code.get(), nullptr), pcre2_match_data_free);
    std::vector<std::string> pieces;
    size_t pos = 0;
    while (pos < text.size()) {
        const int rc = pcre2_match(code.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), pos, 0,
                                   md.get(), nullptr);
        if (rc < 0) {  // no more matches: keep the rest as one piece
            pieces.push_back(text.substr(pos));
            break;
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
        if (ov[0] > pos) pieces.push_back(text.substr(pos, ov[0] - pos));  // unmatched gap
        if (ov[1] == ov[0]) {  // empty match cannot happen with this pattern; guard anyway
            pieces.push_back(text.substr(ov[0], 1));
            pos = ov[0] + 1;
            continue;
        }
        pieces.push_back(text.substr(ov[0], ov[1] - ov[0]));
        pos = ov[1];
    }
    return pieces;
}

BpeVocabulary trainBpe(const std::vector<std::string>& corpus, const std::vector<std::string>& special_tokens,
                       const BpeTrainOptions& options) {
    const auto& sym = byteLevelSymbols();
    // Unique pieces with counts; std::map keeps the order deterministic.
    std::map<std::string, long> piece_counts;
    for (const auto& text : corpus)
        for (const auto& piece : pretokenize(text)) ++piece_counts[piece];
    std::vector<std::pair<std::vector<std::string>, long>> words;
    for (const auto& [piece, count] : piece_counts) {
        std::vector<std::string> symbols;
        for (unsigned char c : piece) symbols.push_back(sym[c]);
        words.emplace_back(std::move(symbols), count);
    }

    BpeVocabulary vocab;
    vocab.tokens = byteLevelBaseTokens();
    vocab.special_tokens = special_tokens;
    for (int m = 0; m < options.max_merges; ++m) {
        std::map<std::pair<std::string, std::string>, long> pairs;
        for (const auto& [symbols, count] : words)
            for (size_t i = 0; i + 1 < symbols.size(); ++i) pairs[{symbols[i], symbols[i + 1]}] += count;
        const std::pair<std::string, std::string>* best = nullptr;
        long best_count = 0;
        for (const auto& [pair, count] : pairs)  // map order: first of equal counts is the smallest pair
            if (count > best_count) {
                best = &pair;
                best_count = count;
            }
        if (!best || best_count < options.min_pair_count) break;
        const auto merge = *best;
        const std::string merged = merge.first + merge.second;
        vocab.merges.push_back(merge);
        vocab.tokens.push_back(merged);
        for (auto& [symbols, count] : words) {
            std::vector<std::string> next;
            for (size_t i = 0; i < symbols.size(); ++i) {
                if (i + 1 < symbols.size() && symbols[i] == merge.first && symbols[i + 1] == merge.second) {
                    next.push_back(merged);
                    ++i;
                } else {
                    next.push_back(symbols[i]);
                }
            }
            symbols = std::move(next);
        }
    }
    return vocab;
}

std::string tokenizerJson(const BpeVocabulary& vocab) {
    using OJ = nlohmann::ordered_json;
    const int first_special = static_cast<int>(vocab.tokens.size());
    OJ added = OJ::array();
    for (size_t i = 0; i < vocab.special_tokens.size(); ++i) {
        OJ t;
        t["id"] = first_special + static_cast<int>(i);
        t["content"] = vocab.special_tokens[i];
        t["single_word"] = false;
        t["lstrip"] = false;
        t["rstrip"] = false;
        t["normalized"] = false;
        t["special"] = true;
        added.push_back(t);
    }
    OJ byte_level;
    byte_level["type"] = "ByteLevel";
    byte_level["add_prefix_space"] = false;
    byte_level["trim_offsets"] = false;
    byte_level["use_regex"] = false;
    OJ split;
    split["type"] = "Split";
    split["pattern"] = OJ{{"Regex", kQwen2PretokenizePattern}};
    split["behavior"] = "Isolated";
    split["invert"] = false;

    OJ vmap = OJ::object();
    for (size_t i = 0; i < vocab.tokens.size(); ++i) {
        XOPD_ASSERT(!vmap.contains(vocab.tokens[i]));
        vmap[vocab.tokens[i]] = static_cast<int>(i);
    }
    OJ merges = OJ::array();
    for (const auto& [a, b] : vocab.merges) merges.push_back(a + " " + b);
    OJ model;
    model["type"] = "BPE";
    model["dropout"] = nullptr;
    model["unk_token"] = nullptr;
    model["continuing_subword_prefix"] = "";
    model["end_of_word_suffix"] = "";
    model["fuse_unk"] = false;
    model["byte_fallback"] = false;
    model["ignore_merges"] = false;
    model["vocab"] = vmap;
    model["merges"] = merges;

    OJ doc;
    doc["version"] = "1.0";
    doc["truncation"] = nullptr;
    doc["padding"] = nullptr;
    doc["added_tokens"] = added;
    doc["normalizer"] = OJ{{"type", "NFC"}};
    doc["pre_tokenizer"] = OJ{{"type", "Sequence"}, {"pretokenizers", OJ::array({split, byte_level})}};
    doc["post_processor"] = byte_level;
    doc["decoder"] = byte_level;
    doc["model"] = model;
    return doc.dump(2) + "\n";
}

}  // namespace xopd::demokit
