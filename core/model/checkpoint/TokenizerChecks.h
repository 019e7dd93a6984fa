#pragma once
// The checks of a model folder's tokenizer against its config that `xopd inspect`, `generate` and
// the trainer all make (one function, the same message): every EOS id of config.json names a token
// the model can emit.
//
// No LibTorch. Threading: pure function.

#include "core/model/checkpoint/ModelConfig.h"
#include "core/text/Tokenizer.h"

#include <string>

namespace xopd {

/// Throws xopd::Error naming `source` and the id when an eos_token_id of the config lies outside
/// both the tokenizer and the embedding rows (a model told to stop at an id it cannot produce runs
/// to max_new_tokens and decodes garbage).
void validateEosIds(const ModelConfig& config, const text::Tokenizer& tokenizer, const std::string& source);

}  // namespace xopd
