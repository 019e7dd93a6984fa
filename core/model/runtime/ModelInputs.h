#pragma once
// The inputs a speech LM needs for one user turn, shared by everything that asks a model
// (the trainer's policies, the evaluator, the demo-kit builder): the Whisper features of an audio
// file, the prompt ids of a chat template's user turn, and the tokenizer's stop ids.
//
// Threading: pure functions; the tokenizer is only read.

#include "core/model/runtime/AudioEncoder.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::model {

/// Features of an audio file: read (resampled to 16 kHz; at most 30 s), Whisper log-mel with
/// `mel_bins` computed on the 30 s window (`pad_to_30s`, Qwen2-Audio / Qwen2.5-Omni) or on the clip
/// itself (Qwen3-Omni), cut to the valid frames: mel [mel_bins, L], valid_frames L. Throws
/// xopd::Error naming the file when it cannot be read or holds no audio.
AudioFeatures audioFeaturesOfFile(const std::string& path, int mel_bins, bool pad_to_30s = true);

/// The features `encoder` expects of an audio file (its mel bins and padding rule).
AudioFeatures audioFeaturesFor(const AudioEncoder& encoder, const std::string& path);

/// Prompt ids (template rendered and encoded) of one user turn: the transcript, or, when
/// `audio_tokens` > 0, that many audio placeholder tokens instead of text.
std::vector<int64_t> userTurnPromptIds(const text::Tokenizer& tokenizer, text::ChatTemplateKind kind,
                                       const std::string& transcript, int audio_tokens);

/// Stop ids of the tokenizer: <|im_end|> and <|endoftext|> when present.
std::vector<int64_t> stopTokenIds(const text::Tokenizer& tokenizer);

}  // namespace xopd::model
