#pragma once
// Audio effects through libsox (SoX 14.4, Debian's libsox-dev): a clip in memory goes through a
// libsox effects chain and comes back as a new clip. Used to put prompts under acoustic conditions
// (core/data/AcousticCondition.h): speed and tempo changes, reverberation, telephone band-limiting
// and seeded noise.
//
//   AudioClip slow  = changeTempo(clip, 0.9);            // 1/0.9 as long, same pitch
//   AudioClip fast  = changeSpeed(clip, 1.1);            // 1/1.1 as long, pitch up (a faster tape)
//   AudioClip room  = addReverb(clip, 50);               // same length, reverberance 50 %
//   AudioClip phone = telephoneBand(clip);               // 300-3400 Hz, through 8 kHz and back
//   AudioClip hiss  = makeNoise(NoiseColor::Pink, clip.frames(), clip.sample_rate, /*seed=*/7);
//   AudioClip any   = runSoxEffects(clip, {{"sinc", {"300-3400"}}, {"gain", {"-3"}}});
//
// Durations: changeSpeed(f) and changeTempo(f) return round(frames / f) frames (up to libsox's
// resampler and WSOLA rounding, well under 1 %); addReverb and telephoneBand return exactly as many
// frames as they get (the reverb tail past the clip's end is cut, as `sox in out reverb` does).
// Samples beyond [-1, 1] are clipped on the way in (libsox's 32-bit integer samples).
//
// Bad arguments (an unknown effect, options libsox refuses, factors out of range) throw xopd::Error
// with libsox's own message. libsox keeps process-wide state (its globals, the random generator
// of `synth`, the resampler's FFT tables), so sox_init runs once per process (std::call_once) and
// every chain runs under one process-wide mutex: any thread may call these functions, and
// concurrent calls take turns. sox_quit is never called (it would break a later call).
// Torch-free: the GUI uses it.

#include "core/audio/AudioClip.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xopd::audio {

/// One libsox effect: its name and its arguments as `sox` takes them on the command line.
struct SoxEffect {
    std::string name;
    std::vector<std::string> args;
};

/// Runs `effects` in order over `clip` and returns the result, at the clip's rate unless an effect
/// changes it (`rate`). `declared_rate` > 0 makes libsox take the input as sampled at that rate
/// instead (how changeSpeed works). Throws xopd::Error naming the effect on bad options or a
/// failed flow, and for an empty or rate-less clip.
AudioClip runSoxEffects(const AudioClip& clip, const std::vector<SoxEffect>& effects, int declared_rate = 0);

/// Speed change by `factor` (0.25 .. 4): duration / factor and every frequency x factor, as a tape
/// played faster. libsox's `rate` effect (very high quality) resampling the clip, declared as
/// sampled at rate x factor, back to its rate.
AudioClip changeSpeed(const AudioClip& clip, double factor);

/// Tempo change by `factor` (0.25 .. 4): duration / factor, pitch kept. libsox's `tempo -s`
/// (WSOLA tuned for speech).
AudioClip changeTempo(const AudioClip& clip, double factor);

/// Reverberation: libsox's `reverb` (freeverb) with `reverberance_percent` (0 .. 100), its other
/// parameters at their defaults (HF damping 50 %, room scale 100 %, pre-delay 0, wet gain 0 dB),
/// dry and wet mixed. Same number of frames as the input.
AudioClip addReverb(const AudioClip& clip, double reverberance_percent);

/// Options of telephoneBand.
struct TelephoneOptions {
    /// Pass band in Hz (libsox's `sinc` band-pass: windowed-sinc FIR, 120 dB stop-band rejection).
    double low_hz = 300.0, high_hz = 3400.0;
    /// Also resample to this rate and back to the clip's (a narrow-band codec's rate); 0 skips it.
    int narrowband_rate = 8000;
};

/// Telephone band: band-pass per `options`, then (by default) down to 8 kHz and back up. Same
/// number of frames as the input, up to the resampler's rounding of one frame (padded or cut to
/// the input's length).
AudioClip telephoneBand(const AudioClip& clip, const TelephoneOptions& options = {});

/// Colour of generated noise.
enum class NoiseColor {
    Invalid = 0,
    White,  ///< flat spectrum (libsox `synth whitenoise`)
    Pink,   ///< -3 dB per octave (libsox `synth pinknoise`)
};

/// `frames` of noise at `sample_rate`, from libsox's `synth` with its generator seeded by `seed`:
/// the same seed gives the same samples. Level as synth makes it (about -4.8 dBFS RMS for white);
/// callers scale it (mixAtSnr).
AudioClip makeNoise(NoiseColor color, std::int64_t frames, int sample_rate, std::uint32_t seed);

}  // namespace xopd::audio
