#!/usr/bin/python3
"""Where a fed clip lies in a recording, and how equal it is there (numpy reference for the virtual
microphone tests, tests/support/VirtualMic.h).

usage: best_lag_correlation.py FED.f32 RECORDED.f32   (raw little-endian float32, mono)
Prints JSON {"lag": L, "correlation": c, "fed_frames": n, "recorded_frames": m}: the lag L that
maximises the normalised cross-correlation
    c(L) = <fed, rec[L:L+n]> / (|fed| |rec[L:L+n]|)
over every lag at which the whole fed clip lies inside the recording, computed in float64 (the
numerator by FFT, the window norms by a cumulative sum). c = 1 for a sample-exact recording.
"""
import json
import sys

import numpy as np


def main():
    fed = np.fromfile(sys.argv[1], dtype="<f4").astype(np.float64)
    rec = np.fromfile(sys.argv[2], dtype="<f4").astype(np.float64)
    n, m = len(fed), len(rec)
    if n == 0 or m < n:
        print(json.dumps({"lag": -1, "correlation": 0.0, "fed_frames": n, "recorded_frames": m}))
        return
    size = 1 << int(np.ceil(np.log2(n + m)))
    num = np.fft.irfft(np.fft.rfft(rec, size) * np.conj(np.fft.rfft(fed, size)), size)[: m - n + 1]
    energy = np.concatenate(([0.0], np.cumsum(rec * rec)))
    window = energy[n:] - energy[: m - n + 1]
    denom = np.sqrt(np.maximum(window, 0.0) * np.dot(fed, fed))
    corr = np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), 0.0)
    lag = int(np.argmax(corr))
    # The FFT's rounding can put c a hair above 1 for an exact match; the value at the best lag
    # directly:
    seg = rec[lag:lag + n]
    c = float(np.dot(fed, seg) / np.sqrt(np.dot(fed, fed) * np.dot(seg, seg))) if np.dot(seg, seg) > 0 else 0.0
    print(json.dumps({"lag": lag, "correlation": c, "fed_frames": n, "recorded_frames": m}))


if __name__ == "__main__":
    main()
