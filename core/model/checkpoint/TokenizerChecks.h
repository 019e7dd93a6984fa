#pragma once
// The checks of a model folder's tokenizer against its config that `xopd inspect`, `generate` and
// the trainer all make (one function, the same message): every EOS id of config.json names a token
// the model can emit.
//
// No LibTorch. Threading: pure function.

#include "core/text/Tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xopd {

/// Throws xopd::Error naming `source` and the id when one of the config's eos_token_ids lies outside
/// both the tokenizer and the `embedding_rows` (a model told to stop at an id it cannot produce runs
/// to max_new_tokens and decodes garbage). Callers pass what they have already parsed.
void validateEosIds(const std::vector<int64_t>& eos_token_ids, int64_t embedding_rows, const text::Tokenizer& tokenizer,
                    const std::string& source);

}  // namespace xopd
