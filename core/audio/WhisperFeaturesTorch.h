#pragma once
// LibTorch API of the Whisper log-mel front end (see WhisperFeatures.h for the definition).
// Never include this from a header the GUI uses: it pulls in torch.

#include "core/audio/WhisperFeatures.h"
#include "core/common/Tensors.h"

namespace xopd::audio {

/// Tensors of one or more clips.
struct WhisperFeatureTensors {
    /// [mel_bins, 3000] float32 for a 1-D input, [B, mel_bins, 3000] for a [B, n] input.
    torch::Tensor features;
    /// int32 [3000] or [B, 3000]: 1 for valid frames.
    torch::Tensor attention_mask;
};

/// Features of a 16 kHz waveform: 1-D [n] or 2-D [B, n] (every row n samples long, all valid; the
/// max-8 clamp is per row like HF's batched torch path). Any floating dtype; CPU or CUDA.
WhisperFeatureTensors whisperFeatureTensors(const torch::Tensor& waveform,
                                            const WhisperFeatureOptions& options = {});

}  // namespace xopd::audio
