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

/// Silence played before the first sample when a stream starts, and after the last one before
/// the stream completes (see playbackCallback and AudioPlayer::play).
constexpr double kStartLeadSeconds = 0.05;
constexpr double kEndTailSeconds = 0.1;

/// A clip at the stream's rate; immutable once the callback can see it.
struct PlaySource {
    std::vector<float> samples;
};

/// One instruction to the playback callback; immutable once published.
struct PlayCommand {
    const PlaySource* source = nullptr;
    float gain = 1.0f;
    std::int64_t start = 0;  ///< frame to jump to; −1: a switch at the current frame (crossfade)
    std::int64_t end = 0;    ///< frame to stop at (exclusive; ≤ the source's length)
    std::int64_t fade = 0;   ///< fade-in (jump) or crossfade (switch) frames
    bool fade_out = false;   ///< fade out over `fade` frames before `end` (a loop border)
    std::int64_t loop_start = -1;  ///< ≥ 0: at `end` go on from this frame, faded in (an A–B loop)
};

/// What the playback callback touches: atomics, and its own fields while the stream runs.
struct PlaybackState {
    std::atomic<const PlayCommand*> pending{nullptr};  ///< owner → callback
    std::atomic<std::int64_t> position{0};             ///< clip frame of the next sample
    std::atomic<std::int64_t> played{0};               ///< frames handed since the last jump
    std::atomic<bool> finished{false};                 ///< the callback returned paComplete
    std::atomic<std::int64_t> loops{0};                ///< loop wraps since the last command
    double rate = 0;                                   ///< the stream's rate (set while stopped)

    // Callback-only while the stream runs (the owner resets them while it is stopped).
    const PlayCommand* cur = nullptr;
    const PlayCommand* old = nullptr;  ///< the clip faded out during a crossfade
    std::int64_t pos = 0;              ///< clip frame
    std::int64_t since_start = 0;      ///< frames since the jump (fade-in)
    std::int64_t xfade_done = 0;       ///< frames of the crossfade done
    std::int64_t lead = 0;             ///< silent frames still to play before the clip (a start)
    std::int64_t tail = -1;            ///< silent frames still to play after the end (−1: not there)
    bool wrapped = false;              ///< the current command looped back at least once (fade-in)
};

/// The sample of `c` at clip frame `pos` (gain, fade-in since the jump, fade-out before the end),
/// 0 past its end. The fades are computed as AudioTransport::renderSlice computes them.
inline float sampleOf(const PlayCommand& c, std::int64_t pos, std::int64_t since_start, bool jumped) {
    if (pos < 0 || pos >= c.end) return 0.0f;
    float s = c.source->samples[static_cast<std::size_t>(pos)] * c.gain;
    if (jumped && since_start < c.fade) s *= float(since_start) / float(c.fade);
    if (c.fade_out && c.fade > 0 && c.end - 1 - pos < c.fade) s *= float(c.end - 1 - pos) / float(c.fade);
    return s;
}

int playbackCallback(const void*, void* output, unsigned long frames, const PaStreamCallbackTimeInfo*,
                     PaStreamCallbackFlags, void* user) {
    auto* st = static_cast<PlaybackState*>(user);
    auto* out = static_cast<float*>(output);
    if (const PlayCommand* c = st->pending.exchange(nullptr, std::memory_order_acq_rel)) {
        if (c->start >= 0 || !st->cur) {  // a jump (or a switch with nothing playing): cut
            st->cur = c;
            st->old = nullptr;
            st->pos = std::max<std::int64_t>(0, c->start);
            st->since_start = 0;
            st->tail = -1;
            st->wrapped = false;
            st->loops.store(0, std::memory_order_relaxed);
            st->played.store(0, std::memory_order_relaxed);
            st->position.store(st->pos, std::memory_order_release);  // a reader never sees the old clip's
        } else {  // a switch: both clips at the same frame, crossfaded
            st->old = st->cur;
            st->cur = c;
            st->xfade_done = 0;
            st->tail = -1;
            st->wrapped = false;
        }
    }
    unsigned long i = 0;
    bool done = !st->cur;
    for (; i < frames && st->lead > 0; ++i, --st->lead) out[i] = 0.0f;
    const unsigned long lead = i;
    for (; i < frames && !done; ++i) {
        const PlayCommand& c = *st->cur;
        if (st->pos >= c.end && c.loop_start >= 0 && c.loop_start < c.end) {
            // An A–B loop: the next sample is the loop start's, faded in, on the same stream (a
            // restart would put silence between the passes).
            st->pos = c.loop_start;
            st->since_start = 0;
            st->old = nullptr;
            st->wrapped = true;
            st->loops.fetch_add(1, std::memory_order_relaxed);
        }
        if (st->pos >= c.end) {
            // The end: silence before completing, so what a device drops when a stream drains is
            // silence, not the clip's last milliseconds (ALSA's pulse plugin dropped ~30 ms).
            if (st->tail < 0) st->tail = static_cast<std::int64_t>(kEndTailSeconds * st->rate);
            if (st->tail == 0) {
                done = true;
                break;
            }
            --st->tail;
            out[i] = 0.0f;
            continue;
        }
        const bool jumped = c.start >= 0 || st->wrapped;
        float s = sampleOf(c, st->pos, st->since_start, jumped);
        if (st->old) {
            if (st->xfade_done < c.fade) {
                const float w = float(st->xfade_done) / float(c.fade);
                const PlayCommand& o = *st->old;
                s = (1.0f - w) * sampleOf(o, st->pos, st->since_start, o.start >= 0) + w * s;
                ++st->xfade_done;
            } else {
                st->old = nullptr;
            }
        }
        out[i] = s;
        ++st->pos;
        ++st->since_start;
    }
    for (unsigned long k = i; k < frames; ++k) out[k] = 0.0f;
    st->played.fetch_add(static_cast<std::int64_t>(i - lead), std::memory_order_relaxed);
    st->position.store(st->pos, std::memory_order_release);
    if (done) {
        st->finished.store(true, std::memory_order_release);
        return paComplete;
    }
    return paContinue;
}

}  // namespace


struct AudioPlayer::Impl {
    PaSession session;
    AudioDeviceInfo device;
    PaStreamParameters params{};
    PaStream* stream = nullptr;
    double rate = 0;
    bool started = false;  ///< Pa_StartStream called and not yet stopped
    PlaybackState state;
    std::vector<std::unique_ptr<PlaySource>> sources;   ///< alive while the stream may read them
    std::vector<std::unique_ptr<PlayCommand>> commands;

    /// Stops the stream (it stays open); the callback no longer runs afterwards. A stream that
    /// finished by itself is stopped gracefully (what it played is handed on; an abort would drop
    /// what a device still buffers), one still playing is aborted at once.
    void halt() {
        if (stream && started) {
            if (state.finished.load(std::memory_order_acquire)) Pa_StopStream(stream);
            else Pa_AbortStream(stream);
        }
        started = false;
    }
    void close() {
        halt();
        if (stream) {
            Pa_CloseStream(stream);
            stream = nullptr;
        }
    }
    /// Frees what the (stopped) callback used and resets its fields.
    void forget() {
        state.pending.store(nullptr);
        state.cur = state.old = nullptr;
        state.pos = state.since_start = state.xfade_done = state.lead = 0;
        state.tail = -1;
        state.finished.store(false);
        state.played.store(0);
        state.loops.store(0);
        state.wrapped = false;
        commands.clear();
        sources.clear();
    }
    /// The clip at the stream's rate, shared with an identical clip already handed over.
    const PlaySource* sourceFor(const AudioClip& clip) {
        std::vector<float> samples = clip.sample_rate == static_cast<int>(std::lround(rate))
                                         ? clip.samples
                                         : resample(clip.samples, clip.sample_rate, static_cast<int>(std::lround(rate)));
        for (const auto& s : sources)
            if (s->samples == samples) return s.get();
        sources.push_back(std::make_unique<PlaySource>(PlaySource{std::move(samples)}));
        return sources.back().get();
    }
    const PlayCommand* command(PlayCommand c) {
        commands.push_back(std::make_unique<PlayCommand>(c));
        return commands.back().get();
    }
    std::int64_t frames(double seconds) const { return static_cast<std::int64_t>(std::llround(seconds * rate)); }
    bool running() const { return stream && started && Pa_IsStreamActive(stream) == 1 && !state.finished.load(); }
};

AudioPlayer::AudioPlayer(const PlayOptions& options) : impl_(std::make_unique<Impl>()) {
    impl_->device = findDevice(options.device, /*input=*/false);
    impl_->params = monoParams(impl_->device, false);
    device_name_ = impl_->device.name;
}

AudioPlayer::~AudioPlayer() { impl_->close(); }

void AudioPlayer::play(const AudioClip& clip, const PlayCue& cue) {
    XOPD_CHECK(clip.sample_rate > 0, "play: the clip has no sample rate");
    Impl& m = *impl_;
    const double rate = chooseRate(m.params, false, clip.sample_rate, m.device.default_sample_rate);
    if (m.stream && rate != m.rate) m.close();  // another rate: the one case that reopens
    bool live = m.stream && m.running();
    if (!live) {
        m.halt();
        m.forget();
    }
    if (!m.stream) {
        m.rate = rate;
        m.state.rate = rate;
        PaError err = Pa_OpenStream(&m.stream, nullptr, &m.params, m.rate, paFramesPerBufferUnspecified, paClipOff,
                                    playbackCallback, &m.state);
        if (err != paNoError) m.stream = nullptr;
        XOPD_CHECK(err == paNoError, "play: cannot open audio output device '" << device_name_ << "' at " << m.rate
                                         << " Hz: " << Pa_GetErrorText(err));
    }
    const PlaySource* src = m.sourceFor(clip);
    const auto n = static_cast<std::int64_t>(src->samples.size());
    PlayCommand c;
    c.source = src;
    c.gain = cue.gain;
    // As AudioTransport::renderSlice: the start truncated, the end rounded, the fade in frames of
    // the clip's own rate when the stream runs at it.
    c.start = std::min(n, static_cast<std::int64_t>(std::max(0.0, cue.start_s) * m.rate));
    c.end = cue.end_s < 0 ? n : std::clamp(m.frames(cue.end_s), c.start, n);
    c.fade = std::min(c.end - c.start, static_cast<std::int64_t>(std::max(0, cue.fade_ms)) *
                                           static_cast<std::int64_t>(std::lround(m.rate)) / 1000);
    c.fade_out = cue.end_s >= 0;
    if (cue.end_s >= 0 && cue.loop_start_s >= 0) c.loop_start = std::min(c.end, m.frames(cue.loop_start_s));
    const PlayCommand* cmd = m.command(c);
    m.state.pending.store(cmd, std::memory_order_release);
    // The stream may have finished between the check and the store: then nobody takes the command.
    if (live && m.state.finished.load(std::memory_order_acquire) && m.state.pending.load() == cmd) live = false;
    if (!live) {
        m.halt();
        const PlayCommand* keep = m.state.pending.exchange(nullptr);
        m.state.cur = m.state.old = nullptr;
        m.state.tail = -1;
        m.state.finished.store(false);
        m.state.played.store(0);
        m.state.loops.store(0);
        m.state.wrapped = false;
        m.state.position.store(c.start);
        // The first milliseconds of a starting stream can be lost on the way to the speaker (ALSA's
        // pulse plugin dropped 11-19 ms of them, measured at a PulseAudio sink): lead with silence.
        m.state.lead = m.frames(kStartLeadSeconds);
        m.state.pending.store(keep ? keep : cmd, std::memory_order_release);
        const PaError err = Pa_StartStream(m.stream);
        if (err != paNoError) {
            m.close();
            m.forget();
            XOPD_FAIL("play: cannot start '" << device_name_ << "': " << Pa_GetErrorText(err));
        }
        m.started = true;
    }
}

bool AudioPlayer::switchTo(const AudioClip& clip, float gain, int crossfade_ms, double end_s, double loop_start_s) {
    XOPD_CHECK(clip.sample_rate > 0, "play: the clip has no sample rate");
    Impl& m = *impl_;
    if (!m.running()) return false;
    const PlaySource* src = m.sourceFor(clip);
    const auto n = static_cast<std::int64_t>(src->samples.size());
    PlayCommand c;
    c.source = src;
    c.gain = gain;
    c.start = -1;
    c.end = end_s < 0 ? n : std::clamp<std::int64_t>(m.frames(end_s), 0, n);
    c.fade = static_cast<std::int64_t>(std::max(0, crossfade_ms)) * static_cast<std::int64_t>(std::lround(m.rate)) / 1000;
    c.fade_out = end_s >= 0;
    if (end_s >= 0 && loop_start_s >= 0) c.loop_start = std::min(c.end, m.frames(loop_start_s));
    const PlayCommand* cmd = m.command(c);
    m.state.pending.store(cmd, std::memory_order_release);
    if (m.state.finished.load(std::memory_order_acquire) && m.state.pending.exchange(nullptr) == cmd) {
        // The clip ended just before the switch: continue the new one where the old one stopped.
        const double at = double(m.state.position.load()) / m.rate;
        PlayCue cue;
        cue.start_s = at;
        cue.end_s = end_s;
        cue.gain = gain;
        cue.fade_ms = crossfade_ms;
        cue.loop_start_s = loop_start_s;
        play(clip, cue);
    }
    return true;
}

void AudioPlayer::wait() {
    Impl& m = *impl_;
    if (!m.stream || !m.started) return;
    const auto t0 = std::chrono::steady_clock::now();
    while (Pa_IsStreamActive(m.stream) == 1) {
        sleepMs(10);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double total = 0;
        for (const auto& s : m.sources) total += double(s->samples.size());
        if (wall > total / m.rate + 10.0) {
            m.close();
            m.forget();
            XOPD_FAIL("play: the output device '" << device_name_ << "' stopped consuming audio");
        }
    }
    m.halt();
    m.forget();
}

void AudioPlayer::stop() {
    impl_->halt();
    impl_->forget();
}

bool AudioPlayer::isPlaying() const { return impl_->stream && impl_->started && Pa_IsStreamActive(impl_->stream) == 1; }

double AudioPlayer::playedSeconds() const {
    return impl_->rate > 0 ? double(impl_->state.played.load(std::memory_order_relaxed)) / impl_->rate : 0.0;
}

std::int64_t AudioPlayer::loopWraps() const { return impl_->state.loops.load(std::memory_order_relaxed); }

double AudioPlayer::positionSeconds() const {
    if (impl_->rate <= 0) return 0.0;
    // A jump not yet taken by the callback: its start is where playback is (commands live until
    // the owner stops the stream, so reading one here is safe on the owner's thread).
    if (const PlayCommand* c = impl_->state.pending.load(std::memory_order_acquire); c && c->start >= 0)
        return double(c->start) / impl_->rate;
    return double(impl_->state.position.load(std::memory_order_acquire)) / impl_->rate;
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
