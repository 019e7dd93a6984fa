#include "core/model/runtime/AutAudioTower.h"

#include "core/common/Error.h"
#include "core/model/runtime/OmniAudioTower.h"

#include <algorithm>

namespace xopd::model {

namespace {

/// Three stride-2, padding-1, kernel-3 convolutions: ceil-halving three times.
int64_t afterConvs(int64_t n) {
    for (int i = 0; i < 3; ++i) n = (n - 1) / 2 + 1;
    return n;
}

}  // namespace

int64_t autTokenCount(int64_t L, int64_t chunk) {
    XOPD_CHECK(L >= 1, "audio token count: a clip needs at least 1 mel frame (got " << L << ")");
    const int64_t rest = L % chunk;
    return (L / chunk) * afterConvs(chunk) + (rest > 0 ? afterConvs(rest) : 0);
}

int64_t AutAudioTower::frequenciesAfterConvs(int64_t mel_bins) { return afterConvs(mel_bins); }

AutAudioTower AutAudioTower::fromTensors(const AudioTowerConfig& c, const TensorMap& t, const std::string& prefix,
                                         const std::string& what) {
    XOPD_CHECK(c.downsample_hidden_size > 0 && c.n_window > 0 && c.n_window_infer >= 2 * c.n_window,
               what << ": Qwen3-Omni audio_config needs downsample_hidden_size, n_window and n_window_infer >= 2 · n_window");
    AutAudioTower a;
    a.config_ = c;
    a.prefix_ = prefix + "audio_tower.";
    const std::string& p = a.prefix_;
    const int64_t d = c.d_model, ch = c.downsample_hidden_size;
    for (int i = 0; i < 3; ++i) {
        const std::string n = p + "conv2d" + std::to_string(i + 1);
        a.conv_w_[i] = requireShaped(t, n + ".weight", {ch, i == 0 ? 1 : ch, 3, 3}, what);
        a.conv_b_[i] = requireShaped(t, n + ".bias", {ch}, what);
    }
    a.conv_out_.weight = requireShaped(t, p + "conv_out.weight", {d, ch * frequenciesAfterConvs(c.num_mel_bins)}, what);
    for (int64_t i = 0; i < c.encoder_layers; ++i)
        a.layers_.push_back(
            WhisperLayer::read(t, p + "layers." + std::to_string(i) + ".", d, c.encoder_ffn_dim, what, /*key_bias=*/true));
    a.ln_w_ = requireShaped(t, p + "ln_post.weight", {d}, what);
    a.ln_b_ = requireShaped(t, p + "ln_post.bias", {d}, what);
    a.proj1_.weight = requireShaped(t, p + "proj1.weight", {d, d}, what);
    a.proj1_.bias = requireShaped(t, p + "proj1.bias", {d}, what);
    a.proj2_.weight = requireShaped(t, p + "proj2.weight", {c.output_dim, d}, what);
    a.proj2_.bias = requireShaped(t, p + "proj2.bias", {c.output_dim}, what);
    a.positions_ = OmniAudioTower::sinusoids(c.max_source_positions, d).to(a.conv_w_[0].device());
    return a;
}

AudioEncoding AutAudioTower::encode(const std::vector<AudioFeatures>& clips) const {
    XOPD_CHECK(!clips.empty(), "Qwen3-Omni audio tower: no audio clips");
    const int64_t W = 2 * config_.n_window, d = config_.d_model;
    const auto dtype = conv_w_[0].scalar_type();
    const auto device = conv_w_[0].device();
    // 1. Chunks of W valid frames; all padded to the longest chunk of the call.
    std::vector<torch::Tensor> chunks;
    std::vector<int64_t> chunk_lens, chunks_per_clip;
    AudioEncoding out;
    for (size_t i = 0; i < clips.size(); ++i) {
        const AudioFeatures& c = clips[i];
        checkClipFeatures(c, i, config_.num_mel_bins);
        int64_t n = 0;
        for (int64_t s = 0; s < c.valid_frames; s += W, ++n) {
            chunk_lens.push_back(std::min(W, c.valid_frames - s));
            chunks.push_back(c.mel.narrow(1, s, chunk_lens.back()));
        }
        chunks_per_clip.push_back(n);
        out.token_counts.push_back(tokenCount(c.valid_frames));
    }
    const int64_t C = int64_t(chunks.size());
    const int64_t Tmax = *std::max_element(chunk_lens.begin(), chunk_lens.end());
    torch::Tensor x = torch::zeros({C, 1, config_.num_mel_bins, Tmax}, torch::TensorOptions().dtype(dtype).device(device));
    for (int64_t i = 0; i < C; ++i) x[i][0].narrow(1, 0, chunk_lens[size_t(i)]).copy_(chunks[size_t(i)]);
    // 2-3. Three unmasked stride-2 conv2d with GELU; conv_out over (channel, frequency), channel-major.
    for (int i = 0; i < 3; ++i) x = geluExact(torch::conv2d(x, conv_w_[i], conv_b_[i], 2, 1));
    const int64_t T = x.size(3);  // [C, ch, F', T']
    x = conv_out_.forward(x.permute({0, 3, 1, 2}).reshape({C, T, -1}));  // [C, T', d]
    // 4. Positions restart in every chunk.
    XOPD_CHECK(T <= positions_.size(0), "Qwen3-Omni audio tower: " << T << " positions per chunk exceed " << positions_.size(0));
    x = x + positions_.narrow(0, 0, T).to(dtype).unsqueeze(0);
    // 5. Valid outputs of each chunk, per clip in order.
    std::vector<torch::Tensor> per_clip;
    for (size_t i = 0, ci = 0; i < clips.size(); ++i) {
        std::vector<torch::Tensor> parts;
        for (int64_t k = 0; k < chunks_per_clip[i]; ++k, ++ci) parts.push_back(x[int64_t(ci)].narrow(0, 0, afterConvs(chunk_lens[ci])));
        per_clip.push_back(torch::cat(parts, 0));
        XOPD_ASSERT(per_clip.back().size(0) == out.token_counts[i]);
    }
    // 6. Attention windows of `window` tokens within a clip (get_audio_cu_seqlens), as one padded
    //    batch with the padded keys masked.
    const int64_t window = afterConvs(Tmax) * (config_.n_window_infer / W);
    std::vector<torch::Tensor> windows;
    for (const auto& h : per_clip)
        for (int64_t s = 0; s < h.size(0); s += window) windows.push_back(h.narrow(0, s, std::min(window, h.size(0) - s)));
    int64_t Wmax = 0;
    for (const auto& w : windows) Wmax = std::max(Wmax, w.size(0));
    const int64_t NW = int64_t(windows.size());
    torch::Tensor batch = torch::zeros({NW, Wmax, d}, x.options());
    std::vector<int64_t> lens;
    for (int64_t i = 0; i < NW; ++i) {
        batch[i].narrow(0, 0, windows[size_t(i)].size(0)).copy_(windows[size_t(i)]);
        lens.push_back(windows[size_t(i)].size(0));
    }
    const torch::Tensor mask = keyPaddingMask(lens, Wmax, x.options());
    // 7. Encoder layers (scaled product, as Qwen2.5-Omni's).
    for (const auto& l : layers_) batch = l.forward(batch, mask, config_.encoder_attention_heads, /*scale_query=*/false);
    std::vector<torch::Tensor> rows;
    for (int64_t i = 0; i < NW; ++i) rows.push_back(batch[i].narrow(0, 0, lens[size_t(i)]));
    // 8. ln_post → proj1 → GELU → proj2.
    torch::Tensor h = layerNorm(torch::cat(rows, 0), ln_w_, ln_b_);
    out.embeddings = proj2_.forward(geluExact(proj1_.forward(h)));
    return out;
}

std::vector<std::pair<std::string, torch::Tensor*>> AutAudioTower::namedParameters() {
    std::vector<std::pair<std::string, torch::Tensor*>> out;
    const std::string& p = prefix_;
    for (int i = 0; i < 3; ++i) {
        out.emplace_back(p + "conv2d" + std::to_string(i + 1) + ".weight", &conv_w_[i]);
        out.emplace_back(p + "conv2d" + std::to_string(i + 1) + ".bias", &conv_b_[i]);
    }
    out.emplace_back(p + "conv_out.weight", &conv_out_.weight);
    for (size_t i = 0; i < layers_.size(); ++i) layers_[i].collect(p + "layers." + std::to_string(i) + ".", out);
    out.emplace_back(p + "ln_post.weight", &ln_w_);
    out.emplace_back(p + "ln_post.bias", &ln_b_);
    out.emplace_back(p + "proj1.weight", &proj1_.weight);
    out.emplace_back(p + "proj1.bias", &proj1_.bias);
    out.emplace_back(p + "proj2.weight", &proj2_.weight);
    out.emplace_back(p + "proj2.bias", &proj2_.bias);
    return out;
}

}  // namespace xopd::model
