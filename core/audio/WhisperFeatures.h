#pragma once
// The Whisper log-mel front end, numerically equal to Hugging Face's WhisperFeatureExtractor as
// used by Qwen2-Audio and Qwen2.5-Omni (spec: model-formats.md §5): 16 kHz input padded or cut to
// 30 s, periodic Hann window, reflect-centred STFT (n_fft 400, hop 160), last frame dropped,
// Slaney mel filter bank (computed in float64), log10 with a 1e-10 floor, clamp at max - 8,
// (x + 4) / 4. Output [mel_bins, 3000] float32 plus the attention mask of valid frames.
// Also the audio-token count of Qwen2-Audio / Omni (25 tokens per second, §3.4).
//
// This header is torch-free (the GUI uses it); the LibTorch tensor API is in
// WhisperFeaturesTorch.h. Thread-safe: no shared mutable state.

#include "core/audio/AudioClip.h"

#include <cstdint>
#include <vector>

namespace xopd::audio {

/// Sample rate the front end expects.
constexpr int kWhisperSampleRate = 16000;
/// Samples in the 30 s window.
constexpr int kWhisperSamples = 480000;
/// Mel frames in the 30 s window.
constexpr int kWhisperFrames = 3000;
/// FFT size (25 ms) and hop (10 ms).
constexpr int kWhisperNfft = 400;
constexpr int kWhisperHop = 160;

/// Arithmetic of the STFT and mel product.
enum class FeaturePrecision {
    Invalid = 0,
    Float64,  ///< float64 throughout, rounded to float32 at the end (closest to the exact math)
    Float32,  ///< float32 like HF's torch path (faster; ~1e-3 log-mel units from float64 at worst)
};

/// Options of the front end.
struct WhisperFeatureOptions {
    /// Mel bins: 128 (Whisper large-v3, Qwen2-Audio, Omni) or 80 (Whisper <= large-v2).
    int mel_bins = 128;
    /// Arithmetic precision.
    FeaturePrecision precision = FeaturePrecision::Float64;
    /// Pad (or cut) to 30 s as Qwen2-Audio / Qwen2.5-Omni's processors do (padding="max_length").
    /// false: the clip itself, as Qwen3-Omni's processor calls the extractor for one clip
    /// (padding="longest", no truncation): n // 160 frames, every frame valid.
    bool pad_to_30s = true;
};

/// Log-mel features of one clip.
struct WhisperFeatures {
    /// Row-major [mel_bins, kWhisperFrames].
    std::vector<float> values;
    /// Number of mel bins (rows).
    int mel_bins = 0;
    /// Frames (columns): kWhisperFrames, or n // 160 without pad_to_30s.
    int frames = kWhisperFrames;
    /// 1 for frames that hold audio (t < ceil(n / 160)), 0 for padding; `frames` entries.
    std::vector<std::int32_t> attention_mask;
    /// Sum of attention_mask (the L of §3.4).
    int valid_frames = 0;

    /// values[bin * frames + frame].
    float at(int bin, int frame) const { return values[static_cast<size_t>(bin) * frames + frame]; }
};

/// Features of 16 kHz mono samples. Throws xopd::Error on mel_bins other than 80/128.
WhisperFeatures computeWhisperFeatures(const std::vector<float>& samples_16k,
                                       const WhisperFeatureOptions& options = {});

/// Features of a clip at any rate (resampled to 16 kHz with soxr first when needed).
WhisperFeatures computeWhisperFeatures(const AudioClip& clip, const WhisperFeatureOptions& options = {});

/// The Slaney mel filter bank, float64, row-major [mel_bins, 201] (§5.3).
std::vector<double> whisperMelFilterBank(int mel_bins);

/// Valid mel frames L for n samples at 16 kHz: ceil(min(n, 480000) / 160).
int whisperValidFrames(std::int64_t samples_16k);

/// Audio tokens for L valid frames (§3.4): T1 = (L-1)//2 + 1, n = (T1-2)//2 + 1, with floor
/// division; 0 for L <= 1.
int audioTokenCount(int valid_frames);

}  // namespace xopd::audio
