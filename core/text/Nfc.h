#pragma once
// Unicode NFC normalisation of UTF-8 text through ICU's Normalizer2 (the `{"type":"NFC"}`
// normalizer of tokenizer.json). Thread-safe: ICU's NFC instance is immutable and shared.

#include <string>
#include <string_view>

namespace xopd::text {

/// NFC(s). s must be well-formed UTF-8 (the tokenizer validates first). ASCII and text that is
/// already normalised are returned without conversion. Throws xopd::Error if ICU fails.
std::string toNfc(std::string_view s);

/// True when s is already in NFC.
bool isNfc(std::string_view s);

}  // namespace xopd::text
