#pragma once
// The byte-level alphabet of GPT-2-style BPE (`bytes_to_unicode`): each of the 256 byte values is
// written as one printable code point. Bytes 33-126, 161-172 and 174-255 map to themselves; the
// other 68 bytes (0-32, 127-160, 173, in increasing order) map to U+0100 + n. So ' ' -> 'Ġ'
// (U+0120) and '\n' -> 'Ċ' (U+010A). The tables are built once; all functions are thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xopd::text {

/// The code point that byte b is written as.
char32_t byteToCodePoint(uint8_t b);

/// The UTF-8 spelling of byteToCodePoint(b) (one or two bytes).
const std::string& byteToSymbol(uint8_t b);

/// The 256 byte symbols in vocabulary order (the 188 self-mapped bytes first, then the 68
/// remapped ones): the order of ids 0-255 in Qwen/GPT-2 vocabularies.
const std::array<uint8_t, 256>& bytesInVocabularyOrder();

/// Maps a byte-level token string (e.g. "Ġworld") back to its raw bytes (" world").
/// Returns nullopt when the string contains a code point outside the byte alphabet or is not UTF-8.
std::optional<std::string> symbolsToBytes(std::string_view token);

/// Writes every byte of raw as its symbol (the inverse of symbolsToBytes).
std::string bytesToSymbols(std::string_view raw);

}  // namespace xopd::text
