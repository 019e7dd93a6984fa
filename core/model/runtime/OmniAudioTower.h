#pragma once
// The Qwen2.5-Omni thinker's audio encoder (spec model-formats.md §4): only valid mel frames are
// used, cut into chunks of 2 · n_window frames (2 s); each chunk goes through the conv stem with
// its frame mask and gets Whisper sinusoid positions restarting at 0; attention is block-diagonal
// per chunk; per clip: avg-pool 2, ln_post, proj into the LLM's hidden size.
//
// Threading and lifetime: see AudioEncoder.

#include "core/model/runtime/AudioEncoder.h"

namespace xopd::model {

class OmniAudioTower : public AudioEncoder {
public:
    /// Reads <prefix>audio_tower.{conv1,conv2,layers.*,ln_post,proj}; prefix "thinker." or "".
    static OmniAudioTower fromTensors(const AudioTowerConfig& config, const TensorMap& tensors, const std::string& prefix,
                                      const std::string& what);

    AudioEncoding encode(const std::vector<AudioFeatures>& clips) const override;
    std::vector<std::pair<std::string, torch::Tensor*>> namedParameters() override;
    void to(torch::ScalarType dtype) override { convertParameters(namedParameters(), dtype); }
    void to(torch::Device device) override {
        convertParameters(namedParameters(), device);
        positions_ = positions_.to(device);
    }
    const AudioTowerConfig& config() const override { return config_; }

    /// Whisper sinusoid table [length, channels]: inc = ln(10000)/(channels/2 − 1),
    /// inv = exp(−inc · arange(channels/2)), row t = [sin(t·inv), cos(t·inv)] (fp32).
    static torch::Tensor sinusoids(int64_t length, int64_t channels);

private:
    AudioTowerConfig config_;
    std::string prefix_;
    torch::Tensor conv1_w_, conv1_b_, conv2_w_, conv2_b_;
    std::vector<WhisperLayer> layers_;
    torch::Tensor ln_w_, ln_b_;
    Linear proj_;
    torch::Tensor positions_;  // fp32, computed
};

}  // namespace xopd::model
