#pragma once
// The demo kit's forgetting probe (kit version 3), in the role of the paper's MMAR (Table 3): a
// non-speech audio skill, counting beeps. Each clip holds one, two or three pure-tone beeps
// (random pitch 500-1500 Hz, length 100-180 ms, gaps 100-220 ms, level, leading and trailing
// silence, a faint noise floor); the answer is the count as a word ("one", "two", "three"). The
// kit's student learns it in its build (prompts/probe-train.jsonl, mixed into both speech stages)
// and nobody trains it afterwards: prompts/probe.jsonl (other clips) measures what a distillation
// run leaves of it.
//
// Deterministic: the random numbers come from std::mt19937_64 (its sequence is fixed by the C++
// standard) mapped to [0, 1) by hand, not through std::uniform_*_distribution (whose mapping
// differs between standard libraries).
//
// Threading: pure functions; safe anywhere.

#include "core/audio/AudioClip.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::demokit {

/// One probe clip.
struct BeepClip {
    /// Stable id, e.g. "beep-test-007".
    std::string id;
    /// Beeps in the clip (1..3).
    int count = 0;
    /// 16 kHz mono audio.
    audio::AudioClip audio;
};

/// The transcript the probe clips carry (the manifests require one; the probe is asked by audio).
inline constexpr const char* kBeepTranscript = "how many beeps";

/// `per_count` clips of each count 1..3, in the order count 1, 2, 3, 1, 2, 3, ...; ids
/// "beep-<name>-NNN"; the same seed and name give the same samples.
std::vector<BeepClip> beepClips(const std::string& name, int per_count, uint64_t seed);

/// The answer word of a count (1 -> "one").
std::string beepAnswer(int count);

}  // namespace xopd::demokit
