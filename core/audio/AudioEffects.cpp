#include "core/audio/AudioEffects.h"

#include "core/common/Error.h"

#include <sox.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>

namespace xopd::audio {

namespace {

// libsox's globals (message handler, random generator, buffer size) are process-wide.
std::mutex& soxMutex() {
    static std::mutex m;
    return m;
}

// Failures and warnings libsox printed during the current chain (guarded by soxMutex).
std::string& soxMessages() {
    static std::string messages;
    return messages;
}

void collectMessage(unsigned level, const char* /*filename*/, const char* fmt, va_list ap) {
    if (level > 2) return;  // keep FAIL and WARN only
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::string& m = soxMessages();
    if (!m.empty()) m += "; ";
    const char* who = sox_get_globals()->subsystem;
    if (who && *who) m += std::string(who) + ": ";
    m += buf;
}

void initSox() {
    static std::once_flag once;
    std::call_once(once, [] {
        XOPD_CHECK(sox_init() == SOX_SUCCESS, "libsox: sox_init failed");
        sox_get_globals()->output_message_handler = collectMessage;
        sox_get_globals()->verbosity = 2;
    });
}

// The chain's first effect hands out the clip's samples; its last collects them (mixed to mono).
struct Source {
    const std::vector<float>* samples = nullptr;
    size_t pos = 0;
};
struct Sink {
    std::vector<float>* samples = nullptr;
    unsigned channels = 1;
};

int sourceDrain(sox_effect_t* effp, sox_sample_t* obuf, size_t* osamp) {
    SOX_SAMPLE_LOCALS;
    auto* src = *static_cast<Source**>(effp->priv);
    const size_t n = std::min(*osamp, src->samples->size() - src->pos);
    for (size_t i = 0; i < n; ++i) obuf[i] = SOX_FLOAT_32BIT_TO_SAMPLE((*src->samples)[src->pos + i], effp->clips);
    src->pos += n;
    *osamp = n;
    return n ? SOX_SUCCESS : SOX_EOF;
}

int sinkFlow(sox_effect_t* effp, const sox_sample_t* ibuf, sox_sample_t* /*obuf*/, size_t* isamp, size_t* osamp) {
    SOX_SAMPLE_LOCALS;
    auto* sink = *static_cast<Sink**>(effp->priv);
    const unsigned ch = std::max(1u, sink->channels);
    const size_t frames = *isamp / ch;
    for (size_t f = 0; f < frames; ++f) {
        double sum = 0;
        for (unsigned c = 0; c < ch; ++c) sum += SOX_SAMPLE_TO_FLOAT_32BIT(ibuf[f * ch + c], effp->clips);
        sink->samples->push_back(float(sum / ch));
    }
    *isamp = frames * ch;
    *osamp = 0;
    return SOX_SUCCESS;
}

const sox_effect_handler_t kSourceHandler = {"xopd_source", nullptr, SOX_EFF_MCHAN, nullptr, nullptr, nullptr,
                                             sourceDrain,   nullptr, nullptr,       sizeof(Source*)};
const sox_effect_handler_t kSinkHandler = {"xopd_sink", nullptr, SOX_EFF_MCHAN, nullptr, nullptr, sinkFlow,
                                           nullptr,     nullptr, nullptr,       sizeof(Sink*)};

/// Owns a chain; deleting it stops and frees every effect added.
struct ChainDeleter {
    void operator()(sox_effects_chain_t* c) const { sox_delete_effects_chain(c); }
};

std::string describe(const SoxEffect& e) {
    std::string s = e.name;
    for (const auto& a : e.args) s += " " + a;
    return s;
}

// Adds an effect created from `handler` with `args` (the created struct is copied into the chain).
void addEffect(sox_effects_chain_t* chain, const sox_effect_handler_t* handler, const SoxEffect& spec,
               sox_signalinfo_t* signal, const sox_signalinfo_t& wanted_out, void* priv_pointer = nullptr) {
    sox_effect_t* e = sox_create_effect(handler);
    XOPD_CHECK(e, "libsox: cannot create effect '" << spec.name << "'");
    if (priv_pointer) *static_cast<void**>(e->priv) = priv_pointer;
    std::vector<std::string> args = spec.args;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    if (sox_effect_options(e, int(argv.size()), argv.data()) != SOX_SUCCESS) {
        free(e->priv);
        free(e);
        XOPD_FAIL("libsox effect '" << describe(spec) << "': bad options (" << soxMessages() << ")");
    }
    const int rc = sox_add_effect(chain, e, signal, &wanted_out);
    if (rc != SOX_SUCCESS) {
        free(e->priv);
        free(e);
        XOPD_FAIL("libsox effect '" << describe(spec) << "': cannot start (" << soxMessages() << ")");
    }
    free(e);  // the chain holds a copy (and owns priv)
}

void checkFactor(double factor, const char* what) {
    XOPD_CHECK(std::isfinite(factor) && factor >= 0.25 && factor <= 4.0,
               what << " factor " << factor << " is out of range (0.25 .. 4)");
}

std::string num(double v) {
    std::ostringstream s;
    s.precision(10);
    s << v;
    return s.str();
}

// Pads with zeros or cuts to exactly `frames`.
AudioClip fitLength(AudioClip clip, size_t frames) {
    clip.samples.resize(frames, 0.0f);
    return clip;
}

}  // namespace

namespace {

// runSoxEffects, with libsox's random generator (synth, dither) seeded first when `seed` is set,
// under the same lock as the run so that no other chain draws from it in between.
AudioClip runChain(const AudioClip& clip, const std::vector<SoxEffect>& effects, int declared_rate,
                   const std::int32_t* seed) {
    XOPD_CHECK(clip.sample_rate > 0, "audio effects: the clip has no sample rate");
    XOPD_CHECK(!clip.empty(), "audio effects: the clip is empty");
    initSox();
    std::lock_guard<std::mutex> lock(soxMutex());
    soxMessages().clear();
    if (seed) sox_get_globals()->ranqd1 = *seed;

    sox_encodinginfo_t encoding{};
    encoding.encoding = SOX_ENCODING_FLOAT;
    encoding.bits_per_sample = 32;
    std::unique_ptr<sox_effects_chain_t, ChainDeleter> chain(sox_create_effects_chain(&encoding, &encoding));
    XOPD_CHECK(chain, "libsox: cannot create an effects chain");

    sox_signalinfo_t signal{};
    signal.rate = declared_rate > 0 ? declared_rate : clip.sample_rate;
    signal.channels = 1;
    signal.precision = 32;
    signal.length = clip.frames();

    Source source{&clip.samples, 0};
    addEffect(chain.get(), &kSourceHandler, {"xopd_source", {}}, &signal, signal, &source);
    for (const auto& spec : effects) {
        const sox_effect_handler_t* handler = sox_find_effect(spec.name.c_str());
        XOPD_CHECK(handler, "libsox has no effect named '" << spec.name << "'");
        addEffect(chain.get(), handler, spec, &signal, signal);
    }
    AudioClip out;
    out.sample_rate = int(std::lround(signal.rate));
    out.samples.reserve(size_t(double(clip.frames()) * signal.rate / (declared_rate > 0 ? declared_rate : clip.sample_rate)) + 64);
    Sink sink{&out.samples, signal.channels};
    addEffect(chain.get(), &kSinkHandler, {"xopd_sink", {}}, &signal, signal, &sink);

    const int rc = sox_flow_effects(chain.get(), nullptr, nullptr);
    // An effect may end the flow early on purpose (SOX_EOF, no message); a failure says why.
    XOPD_CHECK(rc == SOX_SUCCESS || soxMessages().empty(), "libsox effects chain failed: " << soxMessages());
    XOPD_CHECK(!out.empty(), "libsox effects chain produced no audio" << (soxMessages().empty() ? "" : ": " + soxMessages()));
    return out;
}

}  // namespace

AudioClip runSoxEffects(const AudioClip& clip, const std::vector<SoxEffect>& effects, int declared_rate) {
    return runChain(clip, effects, declared_rate, nullptr);
}

AudioClip changeSpeed(const AudioClip& clip, double factor) {
    checkFactor(factor, "speed");
    // A tape played `factor` times faster: the samples, taken as sampled at rate x factor,
    // resampled back to the clip's rate.
    const int declared = int(std::lround(clip.sample_rate * factor));
    return runSoxEffects(clip, {{"rate", {"-v", num(clip.sample_rate)}}}, declared);
}

AudioClip changeTempo(const AudioClip& clip, double factor) {
    checkFactor(factor, "tempo");
    return runSoxEffects(clip, {{"tempo", {"-s", num(factor)}}});
}

AudioClip addReverb(const AudioClip& clip, double reverberance_percent) {
    XOPD_CHECK(std::isfinite(reverberance_percent) && reverberance_percent >= 0 && reverberance_percent <= 100,
               "reverb: reverberance " << reverberance_percent << " % is out of range (0 .. 100)");
    // reverberance, HF damping, room scale, stereo depth 0 (mono in, mono out).
    return fitLength(runSoxEffects(clip, {{"reverb", {num(reverberance_percent), "50", "100", "0"}}}), clip.frames());
}

AudioClip telephoneBand(const AudioClip& clip, const TelephoneOptions& options) {
    XOPD_CHECK(options.low_hz > 0 && options.low_hz < options.high_hz && options.high_hz < clip.sample_rate / 2.0,
               "telephone: band " << options.low_hz << "-" << options.high_hz << " Hz does not fit a "
                                  << clip.sample_rate << " Hz clip");
    std::vector<SoxEffect> chain{{"sinc", {num(options.low_hz) + "-" + num(options.high_hz)}}};
    if (options.narrowband_rate > 0 && options.narrowband_rate < clip.sample_rate) {
        XOPD_CHECK(options.high_hz < options.narrowband_rate / 2.0,
                   "telephone: " << options.high_hz << " Hz is above the Nyquist frequency of "
                                 << options.narrowband_rate << " Hz");
        chain.push_back({"rate", {"-v", num(options.narrowband_rate)}});
        chain.push_back({"rate", {"-v", num(clip.sample_rate)}});
    }
    return fitLength(runSoxEffects(clip, chain), clip.frames());
}

AudioClip makeNoise(NoiseColor color, std::int64_t frames, int sample_rate, std::uint32_t seed) {
    XOPD_CHECK(color == NoiseColor::White || color == NoiseColor::Pink, "noise: unknown colour");
    XOPD_CHECK(frames > 0 && sample_rate > 0, "noise: needs frames and a sample rate");
    AudioClip silence;
    silence.sample_rate = sample_rate;
    silence.samples.assign(size_t(frames), 0.0f);
    const std::int32_t seed32 = std::int32_t(seed);
    return runChain(silence, {{"synth", {color == NoiseColor::White ? "whitenoise" : "pinknoise"}}}, 0, &seed32);
}

}  // namespace xopd::audio
