#pragma once
// Reading a byte-level BPE tokenizer from Hugging Face files into plain data (TokenizerFiles),
// without building anything. Accepted inputs:
//   - a `tokenizer.json` file (tokenizers library format; merges as "a b" strings or ["a","b"]
//     pairs), or a folder holding one;
//   - a folder with `vocab.json` + `merges.txt` (slow-tokenizer format), plus the added tokens of
//     `tokenizer_config.json` ("added_tokens_decoder") or `added_tokens.json` when present.
// Every error is an xopd::Error naming the file and what is wrong with it; a tokenizer that
// loads zero merges is an error (the silent one-token-per-byte failure of other readers).

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace xopd::text {

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
    /// The pre-tokenizer regex (Split with Regex, or the GPT-2 pattern for ByteLevel use_regex).
    std::string pattern;
    /// Whether the normalizer is NFC (false: no normalizer).
    bool nfc = true;
};

/// Reads fileOrDir as described above. Throws xopd::Error naming the file on any problem.
TokenizerFiles readTokenizerFiles(const std::string& fileOrDir);

/// Parses an already-read tokenizer.json document; `source` names it in errors.
TokenizerFiles parseTokenizerJson(const std::string& jsonText, const std::string& source);

}  // namespace xopd::text
