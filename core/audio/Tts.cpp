#include "core/audio/Tts.h"

#include "core/audio/Resampler.h"
#include "core/common/Error.h"

#include <espeak-ng/speak_lib.h>

#include <mutex>

namespace xopd::audio {
namespace {

std::mutex& espeakMutex() {
    static std::mutex m;
    return m;
}

/// Receives synthesized blocks; user_data is the std::vector<short>* passed to espeak_Synth.
int synthCallback(short* wav, int numsamples, espeak_EVENT* events) {
    if (wav && numsamples > 0 && events) {
        auto* out = static_cast<std::vector<short>*>(events->user_data);
        if (out) out->insert(out->end(), wav, wav + numsamples);
    }
    return 0;  // continue
}

/// Initialises espeak-ng once; returns its output rate. Caller holds espeakMutex().
int ensureInitialized() {
    static int rate = 0;
    if (rate > 0) return rate;
    const int r = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
    XOPD_CHECK(r > 0, "text-to-speech: espeak-ng could not start (is espeak-ng-data installed?)");
    espeak_SetSynthCallback(synthCallback);
    rate = r;
    return rate;
}

}  // namespace

AudioClip synthesizeSpeech(const std::string& text, const TtsOptions& options) {
    XOPD_CHECK(text.find_first_not_of(" \t\r\n") != std::string::npos, "text-to-speech: the text is empty");
    XOPD_CHECK(options.rate_wpm >= 80 && options.rate_wpm <= 450,
               "text-to-speech: rate must be 80..450 words per minute (got " << options.rate_wpm << ")");
    XOPD_CHECK(options.pitch >= 0 && options.pitch <= 100,
               "text-to-speech: pitch must be 0..100 (got " << options.pitch << ")");
    XOPD_CHECK(options.sample_rate >= 8000 && options.sample_rate <= 192000,
               "text-to-speech: sample rate must be 8000..192000 Hz (got " << options.sample_rate << ")");
    std::vector<short> pcm;
    int native_rate = 0;
    {
        std::lock_guard<std::mutex> lock(espeakMutex());
        native_rate = ensureInitialized();
        XOPD_CHECK(espeak_SetVoiceByName(options.voice.c_str()) == EE_OK,
                   "text-to-speech: unknown voice '" << options.voice << "' (see `xopd tts --list-voices`)");
        espeak_SetParameter(espeakRATE, options.rate_wpm, 0);
        espeak_SetParameter(espeakPITCH, options.pitch, 0);
        const espeak_ERROR err = espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0,
                                              espeakCHARS_UTF8, nullptr, &pcm);
        XOPD_CHECK(err == EE_OK, "text-to-speech: espeak-ng failed to synthesize (error " << err << ")");
    }
    AudioClip clip;
    clip.sample_rate = native_rate;
    clip.samples.resize(pcm.size());
    for (size_t i = 0; i < pcm.size(); ++i) clip.samples[i] = static_cast<float>(pcm[i]) / 32768.0f;
    return options.sample_rate == native_rate ? clip : resampled(clip, options.sample_rate);
}

std::vector<TtsVoice> listVoices() {
    std::lock_guard<std::mutex> lock(espeakMutex());
    ensureInitialized();
    std::vector<TtsVoice> out;
    const espeak_VOICE** voices = espeak_ListVoices(nullptr);
    for (int i = 0; voices && voices[i]; ++i) {
        TtsVoice v;
        v.name = voices[i]->name ? voices[i]->name : "";
        // languages: a priority byte, a NUL-terminated code, repeated; the list ends with a 0 byte.
        if (voices[i]->languages && voices[i]->languages[0]) v.language = voices[i]->languages + 1;
        v.identifier = voices[i]->identifier ? voices[i]->identifier : "";
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace xopd::audio
