#pragma once
// Builds the speech side of a prompt set from text with espeak-ng (core/audio Tts.h), as the paper
// synthesised its speech prompts: every text is spoken by every voice of a list, leading and
// trailing silence is trimmed, the clips are written as 16 kHz FLAC (16 bit) under DIR/audio/, and
// the manifests DIR/train.jsonl (training voices) and DIR/eval.jsonl (held-out voices) list them.
//
//   SynthesisOptions o;
//   o.train_voices = {{"en", 175, 50}, {"en-us", 160, 50}};
//   o.eval_voices = {{"en-gb-scotland", 170, 50}};
//   synthesizePromptSet(readTextPrompts("texts.jsonl"), "out/prompts", o);
//
// Output is deterministic when run in a fresh process (espeak-ng keeps state between calls, see
// Tts.h), so `xopd demo-kit build` and `xopd prompts synthesize` rebuild byte-identically.
// Threading: serialised by the TTS layer's mutex; call from one thread.

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace xopd::data {

/// One text prompt to be spoken (a line of texts.jsonl: {"id", "text", "reference"?, "tags"?}).
struct TextPrompt {
    /// Unique id; clip ids are "<id>-<voice tag>".
    std::string id;
    /// Text to speak; also the transcript.
    std::string text;
    /// Reference answer, when known.
    std::optional<std::string> reference;
    /// Tags copied to every clip.
    std::vector<std::string> tags;
};

/// A TTS voice setting.
struct VoiceSpec {
    /// espeak-ng voice name, with an optional variant ("en", "en-us", "en+f3").
    std::string voice = "en";
    /// Words per minute (80..450).
    int rate_wpm = 175;
    /// Base pitch 0..100.
    int pitch = 50;

    /// File-name-safe tag: voice with '+' -> '_', then "-r<rate>-p<pitch>".
    std::string tag() const;
};

/// Parses "VOICE[@RATE][:PITCH]" (e.g. "en-us+f3@160:60"). Throws xopd::Error on a bad number.
VoiceSpec parseVoiceSpec(const std::string& text, int default_rate = 175, int default_pitch = 50);

/// Options of synthesizePromptSet.
struct SynthesisOptions {
    /// Voices whose clips go to train.jsonl (split "train").
    std::vector<VoiceSpec> train_voices;
    /// Held-out voices whose clips go to eval.jsonl (split "eval").
    std::vector<VoiceSpec> eval_voices;
    /// Texts whose ids are listed here are spoken by the eval voices only (held-out questions);
    /// empty: every text is spoken by every voice.
    std::vector<std::string> eval_only_ids;
    /// Samples with |x| below this at both ends are trimmed (keeping `keep_silence_ms`).
    float silence_threshold = 0.01f;
    /// Silence kept at each end after trimming, in milliseconds.
    int keep_silence_ms = 40;
    /// Called after each clip with (done, total); may be empty.
    std::function<void(int, int)> progress;
};

/// Reads a texts.jsonl file. Errors name the file, the line and the field.
std::vector<TextPrompt> readTextPrompts(const std::string& path);

/// Speaks every text with every voice into `out_dir` (created if missing) and writes
/// out_dir/train.jsonl and out_dir/eval.jsonl (the latter only when eval voices are given).
/// Returns the number of clips written.
int synthesizePromptSet(const std::vector<TextPrompt>& texts, const std::string& out_dir,
                        const SynthesisOptions& options);

}  // namespace xopd::data
