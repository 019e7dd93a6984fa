#pragma once
// The audio side of a speech LM: log-mel features in, one embedding per audio token out (already
// projected to the LLM's hidden size). Implemented by Qwen2AudioTower (§3.2) and OmniAudioTower
// (§4); both share the Whisper encoder layer below.
//
// Threading: encode() is const and may run concurrently. Lifetime: shares its weight tensors.

#include "core/common/Tensors.h"
#include "core/model/runtime/Linear.h"
#include "core/model/runtime/RuntimeConfig.h"
#include "core/model/runtime/TensorMap.h"

#include <string>
#include <vector>

namespace xopd::model {

/// One clip's Whisper log-mel features.
struct AudioFeatures {
    torch::Tensor mel;         ///< [n_mels, F] float32 (F = 3000 for a 30 s window)
    int64_t valid_frames = 0;  ///< L: frames that hold audio (the feature attention mask sum)
};

/// Encoded audio of several clips.
struct AudioEncoding {
    torch::Tensor embeddings;           ///< [sum of token_counts, hidden], clips in order
    std::vector<int64_t> token_counts;  ///< audio tokens per clip: ((L−1)//2 + 1 − 2)//2 + 1
};

/// Audio tokens for L valid mel frames: T1 = (L−1)//2 + 1, n = (T1−2)//2 + 1 (25 per second).
int64_t audioTokenCount(int64_t valid_frames);

class AudioEncoder {
public:
    virtual ~AudioEncoder() = default;
    /// Encodes clips (see AudioFeatures). Differentiable unless under a NoGradGuard.
    virtual AudioEncoding encode(const std::vector<AudioFeatures>& clips) const = 0;
    /// Named parameters (checkpoint names, with prefix) for freezing, training or saving.
    virtual std::vector<std::pair<std::string, torch::Tensor*>> namedParameters() = 0;
    /// Converts the weights.
    virtual void to(torch::ScalarType dtype) = 0;
    virtual void to(torch::Device device) = 0;
    virtual const AudioTowerConfig& config() const = 0;
    /// Audio tokens the encoder makes of `valid_frames` mel frames (Whisper-style towers: 25 per
    /// second, audioTokenCount(); Qwen3-Omni's AuT: 13 per second).
    virtual int64_t tokenCount(int64_t valid_frames) const { return audioTokenCount(valid_frames); }
    /// Whether its processor pads (or cuts) the features to 30 s (Qwen2-Audio, Qwen2.5-Omni) or
    /// computes them on the clip itself (Qwen3-Omni), which changes the last frames' values.
    virtual bool padsTo30Seconds() const { return true; }
};

/// One pre-LN Whisper encoder layer (q/v/out biased, k unbiased — biased in Qwen3-Omni's AuT;
/// fc1/fc2 biased; exact GELU).
struct WhisperLayer {
    torch::Tensor attn_ln_weight, attn_ln_bias;    ///< self_attn_layer_norm
    Linear q_proj, k_proj, v_proj, out_proj;       ///< k_proj has no bias
    torch::Tensor final_ln_weight, final_ln_bias;  ///< final_layer_norm
    Linear fc1, fc2;                               ///< d -> ffn -> d

    /// Reads "<prefix>self_attn.q_proj.weight" … checking shapes.
    static WhisperLayer read(const TensorMap& t, const std::string& prefix, int64_t d_model, int64_t ffn,
                             const std::string& what, bool key_bias = false);
    /// x [N, T, d]; mask additive, broadcastable to [N, heads, T, T], or undefined. When
    /// `scale_query` the queries are multiplied by D^-0.5 before the product (Qwen2-Audio, §3.2),
    /// else the product is scaled (Qwen2.5-Omni).
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, int64_t heads, bool scale_query) const;
    void collect(const std::string& prefix, std::vector<std::pair<std::string, torch::Tensor*>>& out);
};

/// Throws xopd::Error naming clip `index` when its features are not [mel_bins, frames] or its valid
/// frames are outside 1 … frames.
void checkClipFeatures(const AudioFeatures& clip, size_t index, int64_t mel_bins);

/// The additive mask [N, 1, 1, T] of a right-padded batch of N sequences of `lengths` (0 on a
/// sequence's keys, the dtype's lowest finite value on its padding), for WhisperLayer::forward.
torch::Tensor keyPaddingMask(const std::vector<int64_t>& lengths, int64_t T, const torch::TensorOptions& options);

/// Converts every tensor in a named parameter list.
void convertParameters(std::vector<std::pair<std::string, torch::Tensor*>> params, torch::ScalarType dtype);
void convertParameters(std::vector<std::pair<std::string, torch::Tensor*>> params, torch::Device device);

}  // namespace xopd::model
