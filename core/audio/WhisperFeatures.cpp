#include "core/audio/WhisperFeatures.h"
#include "core/audio/WhisperFeaturesTorch.h"

#include "core/audio/Resampler.h"
#include "core/common/Error.h"
#include "core/common/TorchErrors.h"

#include <algorithm>
#include <cmath>

namespace xopd::audio {
namespace {

constexpr int kFrequencyBins = kWhisperNfft / 2 + 1;  // 201

double hzToMelSlaney(double hz) {
    const double logstep = 27.0 / std::log(6.4);
    return hz < 1000.0 ? 3.0 * hz / 200.0 : 15.0 + std::log(hz / 1000.0) * logstep;
}

double melToHzSlaney(double mel) {
    const double logstep = std::log(6.4) / 27.0;
    return mel < 15.0 ? 200.0 * mel / 3.0 : 1000.0 * std::exp(logstep * (mel - 15.0));
}

void checkOptions(const WhisperFeatureOptions& o) {
    XOPD_CHECK(o.mel_bins == 80 || o.mel_bins == 128,
               "Whisper features: mel bins must be 80 or 128 (got " << o.mel_bins << ")");
    XOPD_CHECK(o.precision == FeaturePrecision::Float64 || o.precision == FeaturePrecision::Float32,
               "Whisper features: no precision chosen");
}

}  // namespace

std::vector<double> whisperMelFilterBank(int mel_bins) {
    XOPD_CHECK(mel_bins > 0 && mel_bins <= 512, "mel filter bank: bad number of bins " << mel_bins);
    const double mel_max = hzToMelSlaney(kWhisperSampleRate / 2.0);
    const double step = mel_max / (mel_bins + 1);
    std::vector<double> edges(static_cast<size_t>(mel_bins) + 2);
    for (int j = 0; j < mel_bins + 2; ++j) edges[j] = melToHzSlaney(j == mel_bins + 1 ? mel_max : j * step);
    std::vector<double> fb(static_cast<size_t>(mel_bins) * kFrequencyBins, 0.0);
    for (int m = 0; m < mel_bins; ++m) {
        const double lo = edges[m], mid = edges[m + 1], hi = edges[m + 2];
        const double enorm = 2.0 / (hi - lo);
        for (int k = 0; k < kFrequencyBins; ++k) {
            const double f = k * (kWhisperSampleRate / 2.0) / (kFrequencyBins - 1);
            const double down = (f - lo) / (mid - lo), up = (hi - f) / (hi - mid);
            fb[static_cast<size_t>(m) * kFrequencyBins + k] = std::max(0.0, std::min(down, up)) * enorm;
        }
    }
    return fb;
}

int whisperValidFrames(std::int64_t samples_16k) {
    const std::int64_t n = std::clamp<std::int64_t>(samples_16k, 0, kWhisperSamples);
    return static_cast<int>((n + kWhisperHop - 1) / kWhisperHop);
}

int audioTokenCount(int valid_frames) {
    auto floordiv = [](int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
    const int t1 = floordiv(valid_frames - 1, 2) + 1;
    return std::max(0, floordiv(t1 - 2, 2) + 1);
}

WhisperFeatureTensors whisperFeatureTensors(const torch::Tensor& waveform, const WhisperFeatureOptions& options) {
    checkOptions(options);
    XOPD_CHECK(waveform.dim() == 1 || waveform.dim() == 2,
               "Whisper features: waveform must be [n] or [B, n], got " << waveform.sizes());
    XOPD_CHECK(waveform.is_floating_point(), "Whisper features: waveform must be floating point");
    torch::NoGradGuard no_grad;
    const auto dtype = options.precision == FeaturePrecision::Float64 ? torch::kFloat64 : torch::kFloat32;
    const auto topt = torch::TensorOptions().dtype(dtype).device(waveform.device());
    const bool batched = waveform.dim() == 2;
    torch::Tensor x = batched ? waveform : waveform.unsqueeze(0);
    const int64_t n = x.size(1);
    // Step 1: pad with zeros or cut to exactly 30 s (or, without pad_to_30s, the clip as it is).
    const int64_t frames = options.pad_to_30s ? kWhisperFrames : n / kWhisperHop;
    XOPD_CHECK(frames >= 1, "Whisper features: " << n << " samples make no frame (at least " << kWhisperHop << " needed)");
    if (options.pad_to_30s)
        x = n >= kWhisperSamples ? x.narrow(1, 0, kWhisperSamples)
                                 : torch::constant_pad_nd(x, {0, kWhisperSamples - n}, 0.0);
    x = x.to(dtype).contiguous();
    // Step 2-3: reflect-centred STFT, periodic Hann, power, drop the last frame.
    const torch::Tensor window = torch::hann_window(kWhisperNfft, /*periodic=*/true, topt);
    const torch::Tensor spec = torch::stft(x, kWhisperNfft, kWhisperHop, kWhisperNfft, window,
                                           /*center=*/true, "reflect", /*normalized=*/false,
                                           /*onesided=*/true, /*return_complex=*/true);
    const torch::Tensor power = spec.narrow(-1, 0, frames).abs().pow(2);  // [B, 201, frames]
    // Step 4: mel filter bank (float64, cast to the working precision like HF).
    std::vector<double> fb = whisperMelFilterBank(options.mel_bins);
    const torch::Tensor filters = torch::from_blob(fb.data(), {options.mel_bins, kFrequencyBins}, torch::kFloat64)
                                      .to(topt);
    torch::Tensor mel = torch::matmul(filters, power);  // [B, mel, 3000]
    // Steps 5-7: log10 with floor, per-example max - 8 clamp, scale.
    torch::Tensor lg = torch::clamp_min(mel, 1e-10).log10();
    const torch::Tensor mx = std::get<0>(lg.flatten(1).max(/*dim=*/1, /*keepdim=*/true)).unsqueeze(-1);
    lg = torch::maximum(lg, mx - 8.0);
    torch::Tensor out = ((lg + 4.0) / 4.0).to(torch::kFloat32);
    // Step 8: the frame mask.
    const int valid = options.pad_to_30s ? whisperValidFrames(n) : int(frames);
    torch::Tensor mask = torch::zeros({x.size(0), frames}, torch::TensorOptions().dtype(torch::kInt32));
    mask.narrow(1, 0, valid).fill_(1);
    mask = mask.to(waveform.device());
    if (!batched) {
        out = out.squeeze(0);
        mask = mask.squeeze(0);
    }
    return {out.contiguous(), mask};
}

WhisperFeatures computeWhisperFeatures(const std::vector<float>& samples_16k, const WhisperFeatureOptions& options) {
    return withTorchErrors("Whisper features", [&]() -> WhisperFeatures {
        checkOptions(options);
        const torch::Tensor wave = torch::from_blob(const_cast<float*>(samples_16k.data()),
                                                    {static_cast<int64_t>(samples_16k.size())}, torch::kFloat32);
        const WhisperFeatureTensors t = whisperFeatureTensors(wave, options);
        WhisperFeatures f;
        f.mel_bins = options.mel_bins;
        const torch::Tensor v = t.features.contiguous();
        f.values.assign(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
        const torch::Tensor m = t.attention_mask.contiguous();
        f.attention_mask.assign(m.data_ptr<int32_t>(), m.data_ptr<int32_t>() + m.numel());
        f.frames = int(t.features.size(-1));
        f.valid_frames = options.pad_to_30s ? whisperValidFrames(static_cast<std::int64_t>(samples_16k.size())) : f.frames;
        return f;
    });
}

WhisperFeatures computeWhisperFeatures(const AudioClip& clip, const WhisperFeatureOptions& options) {
    XOPD_CHECK(clip.sample_rate > 0, "Whisper features: the clip has no sample rate");
    if (clip.sample_rate == kWhisperSampleRate) return computeWhisperFeatures(clip.samples, options);
    return computeWhisperFeatures(resample(clip.samples, clip.sample_rate, kWhisperSampleRate), options);
}

}  // namespace xopd::audio
