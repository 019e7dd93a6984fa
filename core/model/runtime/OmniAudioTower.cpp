#include "core/model/runtime/OmniAudioTower.h"

#include "core/common/Error.h"

#include <cmath>

namespace xopd::model {

torch::Tensor OmniAudioTower::sinusoids(int64_t length, int64_t channels) {
    const double inc = std::log(10000.0) / static_cast<double>(channels / 2 - 1);
    torch::Tensor inv = torch::exp(-inc * torch::arange(channels / 2).to(torch::kFloat32));
    torch::Tensor t = torch::arange(length).view({length, 1}) * inv.view({1, -1});
    return torch::cat({t.sin(), t.cos()}, 1);
}

OmniAudioTower OmniAudioTower::fromTensors(const AudioTowerConfig& c, const TensorMap& t, const std::string& prefix,
                                           const std::string& what) {
    OmniAudioTower a;
    a.config_ = c;
    a.prefix_ = prefix + "audio_tower.";
    if (!t.count(a.prefix_ + "conv1.weight") && t.count("audio_tower.conv1.weight")) a.prefix_ = "audio_tower.";
    const std::string& p = a.prefix_;
    const int64_t d = c.d_model;
    a.conv1_w_ = requireShaped(t, p + "conv1.weight", {d, c.num_mel_bins, 3}, what);
    a.conv1_b_ = requireShaped(t, p + "conv1.bias", {d}, what);
    a.conv2_w_ = requireShaped(t, p + "conv2.weight", {d, d, 3}, what);
    a.conv2_b_ = requireShaped(t, p + "conv2.bias", {d}, what);
    for (int64_t i = 0; i < c.encoder_layers; ++i)
        a.layers_.push_back(WhisperLayer::read(t, p + "layers." + std::to_string(i) + ".", d, c.encoder_ffn_dim, what));
    a.ln_w_ = requireShaped(t, p + "ln_post.weight", {d}, what);
    a.ln_b_ = requireShaped(t, p + "ln_post.bias", {d}, what);
    a.proj_.weight = requireShaped(t, p + "proj.weight", {c.output_dim, d}, what);
    a.proj_.bias = requireShaped(t, p + "proj.bias", {c.output_dim}, what);
    a.positions_ = sinusoids(c.max_source_positions, d).to(a.conv1_w_.device());
    return a;
}

AudioEncoding OmniAudioTower::encode(const std::vector<AudioFeatures>& clips) const {
    XOPD_CHECK(!clips.empty(), "Qwen2.5-Omni audio tower: no audio clips");
    const int64_t W = 2 * config_.n_window;
    const auto dtype = conv1_w_.scalar_type();
    const auto device = conv1_w_.device();
    std::vector<torch::Tensor> chunks;
    std::vector<int64_t> chunk_lens;
    std::vector<size_t> chunks_per_clip;
    AudioEncoding out;
    for (size_t i = 0; i < clips.size(); ++i) {
        const AudioFeatures& c = clips[i];
        checkClipFeatures(c, i, config_.num_mel_bins);
        size_t n = 0;
        for (int64_t s = 0; s < c.valid_frames; s += W, ++n) {
            const int64_t len = std::min(W, c.valid_frames - s);
            chunks.push_back(c.mel.narrow(1, s, len));
            chunk_lens.push_back(len);
        }
        chunks_per_clip.push_back(n);
        out.token_counts.push_back(audioTokenCount(c.valid_frames));
    }
    const int64_t C = static_cast<int64_t>(chunks.size());
    const int64_t Lmax = *std::max_element(chunk_lens.begin(), chunk_lens.end());
    torch::Tensor feat = torch::zeros({C, config_.num_mel_bins, Lmax}, torch::TensorOptions().dtype(dtype).device(device));
    torch::Tensor fmask = torch::zeros({C, 1, Lmax}, feat.options());
    std::vector<int64_t> after;
    for (int64_t i = 0; i < C; ++i) {
        feat[i].narrow(1, 0, chunk_lens[i]).copy_(chunks[i]);
        fmask[i].narrow(1, 0, chunk_lens[i]).fill_(1);
        after.push_back((chunk_lens[i] - 1) / 2 + 1);
    }
    torch::Tensor x = geluExact(torch::conv1d(feat, conv1_w_, conv1_b_, 1, 1)) * fmask;
    x = geluExact(torch::conv1d(x, conv2_w_, conv2_b_, 2, 1)).transpose(1, 2);  // [C, P, d]
    const int64_t P = x.size(1);
    XOPD_CHECK(P <= positions_.size(0), "Qwen2.5-Omni audio tower: chunk of " << P << " frames exceeds "
                                                                              << positions_.size(0) << " positions");
    x = x + positions_.narrow(0, 0, P).to(dtype).unsqueeze(0);
    // Block-diagonal attention == attention within each chunk with its padded keys masked.
    const torch::Tensor mask = keyPaddingMask(after, P, x.options());
    for (const auto& l : layers_) x = l.forward(x, mask, config_.encoder_attention_heads, /*scale_query=*/false);
    std::vector<torch::Tensor> per_clip;
    int64_t ci = 0;
    for (size_t i = 0; i < clips.size(); ++i) {
        std::vector<torch::Tensor> parts;
        for (size_t k = 0; k < chunks_per_clip[i]; ++k, ++ci) parts.push_back(x[ci].narrow(0, 0, after[ci]));
        torch::Tensor h = torch::cat(parts, 0);                                           // [A, d]
        h = torch::avg_pool1d(h.transpose(0, 1).unsqueeze(0), {2}, {2}).squeeze(0).transpose(0, 1);
        h = proj_.forward(layerNorm(h, ln_w_, ln_b_));
        XOPD_ASSERT(h.size(0) == out.token_counts[i]);
        per_clip.push_back(h);
    }
    out.embeddings = torch::cat(per_clip, 0);
    return out;
}

std::vector<std::pair<std::string, torch::Tensor*>> OmniAudioTower::namedParameters() {
    std::vector<std::pair<std::string, torch::Tensor*>> out;
    const std::string& p = prefix_;
    out.emplace_back(p + "conv1.weight", &conv1_w_);
    out.emplace_back(p + "conv1.bias", &conv1_b_);
    out.emplace_back(p + "conv2.weight", &conv2_w_);
    out.emplace_back(p + "conv2.bias", &conv2_b_);
    for (size_t i = 0; i < layers_.size(); ++i) layers_[i].collect(p + "layers." + std::to_string(i) + ".", out);
    out.emplace_back(p + "ln_post.weight", &ln_w_);
    out.emplace_back(p + "ln_post.bias", &ln_b_);
    out.emplace_back(p + "proj.weight", &proj_.weight);
    out.emplace_back(p + "proj.bias", &proj_.bias);
    return out;
}

}  // namespace xopd::model
