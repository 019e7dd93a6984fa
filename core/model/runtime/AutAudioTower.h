#pragma once
// Qwen3-Omni's AuT audio encoder (transformers Qwen3OmniMoeAudioEncoder; docs/models/qwen3-omni.md
// §3): the valid mel frames of each clip are cut into chunks of 2 · n_window frames (1 s), every
// chunk zero-padded to the longest chunk of the call; three stride-2 3×3 conv2d with GELU (no mask
// between them, as HF), conv_out over the channel-major flattened (channel, frequency) plane,
// sinusoid positions restarting at 0 in every chunk, the valid outputs of each chunk kept; Whisper
// layers (biased keys) attending bidirectionally within windows of
// tokens_per_chunk · (n_window_infer / (2 · n_window)) tokens of one clip; ln_post → proj1 → GELU
// → proj2 into the LLM width. 13 audio tokens per second of audio.
//
// Threading and lifetime: see AudioEncoder.

#include "core/model/runtime/AudioEncoder.h"

namespace xopd::model {

/// Audio tokens of Qwen3-Omni for L mel frames (_get_feat_extract_output_lengths): 13 per full
/// chunk of 100 frames plus three stride-2 halvings of the remainder.
int64_t autTokenCount(int64_t valid_frames, int64_t chunk_frames = 100);

class AutAudioTower : public AudioEncoder {
public:
    /// Reads <prefix>audio_tower.{conv2d1..3, conv_out, layers.*, ln_post, proj1, proj2}.
    static AutAudioTower fromTensors(const AudioTowerConfig& config, const TensorMap& tensors, const std::string& prefix,
                                     const std::string& what);

    AudioEncoding encode(const std::vector<AudioFeatures>& clips) const override;
    std::vector<std::pair<std::string, torch::Tensor*>> namedParameters() override;
    void to(torch::ScalarType dtype) override { convertParameters(namedParameters(), dtype); }
    void to(torch::Device device) override {
        convertParameters(namedParameters(), device);
        positions_ = positions_.to(device);
    }
    const AudioTowerConfig& config() const override { return config_; }
    int64_t tokenCount(int64_t valid_frames) const override { return autTokenCount(valid_frames, 2 * config_.n_window); }
    bool padsTo30Seconds() const override { return false; }

    /// Frequency bins after the three convolutions: three ceil-halvings of num_mel_bins (128 → 16).
    static int64_t frequenciesAfterConvs(int64_t mel_bins);

private:
    AudioTowerConfig config_;
    std::string prefix_;
    torch::Tensor conv_w_[3], conv_b_[3];  // conv2d1..3
    Linear conv_out_;                       // [d, channels · frequencies], no bias
    std::vector<WhisperLayer> layers_;
    torch::Tensor ln_w_, ln_b_;
    Linear proj1_, proj2_;
    torch::Tensor positions_;  // fp32 sinusoids, computed
};

}  // namespace xopd::model
