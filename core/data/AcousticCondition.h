#pragma once
// Acoustic conditions a prompt can be put under (xopd prompts augment), parsed from a short spec
// and applied to a clip through core/audio/AudioEffects.h (libsox) and NoiseMix.h.
//
// Spec grammar: one or more steps joined by '+', applied left to right; each step is an effect
// and its value, then optional key=value parameters, separated by commas:
//
//   snr=DB[,noise=white|pink|PATH]   additive noise at DB dB SNR over the speech's active part
//                                    (NoiseMix.h); white (default) or pink from libsox's synth,
//                                    seeded, or a noise file (read at the clip's rate, looped, from
//                                    a seeded offset); -20 .. 60 dB
//   speed=F                          speed change (duration / F, pitch x F), 0.25 .. 4
//   tempo=F                          tempo change (duration / F, pitch kept), 0.25 .. 4
//   reverb[=P]                       reverberance P % (default 50), 0 .. 100; same duration
//   telephone                        300-3400 Hz band-pass, through 8 kHz and back; same duration
//   clean                            the clip as it is (a reference copy beside the others)
//
// e.g. "snr=10", "snr=5,noise=pink", "snr=0,noise=cafe.wav", "speed=1.1", "telephone+snr=15".
// name() is the canonical form written to a manifest's `condition` field ("snr=10dB,noise=white",
// "speed=1.1", "reverb=50", "telephone", "telephone+snr=15dB,noise=white"; a noise file by its
// file name: "snr=0dB,noise=file:cafe.wav"); tag() is the same with ',' as ';' (the workbench's
// tag column splits on commas); idSuffix() is name() with every character outside [A-Za-z0-9.]
// as '-' (used in derived prompt ids).
//
// A bad spec throws xopd::Error quoting the spec and saying what is wrong. Torch-free; plain values.

#include "core/audio/AudioClip.h"
#include "core/audio/AudioEffects.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::data {

/// One step of a condition.
struct AcousticStep {
    enum class Kind { Invalid = 0, Clean, Noise, Speed, Tempo, Reverb, Telephone };
    Kind kind = Kind::Invalid;
    /// SNR in dB (Noise), factor (Speed, Tempo), reverberance in % (Reverb); unused otherwise.
    double value = 0;
    /// Noise colour when no noise file is given.
    audio::NoiseColor color = audio::NoiseColor::White;
    /// Noise file (Noise); empty for generated noise.
    std::string noise_file;
};

/// A parsed condition: its steps in order, and the spec it came from.
struct AcousticCondition {
    std::vector<AcousticStep> steps;
    std::string spec;

    /// Canonical name (the manifest's `condition` field).
    std::string name() const;
    /// name() with ',' as ';' (a tag of the workbench's library).
    std::string tag() const;
    /// name() made safe for ids and file names.
    std::string idSuffix() const;
};

/// Parses a spec (see the header comment). Throws xopd::Error "condition '<spec>': <problem>".
AcousticCondition parseAcousticCondition(const std::string& spec);

/// Applies the condition to `clip`; `seed` fixes the noise (the same seed gives the same clip).
/// Throws xopd::Error (a noise file that cannot be read names it).
audio::AudioClip applyAcousticCondition(const audio::AudioClip& clip, const AcousticCondition& condition,
                                        std::uint32_t seed);

/// A 32-bit seed from a base seed and strings (FNV-1a): the same inputs give the same seed on
/// every machine.
std::uint32_t deriveSeed(std::uint32_t seed, const std::vector<std::string>& parts);

}  // namespace xopd::data
