#pragma once
// Helpers of the text tests: the §8.1 fixture vocabulary (built here, independently of the code
// under test, from the bytes_to_unicode definition) written in both file formats.

#include <QString>

#include <string>
#include <utility>
#include <vector>

namespace xopd::test {

/// bytes_to_unicode of GPT-2, re-implemented from its definition: the code point of each byte.
std::vector<char32_t> referenceBytesToUnicode();
/// UTF-8 of one code point.
std::string utf8(char32_t c);

/// The 270-entry fixture vocabulary of HF's test_tokenization_qwen2.py (ids 0-269) and its merges.
std::vector<std::pair<std::string, int>> fixtureVocab();
std::vector<std::pair<std::string, std::string>> fixtureMerges();

/// Writes vocab.json + merges.txt ("a b" lines, with a #version header) into dir.
void writeFixtureSlowFiles(const QString& dir);
/// Writes tokenizer.json with ["a","b"] merge pairs and <|endoftext|> 270 as an added token.
void writeFixtureTokenizerJson(const QString& path, bool pairMerges = true);

/// Path of the real Qwen vocabulary committed in tests/data/text/qwen3/.
QString qwenTokenizerPath();

}  // namespace xopd::test
