#pragma once
// Reading a byte-level BPE tokenizer from Hugging Face files into plain data (TokenizerFiles),
// without building anything. Accepted inputs:
//   - a `tokenizer.json` file (tokenizers library format; merges as "a b" strings or ["a","b"]
//     pairs), or a folder holding one;
//   - a folder with `vocab.json` + `merges.txt` (slow-tokenizer format), plus the added tokens of
//     `tokenizer_config.json` ("added_tokens_decoder") or `added_tokens.json` when present.
// Every error is an xopd::Error naming the file and what is wrong with it; a tokenizer that
// loads zero merges is an error (the silent one-token-per-byte failure of other readers).
//
// Token ids are checked before anything is sized by them (checkTokenIds()): the tables of a
// Tokenizer hold about 100 bytes per id up to the largest id, so an unchecked id in a file is an
// allocation the file chooses (or, negative, an out-of-bounds write).

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace xopd::text {

/// Token ids must be below this: 2^22 = 4,194,304. The largest vocabularies in use have about
/// 256k ids (Gemma 3: 262,144; Qwen2.5: 151,665); 16 times that leaves room for any real file
/// while capping the id-indexed tables at about 400 MB.
constexpr int32_t kMaxTokenIds = 1 << 22;
/// At most this many ids below the largest may be used by no token (vocabularies are dense; HF
/// tokenizers number added tokens on from the vocabulary). Keeps the id-indexed tables
/// proportional to the file, whatever its largest id.
constexpr int32_t kMaxUnusedTokenIds = 1 << 16;

/// A token matched on the raw text before normalisation and BPE (e.g. <|im_start|>).
struct AddedToken {
    /// The exact text of the token.
    std::string content;
    /// Its id.
    int32_t id = -1;
    /// Special tokens are dropped by decode(skip_special = true); non-special ones never are.
    bool special = true;
};

/// What the files say, before any table is built.
struct TokenizerFiles {
    /// The file the model came from (tokenizer.json or vocab.json), for messages.
    std::string source;
    /// Token string (byte-level alphabet) -> id.
    std::unordered_map<std::string, int32_t> vocab;
    /// Merge pairs in rank order.
    std::vector<std::pair<std::string, std::string>> merges;
    /// Added tokens in file order.
    std::vector<AddedToken> added;
    /// The file the added tokens came from when it is not `source` (tokenizer_config.json or
    /// added_tokens.json next to vocab.json), for messages; "" means `source`.
    std::string added_source;
    /// The pre-tokenizer regex (Split with Regex, or the GPT-2 pattern for ByteLevel use_regex).
    std::string pattern;
    /// Whether the normalizer is NFC (false: no normalizer).
    bool nfc = true;
};

/// Checks every token id, throwing xopd::Error naming the file, the token and the id on the first
/// bad one:
///   - every vocabulary and added-token id is in [0, kMaxTokenIds);
///   - no two vocabulary tokens share an id; no two added tokens share an id or a text, and none
///     has an empty text;
///   - an added token whose text is in the vocabulary has that token's id, and an added token
///     whose id is a vocabulary id has that token's text;
///   - at most kMaxUnusedTokenIds ids below the largest id are used by no token.
/// readTokenizerFiles() and parseTokenizerJson() return only files that pass; Tokenizer checks
/// again (files may be built by hand), and setAddedToken() checks the set it would make.
/// O(vocabulary size).
void checkTokenIds(const TokenizerFiles& files);
/// The same check on the parts: vocabulary (from vocabSource) and added tokens (from addedSource).
void checkTokenIds(const std::unordered_map<std::string, int32_t>& vocab,
                   const std::vector<AddedToken>& added, const std::string& vocabSource,
                   const std::string& addedSource);

/// Reads fileOrDir as described above. Throws xopd::Error naming the file on any problem.
TokenizerFiles readTokenizerFiles(const std::string& fileOrDir);

/// Parses an already-read tokenizer.json document; `source` names it in errors.
TokenizerFiles parseTokenizerJson(const std::string& jsonText, const std::string& source);

}  // namespace xopd::text
