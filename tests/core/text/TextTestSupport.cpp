#include "tests/core/text/TextTestSupport.h"

#include "tests/support/TestSupport.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

namespace xopd::test {

std::vector<char32_t> referenceBytesToUnicode() {
    // bs = list(range(ord("!"), ord("~")+1)) + list(range(ord("¡"), ord("¬")+1)) + list(range(ord("®"), ord("ÿ")+1))
    std::vector<int> bs;
    for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
    for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
    for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
    std::vector<int> cs = bs;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
        bool found = false;
        for (int x : bs) found = found || x == b;
        if (!found) {
            bs.push_back(b);
            cs.push_back(256 + n++);
        }
    }
    std::vector<char32_t> map(256);
    for (size_t i = 0; i < bs.size(); ++i) map[bs[i]] = static_cast<char32_t>(cs[i]);
    return map;
}

std::string utf8(char32_t c) {
    std::string s;
    if (c < 0x80) {
        s += static_cast<char>(c);
    } else if (c < 0x800) {
        s += static_cast<char>(0xC0 | (c >> 6));
        s += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        s += static_cast<char>(0xE0 | (c >> 12));
        s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        s += static_cast<char>(0xF0 | (c >> 18));
        s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (c & 0x3F));
    }
    return s;
}

std::vector<std::pair<std::string, int>> fixtureVocab() {
    // Ids 0-255: the byte symbols in bytes_to_unicode order (bs order above).
    std::vector<int> bs;
    for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
    for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
    for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
    for (int b = 0; b < 256; ++b) {
        bool found = false;
        for (int x : bs) found = found || x == b;
        if (!found) bs.push_back(b);
    }
    const auto map = referenceBytesToUnicode();
    std::vector<std::pair<std::string, int>> vocab;
    for (int i = 0; i < 256; ++i) vocab.emplace_back(utf8(map[bs[i]]), i);
    const char* extra[] = {"\u0120l", "\u0120n", "\u0120lo", "\u0120low", "er", "\u0120lowest", "\u0120newer",
                           "\u0120wider", "01", ";}", ";}\u010a", "\u00cf\u0135", "\u0120#", "##"};
    int id = 256;
    for (const char* e : extra) vocab.emplace_back(e, id++);
    return vocab;
}

std::vector<std::pair<std::string, std::string>> fixtureMerges() {
    return {{"\u0120", "l"}, {"\u0120l", "o"}, {"\u0120lo", "w"}, {"e", "r"},       {"0", "1"},
            {";", "}"},      {";}", "\u010a"}, {"\u00cf", "\u0135"}, {"\u0120", "#"}, {"#", "#"}};
}

static void writeFile(const QString& path, const std::string& text) {
    std::ofstream out(path.toStdString(), std::ios::binary);
    if (!out) throw std::runtime_error("cannot write " + path.toStdString());
    out << text;
}

void writeFixtureSlowFiles(const QString& dir) {
    nlohmann::json vocab = nlohmann::json::object();
    for (const auto& [tok, id] : fixtureVocab()) vocab[tok] = id;
    writeFile(dir + "/vocab.json", vocab.dump());
    std::string merges = "#version: 0.2\n";
    for (const auto& [a, b] : fixtureMerges()) merges += a + " " + b + "\n";
    writeFile(dir + "/merges.txt", merges);
}

void writeFixtureTokenizerJson(const QString& path, bool pairMerges) {
    nlohmann::json vocab = nlohmann::json::object();
    for (const auto& [tok, id] : fixtureVocab()) vocab[tok] = id;
    nlohmann::json merges = nlohmann::json::array();
    for (const auto& [a, b] : fixtureMerges()) {
        if (pairMerges)
            merges.push_back({a, b});
        else
            merges.push_back(a + " " + b);
    }
    const std::string pattern =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    nlohmann::json doc = {
        {"version", "1.0"},
        {"added_tokens",
         {{{"id", 270}, {"content", "<|endoftext|>"}, {"single_word", false}, {"lstrip", false},
           {"rstrip", false}, {"normalized", false}, {"special", true}}}},
        {"normalizer", {{"type", "NFC"}}},
        {"pre_tokenizer",
         {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}}},
        {"post_processor", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
        {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
        {"model",
         {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""},
          {"end_of_word_suffix", ""}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
          {"vocab", vocab}, {"merges", merges}}}};
    writeFile(path, doc.dump(1));
}

QString qwenTokenizerPath() { return testData("text/qwen3/tokenizer.json"); }

}  // namespace xopd::test
