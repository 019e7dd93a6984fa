#pragma once
// The pre-tokenizer: splits text into pieces at every match of a regular expression with the
// "Isolated" behaviour of Hugging Face `Split` (every match is a piece; text between matches is
// kept as its own piece). PCRE2 with PCRE2_UTF | PCRE2_UCP, so \p{L}, \p{N}, Unicode \s,
// (?i:...) and (?!\S) behave like Oniguruma, the engine of HF tokenizers.
//
// Thread-safety: the compiled pattern (JIT-compiled when PCRE2 has JIT) is immutable after
// construction; split() may run concurrently from any number of threads.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace xopd::text {

/// The Qwen2 / Qwen2.5 / Qwen3 pre-tokenizer pattern (single digits, one optional non-letter
/// prefix glued to a word, symbol runs that swallow trailing newlines).
extern const char* const kQwen2Pattern;
/// The GPT-2 pattern used by `ByteLevel` with `use_regex: true`.
extern const char* const kGpt2Pattern;

class RegexSplitter {
public:
    /// Compiles pattern. `source` names where the pattern came from, for errors.
    /// Throws xopd::Error naming source and the offset of the error.
    RegexSplitter(const std::string& pattern, const std::string& source);
    ~RegexSplitter();
    RegexSplitter(const RegexSplitter&) = delete;
    RegexSplitter& operator=(const RegexSplitter&) = delete;

    /// Appends the pieces of text (as views into text) to out. text must be well-formed UTF-8.
    void split(std::string_view text, std::vector<std::string_view>& out) const;

    /// The pattern as compiled.
    const std::string& pattern() const { return pattern_; }
    /// Whether PCRE2's JIT compiler is used.
    bool jit() const { return jit_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string pattern_;
    bool jit_ = false;
};

}  // namespace xopd::text
