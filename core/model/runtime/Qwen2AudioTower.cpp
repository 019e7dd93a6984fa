#include "core/model/runtime/Qwen2AudioTower.h"

#include "core/common/Error.h"

#include <limits>

namespace xopd::model {

Qwen2AudioTower Qwen2AudioTower::fromTensors(const AudioTowerConfig& c, int64_t text_hidden, const TensorMap& t,
                                             const std::string& what) {
    Qwen2AudioTower a;
    a.config_ = c;
    a.tower_prefix_ = t.count("audio_tower.conv1.weight") || !t.count("model.audio_tower.conv1.weight") ? "audio_tower."
                                                                                                      : "model.audio_tower.";
    a.projector_prefix_ = t.count("model.multi_modal_projector.linear.weight") ? "model.multi_modal_projector."
                                                                               : "multi_modal_projector.";
    const std::string& p = a.tower_prefix_;
    const int64_t d = c.d_model;
    a.conv1_w_ = requireShaped(t, p + "conv1.weight", {d, c.num_mel_bins, 3}, what);
    a.conv1_b_ = requireShaped(t, p + "conv1.bias", {d}, what);
    a.conv2_w_ = requireShaped(t, p + "conv2.weight", {d, d, 3}, what);
    a.conv2_b_ = requireShaped(t, p + "conv2.bias", {d}, what);
    a.positions_ = requireShaped(t, p + "embed_positions.weight", {c.max_source_positions, d}, what);
    for (int64_t i = 0; i < c.encoder_layers; ++i)
        a.layers_.push_back(WhisperLayer::read(t, p + "layers." + std::to_string(i) + ".", d, c.encoder_ffn_dim, what));
    a.ln_w_ = requireShaped(t, p + "layer_norm.weight", {d}, what);
    a.ln_b_ = requireShaped(t, p + "layer_norm.bias", {d}, what);
    a.projector_.weight = requireShaped(t, a.projector_prefix_ + "linear.weight", {text_hidden, d}, what);
    a.projector_.bias = requireShaped(t, a.projector_prefix_ + "linear.bias", {text_hidden}, what);
    return a;
}

AudioEncoding Qwen2AudioTower::encode(const std::vector<AudioFeatures>& clips) const {
    XOPD_CHECK(!clips.empty(), "Qwen2-Audio tower: no audio clips");
    const int64_t E = 2 * config_.max_source_positions;
    const auto dtype = conv1_w_.scalar_type();
    const auto device = conv1_w_.device();
    std::vector<torch::Tensor> mels;
    AudioEncoding out;
    std::vector<int64_t> t1s;
    for (size_t i = 0; i < clips.size(); ++i) {
        const AudioFeatures& c = clips[i];
        XOPD_CHECK(c.mel.dim() == 2 && c.mel.size(0) == config_.num_mel_bins,
                   "audio clip " << i << ": features have shape " << shapeString(c.mel.sizes()) << ", expected ["
                                 << config_.num_mel_bins << ", " << E << "]");
        XOPD_CHECK(c.valid_frames >= 1 && c.valid_frames <= c.mel.size(1),
                   "audio clip " << i << ": valid frames " << c.valid_frames << " outside 1.." << c.mel.size(1));
        XOPD_CHECK(c.valid_frames <= E, "audio clip " << i << ": " << c.valid_frames
                                                      << " mel frames is longer than the audio tower takes (" << E
                                                      << " = 2 x max_source_positions); split the audio");
        XOPD_CHECK(c.mel.size(1) >= E, "audio clip " << i << ": features have " << c.mel.size(1)
                                                     << " frames; the Qwen2-Audio tower needs exactly " << E
                                                     << " (pad the waveform to the full window before the front end)");
        mels.push_back(c.mel.narrow(1, 0, E));
        t1s.push_back((c.valid_frames - 1) / 2 + 1);
        out.token_counts.push_back(audioTokenCount(c.valid_frames));
    }
    torch::Tensor x = torch::stack(mels).to(device, dtype);                                   // [N, mel, E]
    x = geluExact(torch::conv1d(x, conv1_w_, conv1_b_, /*stride=*/1, /*padding=*/1));
    x = geluExact(torch::conv1d(x, conv2_w_, conv2_b_, /*stride=*/2, /*padding=*/1));         // [N, d, P]
    x = x.permute({0, 2, 1}) + positions_;
    const int64_t N = x.size(0), P = x.size(1);
    // Key masking (§3.2): keys j >= T1 get -inf; queries at padded frames are still computed.
    torch::Tensor lens = torch::tensor(t1s, torch::kInt64).to(device).view({N, 1});
    torch::Tensor masked = torch::arange(P, torch::TensorOptions().dtype(torch::kInt64).device(device)).view({1, P}) >= lens;
    torch::Tensor mask = torch::zeros({N, 1, 1, P}, x.options())
                             .masked_fill(masked.view({N, 1, 1, P}), -std::numeric_limits<double>::infinity());
    for (const auto& l : layers_) x = l.forward(x, mask, config_.encoder_attention_heads, /*scale_query=*/true);
    x = torch::avg_pool1d(x.permute({0, 2, 1}), {2}, {2}).permute({0, 2, 1});
    x = layerNorm(x, ln_w_, ln_b_);
    x = projector_.forward(x);                                                                 // [N, P/2, hidden]
    std::vector<torch::Tensor> kept;
    for (int64_t i = 0; i < N; ++i) kept.push_back(x[i].narrow(0, 0, out.token_counts[static_cast<size_t>(i)]));
    out.embeddings = torch::cat(kept, 0);
    return out;
}

std::vector<std::pair<std::string, torch::Tensor*>> Qwen2AudioTower::namedParameters() {
    std::vector<std::pair<std::string, torch::Tensor*>> out;
    const std::string& p = tower_prefix_;
    out.emplace_back(p + "conv1.weight", &conv1_w_);
    out.emplace_back(p + "conv1.bias", &conv1_b_);
    out.emplace_back(p + "conv2.weight", &conv2_w_);
    out.emplace_back(p + "conv2.bias", &conv2_b_);
    out.emplace_back(p + "embed_positions.weight", &positions_);
    for (size_t i = 0; i < layers_.size(); ++i) layers_[i].collect(p + "layers." + std::to_string(i) + ".", out);
    out.emplace_back(p + "layer_norm.weight", &ln_w_);
    out.emplace_back(p + "layer_norm.bias", &ln_b_);
    out.emplace_back(projector_prefix_ + "linear.weight", &projector_.weight);
    out.emplace_back(projector_prefix_ + "linear.bias", &projector_.bias);
    return out;
}

}  // namespace xopd::model
