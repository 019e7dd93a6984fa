#pragma once
// Batching of prompts (token ids or ready-made embeddings, e.g. from SpeechLm::embedPrompt) for the
// decoder: prompts are LEFT-padded to a common length so every prompt ends at the same column, and
// optional continuations (responses) follow, RIGHT-padded. Positions come from the mask
// (cumsum − 1, HF convention), so padding never changes a real token's result.
//
// Threading: pure functions.

#include "core/model/runtime/Qwen2Decoder.h"

#include "core/common/Tensors.h"

#include <vector>

namespace xopd::model {

/// One prompt: either ids [T] int64 or embeddings [T, H].
struct PromptInput {
    torch::Tensor ids;     ///< [T] int64, or undefined
    torch::Tensor embeds;  ///< [T, H], or undefined (takes precedence)

    static PromptInput fromIds(const std::vector<int64_t>& ids);
    static PromptInput fromIdTensor(const torch::Tensor& ids) { return {ids.to(torch::kInt64).flatten(), {}}; }
    static PromptInput fromEmbeds(const torch::Tensor& embeds) { return {{}, embeds}; }
    int64_t length() const { return embeds.defined() ? embeds.size(0) : ids.size(0); }
};

/// A padded batch ready for Qwen2Decoder::forward.
struct PaddedBatch {
    torch::Tensor input_ids;       ///< [B, P + R] when every prompt is ids, else undefined
    torch::Tensor inputs_embeds;   ///< [B, P + R, H] when any prompt is embeddings, else undefined
    torch::Tensor attention_mask;  ///< [B, P + R] int64, 1 = real
    int64_t prompt_columns = 0;    ///< P: the longest prompt; prompts end at column P − 1
    int64_t response_columns = 0;  ///< R: the longest continuation (0 without continuations)
    std::vector<int64_t> prompt_lengths;    ///< per row
    std::vector<int64_t> response_lengths;  ///< per row (empty without continuations)
};

/// Throws xopd::Error with the numbers when prompt_tokens + more_tokens exceeds the decoder's
/// max_position_embeddings (no check when the config leaves it 0). Called before anything is sized
/// by the sum: a 20,000-token transcript or max_new_tokens 10^9 is refused, not allocated.
void checkPositions(const Qwen2Decoder& decoder, int64_t prompt_tokens, int64_t more_tokens, const char* more_what);

/// Left-pads prompts and appends right-padded continuations (may be empty). pad_id fills padded id
/// slots (never attended). Throws xopd::Error on an empty batch or a zero-length prompt.
PaddedBatch padBatch(const Qwen2Decoder& decoder, const std::vector<PromptInput>& prompts,
                     const std::vector<std::vector<int64_t>>& continuations = {}, int64_t pad_id = 0);

}  // namespace xopd::model
