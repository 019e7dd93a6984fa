#pragma once
// Capture and playback devices through PortAudio. Torch-free (the GUI uses it).
//
// Real-time rule: PortAudio's callback thread only touches a lock-free SpscRingBuffer and a few
// atomics; it never locks or allocates. The owner thread moves samples between the ring and the
// clip (AudioRecorder::pump, AudioPlayer's feeder thread).
//
// A machine without a device is normal: listAudioDevices() returns an empty list and opening a
// recorder or player throws xopd::Error("no audio input device found" / "... output ...").
// Devices are chosen by exact name, else by a case-insensitive substring of the name; "" means
// PortAudio's default device. When the device cannot run at the requested rate it runs at its
// default rate and soxr converts.

#include "core/audio/AudioClip.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace xopd::audio {

/// One PortAudio device.
struct AudioDeviceInfo {
    /// PortAudio device index.
    int index = -1;
    /// Device name, e.g. "default", "HDA Intel PCH: ALC3246 Analog (hw:0,0)".
    std::string name;
    /// Host API, e.g. "ALSA".
    std::string host_api;
    /// Input channels (0: not a capture device).
    int max_input_channels = 0;
    /// Output channels (0: not a playback device).
    int max_output_channels = 0;
    /// The device's preferred rate in Hz.
    double default_sample_rate = 0;
    /// PortAudio's default input / output device.
    bool is_default_input = false;
    bool is_default_output = false;
};

/// Every device PortAudio sees (possibly none). Throws xopd::Error when PortAudio cannot start.
/// Thread-safe.
std::vector<AudioDeviceInfo> listAudioDevices();

/// Capture options.
struct RecordOptions {
    /// Device name (exact, else substring); "" = the default input device.
    std::string device;
    /// Rate of the returned clip in Hz.
    int sample_rate = 16000;
    /// Seconds the ring buffer holds between two pump() calls.
    double buffer_seconds = 4.0;
    /// Stop capturing after this many seconds (the callback completes the stream itself, so the
    /// clip has exactly this length even from a device that delivers faster than real time);
    /// 0 = until stop().
    double max_seconds = 0.0;
};

/// Records mono audio from an input device.
/// Threading: create, pump and stop from one owner thread; peakLevel() and recordedSeconds()
/// may be read from any thread. Lifetime: the stream is closed by stop() or the destructor.
class AudioRecorder {
public:
    /// Opens the device (does not start). Throws xopd::Error when there is no such device.
    explicit AudioRecorder(const RecordOptions& options);
    ~AudioRecorder();
    AudioRecorder(const AudioRecorder&) = delete;
    AudioRecorder& operator=(const AudioRecorder&) = delete;

    /// Starts capturing. Throws xopd::Error when the stream cannot start.
    void start();
    /// Moves captured samples from the ring buffer into the clip. Call at least every
    /// buffer_seconds / 2 while recording (the CLI calls it every 50 ms).
    void pump();
    /// Stops capturing and returns everything recorded, at options.sample_rate.
    AudioClip stop();
    /// What pump() has moved in so far, at deviceRate() (converted to options.sample_rate only by
    /// stop()): for a live waveform. Owner thread; changed by the next pump() and emptied by stop().
    const std::vector<float>& samplesSoFar() const { return samples_; }
    /// The rate the device captures at, in Hz.
    double deviceRate() const { return stream_rate_; }

    /// Peak |sample| of the latest callback block, 0..1 (a live level meter). Any thread.
    float peakLevel() const { return peak_.load(std::memory_order_relaxed); }
    /// Peak |sample| since the previous call (or start()), 0..1, and resets it: a meter that polls
    /// at its own rate sees every block's peak, not only the latest one's (Sonic Visualiser's
    /// getInputLevels). Any one thread.
    float takePeakSinceLastCall() { return held_peak_.exchange(0.0f, std::memory_order_relaxed); }
    /// Seconds captured so far by the device. Any thread.
    double recordedSeconds() const;
    /// True until stop(), or until max_seconds have been captured.
    bool isCapturing() const;
    /// Samples lost because the ring buffer was full (pump() called too rarely).
    std::int64_t droppedSamples() const { return dropped_.load(std::memory_order_relaxed); }
    /// Name of the device in use.
    const std::string& deviceName() const { return device_name_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string device_name_;
    std::atomic<float> peak_{0.0f};
    std::atomic<float> held_peak_{0.0f};
    std::atomic<std::int64_t> captured_{0};
    std::atomic<std::int64_t> dropped_{0};
    double stream_rate_ = 0;
    int target_rate_ = 0;
    std::vector<float> samples_;
};

/// Playback options.
struct PlayOptions {
    /// Device name (exact, else substring); "" = the default output device.
    std::string device;
};

/// Where and how play() starts a clip.
struct PlayCue {
    /// First sample, in seconds of the clip (truncated to a frame).
    double start_s = 0.0;
    /// Playback stops here (seconds; rounded to a frame); < 0 = the clip's end.
    double end_s = -1.0;
    /// Linear gain applied while playing (the clip is untouched).
    float gain = 1.0f;
    /// Linear fade-in at the start, and, when end_s >= 0, fade-out before end_s (milliseconds).
    int fade_ms = 0;
    /// An A–B loop: when >= 0 (and end_s >= 0), reaching end_s goes on from loop_start_s with the
    /// fade-in, on the same stream, until the next play(), switchTo() or stop().
    double loop_start_s = -1.0;
};

/// Plays clips on an output device, and switches between clips at the same playhead.
///
/// One PortAudio stream stays open while the player lives (reopened only for a clip at another
/// rate): play() on a running stream is a jump, switchTo() a crossfade, both performed by the
/// callback between two samples, so the device never sees a gap or a restart. The callback reads
/// the clips from immutable buffers and takes commands from one atomic pointer; it never locks or
/// allocates (lesson 5). Buffers and commands are freed by the owner once the stream is stopped.
///
/// Threading: call every method from one owner thread, except the const ones (any thread).
/// Lifetime: the destructor stops playback.
class AudioPlayer {
public:
    /// Opens the device. Throws xopd::Error when there is no such device.
    explicit AudioPlayer(const PlayOptions& options = {});
    ~AudioPlayer();
    AudioPlayer(const AudioPlayer&) = delete;
    AudioPlayer& operator=(const AudioPlayer&) = delete;

    /// Plays the clip (a copy is kept) from its start. Throws xopd::Error when the device cannot
    /// be opened or started.
    void play(const AudioClip& clip) { play(clip, PlayCue{}); }
    /// Plays the clip as `cue` says: while playing, the next sample the device gets is the cue's
    /// start (with its fade-in); otherwise the stream starts there.
    void play(const AudioClip& clip, const PlayCue& cue);
    /// While playing: continues with `clip` at the same playhead (the clip position the callback
    /// is at, to the sample), crossfading linearly from the current clip over `crossfade_ms`;
    /// `gain` and `end_s` (< 0: the clip's end) as in PlayCue, with `crossfade_ms` as the fade-out
    /// before end_s, and `loop_start_s` as PlayCue's. Returns false (and does nothing) when not playing.
    bool switchTo(const AudioClip& clip, float gain, int crossfade_ms, double end_s = -1.0, double loop_start_s = -1.0);
    /// Blocks until the clip has played to the end (or stop() was called from elsewhere).
    void wait();
    /// Stops at once.
    void stop();
    /// True from play() until the last sample has been handed to the device.
    bool isPlaying() const;
    /// Seconds handed to the device since the last play() (any thread).
    double playedSeconds() const;
    /// Times the current cue's A–B loop went back to its start (0 after each play() or switchTo()).
    std::int64_t loopWraps() const;
    /// Clip position (seconds) of the next sample the callback will hand to the device (the start
    /// of a jump as soon as play() returns); after switchTo() it goes on in the new clip. Owner
    /// thread.
    double positionSeconds() const;
    /// Name of the device in use.
    const std::string& deviceName() const { return device_name_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string device_name_;
};

/// Records `seconds` of audio, calling progress(peak, seconds_so_far) about every 50 ms from the
/// calling thread. Throws xopd::Error when no device is found.
AudioClip recordClip(const RecordOptions& options, double seconds,
                     const std::function<void(float peak, double seconds)>& progress = {});

/// Plays a clip to the end on the given device (blocking).
void playClip(const AudioClip& clip, const PlayOptions& options = {},
              const std::function<void(double seconds)>& progress = {});

}  // namespace xopd::audio
