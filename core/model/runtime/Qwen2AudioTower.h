#pragma once
// Qwen2-Audio's audio tower and projector (spec model-formats.md §3.2): Whisper conv stem with exact
// GELU, a learned position table, pre-LN layers whose attention masks keys at frames >= T1,
// avg-pool 2, layer_norm, then multi_modal_projector.linear into the LLM's hidden size.
//
// Input clips must carry exactly 2 · max_source_positions mel frames (3000 for the real model);
// longer inputs are cut to that length when their valid frames fit, shorter ones are an error.
//
// Threading and lifetime: see AudioEncoder.

#include "core/model/runtime/AudioEncoder.h"

namespace xopd::model {

class Qwen2AudioTower : public AudioEncoder {
public:
    /// Reads audio_tower.* and multi_modal_projector.* (also accepts the "model." spelling of
    /// recent transformers). `text_hidden` is the projector's output width.
    static Qwen2AudioTower fromTensors(const AudioTowerConfig& config, int64_t text_hidden, const TensorMap& tensors,
                                       const std::string& what);

    AudioEncoding encode(const std::vector<AudioFeatures>& clips) const override;
    std::vector<std::pair<std::string, torch::Tensor*>> namedParameters() override;
    void to(torch::ScalarType dtype) override { convertParameters(namedParameters(), dtype); }
    void to(torch::Device device) override { convertParameters(namedParameters(), device); }
    const AudioTowerConfig& config() const override { return config_; }

private:
    AudioTowerConfig config_;
    std::string tower_prefix_, projector_prefix_;
    torch::Tensor conv1_w_, conv1_b_, conv2_w_, conv2_b_, positions_;
    std::vector<WhisperLayer> layers_;
    torch::Tensor ln_w_, ln_b_;
    Linear projector_;
};

}  // namespace xopd::model
