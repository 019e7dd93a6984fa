#pragma once
// Byte-level BPE tokenizer of the Qwen family (Qwen2, Qwen2.5, Qwen2-Audio, Qwen2.5-Omni, Qwen3),
// read from Hugging Face files: `tokenizer.json`, or `vocab.json` + `merges.txt` (+ the added
// tokens of `tokenizer_config.json`). Reproduces HF tokenizers:
//
//   encode: split the raw text on added tokens (exact match; leftmost, longest first) -> NFC each
//           remaining segment (ICU) -> pre-tokenizer regex (PCRE2, UTF + UCP) -> bytes -> BPE by
//           merge rank -> ids. No BOS/EOS is added (Qwen's post-processor adds none).
//   decode: token bytes concatenated (added tokens as their text, or skipped when special and
//           skip_special is set), then UTF-8 with every ill-formed subpart replaced by U+FFFD.
//
// Invalid UTF-8 passed to encode() is refused with an xopd::Error that names the byte offset
// (never silently replaced): text reaching the tokenizer comes from files, JSON and the GUI,
// which are UTF-8, so ill-formed bytes there are a bug upstream.
//
// Usage:
//   auto tok = xopd::text::Tokenizer::fromFile("models/Qwen2.5-0.5B-Instruct");
//   std::vector<int32_t> ids = tok.encode("Hello world");    // {9707, 1879}
//   std::string text = tok.decode(ids);                        // "Hello world"
//
// Threading: after construction encode() and decode() are const and may be called from any
// number of threads at once (the word cache is guarded by a mutex). setAddedToken() is not
// thread-safe: call it before sharing the tokenizer. No LibTorch, no Qt in this header.

#include "core/text/TokenizerFiles.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xopd::text {

/// Options of Tokenizer::encode().
struct EncodeOptions {
    /// Match added tokens (<|im_start|>, <|AUDIO|>, ...) in the text; false encodes their text as
    /// ordinary characters (HF split_special_tokens = true).
    bool parse_added_tokens = true;
};

/// Options of Tokenizer::decode().
struct DecodeOptions {
    /// Drop special added tokens (<|im_end|>, <|endoftext|>, ...); non-special ones stay.
    bool skip_special = false;
};

class Tokenizer {
public:
    /// Loads a tokenizer.json file, a folder with one, or a folder with vocab.json + merges.txt.
    /// Throws xopd::Error naming the file on any problem (missing file, bad JSON, zero merges,
    /// unsupported component, a merge or byte symbol missing from the vocabulary, a token id out
    /// of range or inconsistent: checkTokenIds()).
    static Tokenizer fromFile(const std::string& fileOrDir);

    /// Builds a tokenizer from already-read files (see readTokenizerFiles()); checks their ids
    /// first (checkTokenIds()).
    explicit Tokenizer(const TokenizerFiles& files);
    ~Tokenizer();
    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;

    /// Token ids of text. Throws xopd::Error when text is not well-formed UTF-8.
    std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;

    /// UTF-8 text of ids (U+FFFD for ill-formed byte sequences). Throws xopd::Error for an id
    /// that is neither in the vocabulary nor an added token.
    std::string decode(const std::vector<int32_t>& ids, const DecodeOptions& options = {}) const;

    /// The raw bytes of one token (may be part of a UTF-8 character; for streaming output).
    /// Added tokens give their text. Throws xopd::Error for an unknown id.
    const std::string& tokenBytes(int32_t id) const;

    /// Id of a vocabulary token string (byte-level alphabet, e.g. "Ġworld") or of an added token.
    std::optional<int32_t> tokenToId(std::string_view token) const;
    /// Token string of an id (byte-level alphabet for vocabulary tokens, the text of an added one).
    std::string idToToken(int32_t id) const;

    /// One more than the largest id (vocabulary or added).
    int32_t size() const;
    /// Number of merges in the merge table.
    size_t mergeCount() const;
    /// The added tokens, in id order.
    std::vector<AddedToken> addedTokens() const;
    /// Whether id is a special added token.
    bool isSpecial(int32_t id) const;
    /// Adds an added token, replacing any added token with the same id or text (e.g. Qwen2-Audio's
    /// <|AUDIO|> 151646 over Qwen2.5's <|object_ref_start|>). Throws xopd::Error, leaving the
    /// tokenizer unchanged, for an empty text or an id checkTokenIds() refuses. Not thread-safe.
    void setAddedToken(const AddedToken& token);

    /// The file the tokenizer was read from.
    const std::string& source() const;
    /// The pre-tokenizer regex.
    const std::string& pattern() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace xopd::text
