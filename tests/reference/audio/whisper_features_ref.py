#!/usr/bin/env python3
"""Independent float64 reference of the Whisper log-mel front end (HF WhisperFeatureExtractor).

Written from the formulas of /work/shared/spec/model-formats.md §5 with numpy only (no torch, no
C++ code shared): pad/truncate to 480000 samples, reflect padding of 200 samples on each side,
periodic Hann window, 400-point real FFT every 160 samples, |X|^2, last frame dropped, Slaney
mel filter bank in float64, log10 with a 1e-10 floor, clamp at max - 8, (x + 4) / 4.

Usage:
  whisper_features_ref.py IN.f32 OUT.f64 [--mel-bins 128]   raw little-endian float32 in, float64 [bins,3000] out
  whisper_features_ref.py IN.f32 OUT.f64 --no-pad         the clip itself (padding="longest" of one clip, as
                                          Qwen3-Omni's processor calls it): [bins, n // 160]
  whisper_features_ref.py --filters OUT.f64 [--mel-bins 128] the filter bank [bins,201] as float64
  whisper_features_ref.py --bench SECONDS [--mel-bins 128] [--dtype float64|float32]
                                          prints the real-time factor of this implementation
"""
import argparse
import sys
import time

import numpy as np

N_FFT, HOP, SR, N_SAMPLES, N_FRAMES = 400, 160, 16000, 480000, 3000


def hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    logstep = 27.0 / np.log(6.4)
    return np.where(f < 1000.0, 3.0 * f / 200.0, 15.0 + np.log(np.maximum(f, 1e-300) / 1000.0) * logstep)


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    logstep = np.log(6.4) / 27.0
    return np.where(m < 15.0, 200.0 * m / 3.0, 1000.0 * np.exp(logstep * (m - 15.0)))


def mel_filters(n_mels):
    """[n_mels, 201] float64, slaney scale and slaney norm, 0..8000 Hz."""
    n_bins = N_FFT // 2 + 1
    fft_freqs = np.linspace(0.0, SR / 2, n_bins)
    mel_pts = np.linspace(0.0, float(hz_to_mel(SR / 2)), n_mels + 2)
    h = mel_to_hz(mel_pts)
    fb = np.zeros((n_mels, n_bins), dtype=np.float64)
    for m in range(n_mels):
        down = (fft_freqs - h[m]) / (h[m + 1] - h[m])
        up = (h[m + 2] - fft_freqs) / (h[m + 2] - h[m + 1])
        fb[m] = np.maximum(0.0, np.minimum(down, up)) * (2.0 / (h[m + 2] - h[m]))
    return fb


def log_mel(x, n_mels, dtype=np.float64, pad=True):
    x = np.asarray(x, dtype=dtype)
    if pad:
        x = x[:N_SAMPLES]
        x = np.concatenate([x, np.zeros(N_SAMPLES - len(x), dtype=dtype)])
    xp = np.pad(x, (N_FFT // 2, N_FFT // 2), mode="reflect")  # edge sample excluded
    k = np.arange(N_FFT, dtype=np.float64)
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * k / N_FFT)).astype(dtype)  # periodic Hann
    n_frames = 1 + len(x) // HOP  # 3001 when padded
    idx = HOP * np.arange(n_frames)[:, None] + np.arange(N_FFT)[None, :]
    frames = xp[idx] * window  # [3001, 400]
    spec = np.fft.rfft(frames, axis=1)  # numpy computes in float64 (complex128)
    power = (spec.real ** 2 + spec.imag ** 2).astype(dtype)[:-1]  # [3000, 201], last frame dropped
    mel = mel_filters(n_mels).astype(dtype) @ power.T  # [n_mels, 3000]
    lg = np.log10(np.maximum(mel, 1e-10))
    lg = np.maximum(lg, lg.max() - 8.0)
    return (lg + 4.0) / 4.0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", nargs="?")
    p.add_argument("output", nargs="?")
    p.add_argument("--mel-bins", type=int, default=128)
    p.add_argument("--filters")
    p.add_argument("--bench", type=float)
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--no-pad", action="store_true")
    a = p.parse_args()
    if a.filters:
        mel_filters(a.mel_bins).astype("<f8").tofile(a.filters)
        return 0
    if a.bench:
        rng = np.random.default_rng(0)
        x = (0.1 * rng.standard_normal(int(a.bench * SR))).astype(np.float32)
        dtype = np.float64 if a.dtype == "float64" else np.float32
        log_mel(x, a.mel_bins, dtype)  # warm-up
        reps, t0 = 0, time.perf_counter()
        while reps < 3 or time.perf_counter() - t0 < 3.0:
            log_mel(x, a.mel_bins, dtype)
            reps += 1
        per_call = (time.perf_counter() - t0) / reps
        print(f"{min(a.bench, 30.0) / per_call:.2f}")
        return 0
    if not a.input or not a.output:
        p.error("IN and OUT are required")
    x = np.fromfile(a.input, dtype="<f4")
    log_mel(x, a.mel_bins, pad=not a.no_pad).astype("<f8").tofile(a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
