#pragma once
// Leading and trailing silence of a recording, found relative to its own noise floor (a fixed
// amplitude threshold fails on a noisy microphone, which is never below it, and on a quiet one,
// whose soft consonants are): the clip is cut into short frames, the floor is a low percentile of
// the frames' RMS level (the quietest frames are the room), and speech is every frame more than
// `margin_db` above it. The bounds keep a short pad of the room around the speech.
//
//   const SpeechBounds b = findSpeechBounds(clip);     // b.begin, b.end in samples
//   AudioClip asked = trimSilence(clip);               // the clip cut to [b.begin, b.end)
//
// A clip with no frame above the threshold (silence only, or too short for one frame) is kept
// whole (found = false). Torch-free; pure functions, any thread.

#include "core/audio/AudioClip.h"

#include <cstdint>

namespace xopd::audio {

/// Options of findSpeechBounds.
struct SilenceTrimOptions {
    /// Analysis frame length in milliseconds (non-overlapping frames).
    double frame_ms = 20.0;
    /// The noise floor is this percentile (0 .. 100) of the frames' RMS levels in dBFS.
    double floor_percentile = 10.0;
    /// A frame is speech when its level is more than this many dB above the floor ...
    double margin_db = 15.0;
    /// ... and above this absolute level (dBFS): a digitally silent floor (−200 dB) must not make
    /// the faintest noise speech.
    double min_threshold_dbfs = -60.0;
    /// Room kept before the first and after the last speech frame, in milliseconds.
    double pad_ms = 100.0;
};

/// Where the speech of a clip is.
struct SpeechBounds {
    /// First and one-past-last sample to keep (0 and the clip's length when nothing is trimmed).
    int64_t begin = 0, end = 0;
    /// The noise floor and the speech threshold found, in dBFS.
    double floor_dbfs = 0, threshold_dbfs = 0;
    /// False when no frame is above the threshold (the bounds are then the whole clip).
    bool found = false;
};

/// The speech bounds of `clip` (see the header comment).
SpeechBounds findSpeechBounds(const AudioClip& clip, const SilenceTrimOptions& options = {});

/// `clip` cut to findSpeechBounds (a copy of it when nothing is found).
AudioClip trimSilence(const AudioClip& clip, const SilenceTrimOptions& options = {});

}  // namespace xopd::audio
