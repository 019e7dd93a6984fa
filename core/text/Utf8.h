#pragma once
// UTF-8 helpers of the tokenizer: validation (the encoder refuses ill-formed input) and lossy
// decoding that replaces every maximal ill-formed subpart by U+FFFD, exactly as Python's
// bytes.decode("utf-8", "replace") and Rust's String::from_utf8_lossy do (Unicode 15, §3.9,
// "U+FFFD Substitution of Maximal Subparts"). Pure functions, thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

namespace xopd::text {

/// Byte offset of the first ill-formed UTF-8 sequence in s, or std::string_view::npos when s is
/// well-formed (overlongs, surrogates and code points above U+10FFFF are ill-formed).
size_t firstInvalidUtf8(std::string_view s);

/// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when it is ill-formed there
/// (an incomplete or bad sequence). i must be < s.size().
size_t utf8SequenceLength(std::string_view s, size_t i);

/// s with every maximal ill-formed subpart replaced by U+FFFD (EF BF BD).
std::string replaceInvalidUtf8(std::string_view s);

/// True when every byte of s is below 0x80.
bool isAscii(std::string_view s);

}  // namespace xopd::text
