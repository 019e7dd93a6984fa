#pragma once
// Tensor forms of a VocabAlignment for the divergence and sampling code.
//
// Threading: pure functions.

#include "core/model/runtime/VocabAlignment.h"

#include "core/common/Tensors.h"

namespace xopd::model {

/// Bool [rows]: true where the id is shared (comparable between teacher and student).
torch::Tensor sharedVocabMask(const VocabAlignment& alignment, int64_t rows);

/// logits with every non-shared id set to −inf (any leading shape, vocabulary last).
torch::Tensor maskUnsharedLogits(const torch::Tensor& logits, const VocabAlignment& alignment);

}  // namespace xopd::model
