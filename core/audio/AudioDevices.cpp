#include "core/audio/AudioDevices.h"

#include "core/audio/Resampler.h"
#include "core/audio/RingBuffer.h"
#include "core/common/Error.h"

#include <portaudio.h>
#ifdef XOPD_HAVE_ALSA
#include <alsa/asoundlib.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

namespace xopd::audio {
namespace {

#ifdef XOPD_HAVE_ALSA
// ALSA prints every probe failure of its configuration ("Unknown PCM cards.pcm.rear", ...) to
// stderr while PortAudio enumerates devices; those are not errors of ours.
void quietAlsa(const char*, int, const char*, int, const char*, ...) {}
#endif

/// Reference-counted Pa_Initialize / Pa_Terminate (PortAudio's own counting is not thread-safe).
class PaSession {
public:
    PaSession() {
        std::lock_guard<std::mutex> lock(mutex());
        if (count()++ == 0) {
#ifdef XOPD_HAVE_ALSA
            if (!std::getenv("XOPD_ALSA_VERBOSE")) snd_lib_error_set_handler(quietAlsa);
#endif
            const PaError err = Pa_Initialize();
            if (err != paNoError) {
                --count();
                XOPD_FAIL("audio devices: PortAudio could not start: " << Pa_GetErrorText(err));
            }
        }
    }
    ~PaSession() {
        std::lock_guard<std::mutex> lock(mutex());
        if (--count() == 0) Pa_Terminate();
    }
    PaSession(const PaSession&) = delete;
    PaSession& operator=(const PaSession&) = delete;

private:
    static std::mutex& mutex() {
        static std::mutex m;
        return m;
    }
    static int& count() {
        static int c = 0;
        return c;
    }
};

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<AudioDeviceInfo> enumerate() {
    std::vector<AudioDeviceInfo> out;
    const int n = Pa_GetDeviceCount();
    const PaDeviceIndex def_in = Pa_GetDefaultInputDevice(), def_out = Pa_GetDefaultOutputDevice();
    for (int i = 0; i < n; ++i) {
        const PaDeviceInfo* d = Pa_GetDeviceInfo(i);
        if (!d) continue;
        AudioDeviceInfo info;
        info.index = i;
        info.name = d->name ? d->name : "";
        const PaHostApiInfo* api = Pa_GetHostApiInfo(d->hostApi);
        info.host_api = api && api->name ? api->name : "";
        info.max_input_channels = d->maxInputChannels;
        info.max_output_channels = d->maxOutputChannels;
        info.default_sample_rate = d->defaultSampleRate;
        info.is_default_input = i == def_in;
        info.is_default_output = i == def_out;
        out.push_back(std::move(info));
    }
    return out;
}

/// Picks a device; input selects capture (else playback). Needs an active PaSession.
AudioDeviceInfo findDevice(const std::string& name, bool input) {
    const char* kind = input ? "input" : "output";
    auto usable = [input](const AudioDeviceInfo& d) {
        return input ? d.max_input_channels > 0 : d.max_output_channels > 0;
    };
    const std::vector<AudioDeviceInfo> all = enumerate();
    if (name.empty()) {
        const PaDeviceIndex def = input ? Pa_GetDefaultInputDevice() : Pa_GetDefaultOutputDevice();
        for (const auto& d : all)
            if (d.index == def && usable(d)) return d;
        for (const auto& d : all)  // no default, but maybe some device
            if (usable(d)) return d;
        XOPD_FAIL("no audio " << kind << " device found");
    }
    for (const auto& d : all)
        if (usable(d) && d.name == name) return d;
    for (const auto& d : all)
        if (usable(d) && lower(d.name).find(lower(name)) != std::string::npos) return d;
    std::ostringstream names;
    for (const auto& d : all)
        if (usable(d)) names << (names.tellp() > 0 ? ", " : "") << "'" << d.name << "'";
    if (names.tellp() == 0) XOPD_FAIL("no audio " << kind << " device found (looked for '" << name << "')");
    XOPD_FAIL("no audio " << kind << " device named '" << name << "' (available: " << names.str() << ")");
}

/// The rate to run the device at: `wanted` when supported, else its default rate.
double chooseRate(const PaStreamParameters& params, bool input, double wanted, double fallback) {
    const PaError ok = input ? Pa_IsFormatSupported(&params, nullptr, wanted)
                             : Pa_IsFormatSupported(nullptr, &params, wanted);
    return ok == paFormatIsSupported ? wanted : fallback;
}

PaStreamParameters monoParams(const AudioDeviceInfo& d, bool input) {
    PaStreamParameters p{};
    p.device = d.index;
    p.channelCount = 1;
    p.sampleFormat = paFloat32;
    const PaDeviceInfo* info = Pa_GetDeviceInfo(d.index);
    p.suggestedLatency = input ? info->defaultHighInputLatency : info->defaultHighOutputLatency;
    p.hostApiSpecificStreamInfo = nullptr;
    return p;
}

void sleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

std::vector<AudioDeviceInfo> listAudioDevices() {
    PaSession session;
    return enumerate();
}

// ---------------------------------------------------------------------------------------------
// Recorder

namespace {

/// What the capture callback may touch: the ring's writer half, three atomics and the frame budget.
struct CaptureContext {
    SpscRingBuffer<float>::Writer writer;
    std::atomic<float>* peak;
    std::atomic<float>* held_peak;  ///< max since the owner last took it (lock-free CAS)
    std::atomic<std::int64_t>* captured;
    std::atomic<std::int64_t>* dropped;
    /// Frames still to capture; negative = no limit. Touched by the callback only.
    std::int64_t remaining;
};

int captureCallback(const void* input, void*, unsigned long frames, const PaStreamCallbackTimeInfo*,
                    PaStreamCallbackFlags, void* user) {
    auto* ctx = static_cast<CaptureContext*>(user);
    const auto* in = static_cast<const float*>(input);
    if (ctx->remaining >= 0) frames = static_cast<unsigned long>(std::min<std::int64_t>(ctx->remaining, std::int64_t(frames)));
    float peak = 0.0f;
    if (in) {
        for (unsigned long i = 0; i < frames; ++i) peak = std::max(peak, std::fabs(in[i]));
        const std::size_t wrote = ctx->writer.write(in, frames);
        if (wrote < frames)
            ctx->dropped->fetch_add(static_cast<std::int64_t>(frames - wrote), std::memory_order_relaxed);
    }
    ctx->peak->store(peak, std::memory_order_relaxed);
    float held = ctx->held_peak->load(std::memory_order_relaxed);
    while (peak > held && !ctx->held_peak->compare_exchange_weak(held, peak, std::memory_order_relaxed)) {
    }
    ctx->captured->fetch_add(static_cast<std::int64_t>(frames), std::memory_order_relaxed);
    if (ctx->remaining < 0) return paContinue;
    ctx->remaining -= static_cast<std::int64_t>(frames);
    return ctx->remaining > 0 ? paContinue : paComplete;
}

}  // namespace

struct AudioRecorder::Impl {
    explicit Impl(std::size_t capacity) : ring(capacity), reader(ring.reader()) {}
    PaSession session;
    SpscRingBuffer<float> ring;
    SpscRingBuffer<float>::Reader reader;  // owner thread only
    std::unique_ptr<CaptureContext> ctx;   // callback only
    PaStream* stream = nullptr;
    bool running = false;
};

AudioRecorder::AudioRecorder(const RecordOptions& options) {
    XOPD_CHECK(options.sample_rate >= 8000 && options.sample_rate <= 192000,
               "record: sample rate must be 8000..192000 Hz (got " << options.sample_rate << ")");
    XOPD_CHECK(options.buffer_seconds > 0.1, "record: buffer_seconds must be > 0.1");
    PaSession session;  // keeps PortAudio up while the device is looked up
    const AudioDeviceInfo dev = findDevice(options.device, /*input=*/true);
    device_name_ = dev.name;
    target_rate_ = options.sample_rate;
    const PaStreamParameters params = monoParams(dev, true);
    stream_rate_ = chooseRate(params, true, options.sample_rate, dev.default_sample_rate);
    impl_ = std::make_unique<Impl>(static_cast<std::size_t>(std::ceil(stream_rate_ * options.buffer_seconds)));
    XOPD_CHECK(options.max_seconds >= 0, "record: max_seconds must be >= 0");
    const std::int64_t budget = options.max_seconds > 0 ? std::llround(options.max_seconds * stream_rate_) : -1;
    impl_->ctx.reset(new CaptureContext{impl_->ring.writer(), &peak_, &held_peak_, &captured_, &dropped_, budget});
    const PaError err = Pa_OpenStream(&impl_->stream, &params, nullptr, stream_rate_, paFramesPerBufferUnspecified,
                                      paClipOff, captureCallback, impl_->ctx.get());
    if (err != paNoError) impl_->stream = nullptr;
    XOPD_CHECK(err == paNoError, "record: cannot open audio input device '" << dev.name << "' at "
                                     << stream_rate_ << " Hz: " << Pa_GetErrorText(err));
}

AudioRecorder::~AudioRecorder() {
    if (impl_ && impl_->stream) {
        if (impl_->running) Pa_AbortStream(impl_->stream);
        Pa_CloseStream(impl_->stream);
    }
}

void AudioRecorder::start() {
    XOPD_CHECK(impl_->stream && !impl_->running, "record: already started or stopped");
    const PaError err = Pa_StartStream(impl_->stream);
    XOPD_CHECK(err == paNoError, "record: cannot start '" << device_name_ << "': " << Pa_GetErrorText(err));
    impl_->running = true;
}

void AudioRecorder::pump() {
    const std::size_t n = impl_->reader.readAvailable();
    if (n == 0) return;
    const std::size_t at = samples_.size();
    samples_.resize(at + n);
    samples_.resize(at + impl_->reader.read(samples_.data() + at, n));
}

AudioClip AudioRecorder::stop() {
    if (impl_->stream) {
        if (impl_->running) Pa_StopStream(impl_->stream);  // returns after the last callback
        impl_->running = false;
        Pa_CloseStream(impl_->stream);
        impl_->stream = nullptr;
    }
    pump();
    AudioClip clip{std::move(samples_), static_cast<int>(std::lround(stream_rate_))};
    samples_.clear();
    return clip.sample_rate == target_rate_ ? clip : resampled(clip, target_rate_);
}

bool AudioRecorder::isCapturing() const {
    return impl_->stream && impl_->running && Pa_IsStreamActive(impl_->stream) == 1;
}

double AudioRecorder::recordedSeconds() const {
    return stream_rate_ > 0 ? double(captured_.load(std::memory_order_relaxed)) / stream_rate_ : 0.0;
}

AudioClip recordClip(const RecordOptions& options, double seconds,
                     const std::function<void(float, double)>& progress) {
    XOPD_CHECK(seconds > 0 && seconds <= 4 * 3600, "record: seconds must be in (0, 14400] (got " << seconds << ")");
    RecordOptions limited = options;
    limited.max_seconds = seconds;
    AudioRecorder rec(limited);
    rec.start();
    const auto t0 = std::chrono::steady_clock::now();
    while (rec.isCapturing()) {
        sleepMs(50);
        rec.pump();
        if (progress) progress(rec.peakLevel(), std::min(rec.recordedSeconds(), seconds));
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        XOPD_CHECK(wall < seconds + 10.0, "record: the input device '" << rec.deviceName() << "' delivered only "
                                              << rec.recordedSeconds() << " s in " << wall << " s");
    }
    // A device faster than real time can finish before the first poll: report the end once.
    if (progress) progress(rec.peakLevel(), std::min(rec.recordedSeconds(), seconds));
    AudioClip clip = rec.stop();
    XOPD_CHECK(rec.droppedSamples() == 0, "record: " << rec.droppedSamples() << " samples were lost (buffer overrun)");
    clip.samples.resize(std::min(clip.samples.size(),
                                 static_cast<std::size_t>(std::llround(seconds * clip.sample_rate))));
    return clip;
}

// ---------------------------------------------------------------------------------------------
// Player

namespace {

/// What the playback callback may touch: the ring's reader half and atomics.
struct PlaybackContext {
    SpscRingBuffer<float>::Reader reader;
    std::atomic<bool>* feeding_done;
    std::atomic<std::int64_t>* played;
};

int playbackCallback(const void*, void* output, unsigned long frames, const PaStreamCallbackTimeInfo*,
                     PaStreamCallbackFlags, void* user) {
    auto* ctx = static_cast<PlaybackContext*>(user);
    auto* out = static_cast<float*>(output);
    const bool done = ctx->feeding_done->load(std::memory_order_acquire);  // read before the ring
    const std::size_t got = ctx->reader.read(out, frames);
    for (unsigned long i = got; i < frames; ++i) out[i] = 0.0f;
    ctx->played->fetch_add(static_cast<std::int64_t>(got), std::memory_order_relaxed);
    return done && got < frames ? paComplete : paContinue;
}

}  // namespace

struct AudioPlayer::Impl {
    PaSession session;
    AudioDeviceInfo device;
    PaStreamParameters params{};
    std::unique_ptr<SpscRingBuffer<float>> ring;
    std::unique_ptr<PlaybackContext> ctx;
    PaStream* stream = nullptr;
    std::thread feeder;
    std::vector<float> samples;
    double rate = 0;
    std::atomic<bool> stop_requested{false};
    std::atomic<bool> feeding_done{false};
    std::atomic<std::int64_t> played{0};

    void close() {
        stop_requested = true;
        if (feeder.joinable()) feeder.join();
        if (stream) {
            Pa_AbortStream(stream);
            Pa_CloseStream(stream);
            stream = nullptr;
        }
    }
};

AudioPlayer::AudioPlayer(const PlayOptions& options) : impl_(std::make_unique<Impl>()) {
    impl_->device = findDevice(options.device, /*input=*/false);
    impl_->params = monoParams(impl_->device, false);
    device_name_ = impl_->device.name;
}

AudioPlayer::~AudioPlayer() { impl_->close(); }

void AudioPlayer::play(const AudioClip& clip) {
    XOPD_CHECK(clip.sample_rate > 0, "play: the clip has no sample rate");
    Impl& m = *impl_;
    m.close();
    m.rate = chooseRate(m.params, false, clip.sample_rate, m.device.default_sample_rate);
    m.samples = clip.sample_rate == static_cast<int>(m.rate)
                    ? clip.samples
                    : resample(clip.samples, clip.sample_rate, static_cast<int>(std::lround(m.rate)));
    m.ring = std::make_unique<SpscRingBuffer<float>>(static_cast<std::size_t>(m.rate));  // 1 s
    m.ctx.reset(new PlaybackContext{m.ring->reader(), &m.feeding_done, &m.played});
    m.stop_requested = false;
    m.feeding_done = false;
    m.played = 0;
    PaError err = Pa_OpenStream(&m.stream, nullptr, &m.params, m.rate, paFramesPerBufferUnspecified, paClipOff,
                                playbackCallback, m.ctx.get());
    if (err != paNoError) m.stream = nullptr;
    XOPD_CHECK(err == paNoError, "play: cannot open audio output device '" << device_name_ << "' at " << m.rate
                                     << " Hz: " << Pa_GetErrorText(err));
    // Pre-fill so the first callback has data, then feed from a thread.
    auto writer = m.ring->writer();
    std::size_t pos = writer.write(m.samples.data(), m.samples.size());
    err = Pa_StartStream(m.stream);
    if (err != paNoError) {
        m.close();
        XOPD_FAIL("play: cannot start '" << device_name_ << "': " << Pa_GetErrorText(err));
    }
    m.feeder = std::thread([&m, writer, pos]() mutable {
        while (pos < m.samples.size() && !m.stop_requested.load()) {
            pos += writer.write(m.samples.data() + pos, m.samples.size() - pos);
            if (pos < m.samples.size()) sleepMs(5);
        }
        m.feeding_done.store(true, std::memory_order_release);
    });
}

void AudioPlayer::wait() {
    Impl& m = *impl_;
    if (!m.stream) return;
    const double seconds = m.rate > 0 ? double(m.samples.size()) / m.rate : 0.0;
    const auto t0 = std::chrono::steady_clock::now();
    while (Pa_IsStreamActive(m.stream) == 1 && !m.stop_requested.load()) {
        sleepMs(10);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (wall > seconds + 10.0) {
            m.close();
            XOPD_FAIL("play: the output device '" << device_name_ << "' stopped consuming audio");
        }
    }
    m.close();
}

void AudioPlayer::stop() { impl_->close(); }

bool AudioPlayer::isPlaying() const { return impl_->stream && Pa_IsStreamActive(impl_->stream) == 1; }

double AudioPlayer::playedSeconds() const {
    return impl_->rate > 0 ? double(impl_->played.load(std::memory_order_relaxed)) / impl_->rate : 0.0;
}

void playClip(const AudioClip& clip, const PlayOptions& options, const std::function<void(double)>& progress) {
    AudioPlayer player(options);
    player.play(clip);
    if (progress) {
        while (player.isPlaying()) {
            progress(player.playedSeconds());
            sleepMs(50);
        }
    }
    player.wait();
}

}  // namespace xopd::audio
