#pragma once
// Augmentation of a prompt set: every clip under every acoustic condition (AcousticCondition.h)
// becomes a new clip and a new manifest row, so a set can be trained or evaluated in noise, at
// other speaking rates, in a reverberant room or over the telephone.
//
//   AugmentOptions o;
//   o.conditions = {parseAcousticCondition("snr=10"), parseAcousticCondition("speed=1.1")};
//   AugmentReport r = augmentPromptSet("kit/eval.jsonl", "out/eval-noisy", o);
//
// Output folder OUT (which must not exist, or be an empty folder):
//   OUT/prompts.jsonl             one row per clip x condition, in input order, conditions in the
//                                 order given: the source's transcript, reference, split and voice,
//                                 its tags plus "augmented" and the condition's tag(), and
//                                 condition = AcousticCondition::name(), source_id = the source id
//   OUT/audio/<id>.wav            16-bit PCM WAV at the source clip's rate (mono)
// where id = "<source id>@<condition idSuffix()>" (e.g. "q0001-en@snr-10dB-noise-white"): stable,
// so the same input and seed always give the same ids, files and samples.
//
// All or nothing: everything is written into a temporary sibling folder (OUT.tmp-<pid>) that is
// renamed to OUT at the end; on any error (a missing or unreadable clip, a failed effect, a
// full disk) or a cancel the temporary folder is removed and nothing is left at OUT. Errors name
// the manifest or item, the audio file and the condition.
//
// Threading: one call runs on the caller's thread (the GUI runs it on a worker); the libsox effects
// it uses serialise themselves (AudioEffects.h). Torch-free.

#include "core/data/AcousticCondition.h"
#include "core/data/PromptSet.h"

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace xopd::data {

/// How to augment.
struct AugmentOptions {
    /// Conditions applied to every clip, in this order (at least one).
    std::vector<AcousticCondition> conditions;
    /// Base seed of the generated noise; each clip x condition draws from deriveSeed(seed, {id, name}).
    std::uint32_t seed = 1;
    /// Called after each clip written (done, total), on the calling thread; may be empty.
    std::function<void(int, int)> progress;
    /// Polled before each clip; returning true cancels (AugmentCancelled, nothing kept).
    std::function<bool()> abort;
};

/// What augmentPrompts wrote.
struct AugmentReport {
    /// OUT/prompts.jsonl.
    std::string manifest_path;
    /// Clips written (items x conditions).
    int clips = 0;
};

/// Thrown when AugmentOptions::abort asked to stop (nothing was kept).
struct AugmentCancelled : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Augments `items` (their audio_path resolved, their transcripts non-empty) into `out_dir`.
/// Throws xopd::Error (see the header comment) or AugmentCancelled.
AugmentReport augmentPrompts(const std::vector<PromptItem>& items, const std::string& out_dir,
                             const AugmentOptions& options);

/// Loads a manifest (loadPromptSet: every audio file must exist) and augments all its items.
AugmentReport augmentPromptSet(const std::string& manifest_path, const std::string& out_dir,
                               const AugmentOptions& options);

}  // namespace xopd::data
