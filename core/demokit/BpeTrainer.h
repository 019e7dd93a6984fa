#pragma once
// A small deterministic byte-level BPE trainer and a writer of Hugging Face `tokenizer.json`
// files in the Qwen2 format (model-formats.md §6): NFC normaliser, the Qwen2 Split regex +
// ByteLevel pre-tokenizer, BPE model with the 256 byte symbols (ids 0-255 in bytes_to_unicode
// order) followed by the learned merges, ByteLevel decoder, and special added tokens after them.
//
// Training: the corpus is pre-tokenised with the same Qwen2 regex (PCRE2), every piece is mapped to
// byte symbols, and the most frequent adjacent pair is merged repeatedly. Ties are broken by the
// lexicographically smallest pair, so the result depends on the corpus only (not on hash order).
//
// Threading: pure functions; no shared state.

#include <string>
#include <utility>
#include <vector>

namespace xopd::demokit {

/// The Qwen2 pre-tokenizer pattern (model-formats.md §6.2).
extern const char* const kQwen2PretokenizePattern;

/// Options of trainBpe.
struct BpeTrainOptions {
    /// Stop after this many merges.
    int max_merges = 400;
    /// Only merge pairs seen at least this often in the corpus.
    int min_pair_count = 2;
};

/// A trained byte-level BPE vocabulary.
struct BpeVocabulary {
    /// Token strings in id order, in byte-level form ("Ġthe"): 256 byte symbols, then merges.
    std::vector<std::string> tokens;
    /// Merges in rank order, as (left, right) token strings.
    std::vector<std::pair<std::string, std::string>> merges;
    /// Special added tokens; their ids follow `tokens`.
    std::vector<std::string> special_tokens;

    /// Total number of ids (tokens + special tokens).
    int size() const { return static_cast<int>(tokens.size() + special_tokens.size()); }
};

/// The byte-level symbol (UTF-8 of the mapped code point) of each byte 0..255 (GPT-2 bytes_to_unicode).
const std::vector<std::string>& byteLevelSymbols();

/// The base byte symbols in id order: the 188 self-mapped bytes, then the 68 remapped ones.
std::vector<std::string> byteLevelBaseTokens();

/// Splits text into pre-tokenizer pieces with the Qwen2 regex (PCRE2, UTF + UCP).
std::vector<std::string> pretokenize(const std::string& text);

/// Learns merges from a corpus of texts. `special_tokens` are appended as added tokens.
BpeVocabulary trainBpe(const std::vector<std::string>& corpus, const std::vector<std::string>& special_tokens,
                       const BpeTrainOptions& options = {});

/// The tokenizer.json document (as a string, 2-space indented, keys in HF order).
std::string tokenizerJson(const BpeVocabulary& vocab);

}  // namespace xopd::demokit
