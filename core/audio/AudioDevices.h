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

/// Plays one clip on an output device.
/// Threading: call every method from one owner thread. An internal feeder thread fills the ring
/// buffer that the callback drains. Lifetime: the destructor stops playback.
class AudioPlayer {
public:
    /// Opens the device. Throws xopd::Error when there is no such device.
    explicit AudioPlayer(const PlayOptions& options = {});
    ~AudioPlayer();
    AudioPlayer(const AudioPlayer&) = delete;
    AudioPlayer& operator=(const AudioPlayer&) = delete;

    /// Starts playing the clip (a copy is kept); stops any clip still playing.
    void play(const AudioClip& clip);
    /// Blocks until the clip has played to the end (or stop() was called from elsewhere).
    void wait();
    /// Stops at once.
    void stop();
    /// True from play() until the last sample has been handed to the device.
    bool isPlaying() const;
    /// Seconds handed to the device so far (any thread).
    double playedSeconds() const;
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
