#pragma once
// Text-to-speech through the espeak-ng library (synchronous mode, synth callback). Used to make
// spoken prompts for the demo kit and the tests. Torch-free.
//
// Threading: espeak-ng keeps global state and is not thread-safe; every call here takes one
// process-wide mutex, so calls from several threads are serialised (safe but not parallel).
// espeak-ng is initialised on first use with its default data path and never terminated.
// Reproducibility: espeak-ng carries synthesis state from one call to the next (the same text spoken
// twice in a row in one process gives different samples and lengths; seeding rand() does not fix
// it), so a sequence of calls is reproducible only from a fresh process.

#include "core/audio/AudioClip.h"

#include <string>
#include <vector>

namespace xopd::audio {

/// Speech options.
struct TtsOptions {
    /// espeak-ng voice name or language, e.g. "en", "en-us", "de", "en+f3".
    std::string voice = "en";
    /// Speaking rate in words per minute (espeak-ng accepts 80..450).
    int rate_wpm = 175;
    /// Base pitch 0..100 (espeak-ng's default is 50).
    int pitch = 50;
    /// Sample rate of the returned clip (espeak-ng renders at 22050 Hz; soxr converts).
    int sample_rate = 16000;
};

/// One installed voice.
struct TtsVoice {
    /// Voice name, e.g. "English (Great Britain)".
    std::string name;
    /// Language code(s) it speaks, e.g. "en-gb".
    std::string language;
    /// File identifier inside espeak-ng-data, e.g. "gmw/en".
    std::string identifier;
};

/// Speaks text (UTF-8). Throws xopd::Error on empty text, an unknown voice, an out-of-range rate
/// or pitch, or when espeak-ng cannot start (no data files).
AudioClip synthesizeSpeech(const std::string& text, const TtsOptions& options = {});

/// Every voice espeak-ng has installed.
std::vector<TtsVoice> listVoices();

}  // namespace xopd::audio
