#include "core/model/runtime/ModelInputs.h"

#include "core/audio/AudioFile.h"
#include "core/audio/WhisperFeatures.h"
#include "core/common/Error.h"

namespace xopd::model {

AudioFeatures audioFeaturesOfFile(const std::string& path, int mel_bins, bool pad_to_30s) {
    audio::AudioReadOptions ro;
    ro.target_rate = audio::kWhisperSampleRate;
    ro.max_read_s = double(audio::kWhisperSamples) / audio::kWhisperSampleRate;  // the encoder's window
    const auto clip = audio::readAudioFile(path, ro);
    audio::WhisperFeatureOptions fo;
    fo.mel_bins = mel_bins;
    fo.precision = audio::FeaturePrecision::Float32;
    fo.pad_to_30s = pad_to_30s;
    XOPD_CHECK(pad_to_30s || clip.samples.size() >= size_t(audio::kWhisperHop),
               "'" << path << "': audio is shorter than one mel frame (" << audio::kWhisperHop << " samples)");
    const auto f = audio::computeWhisperFeatures(clip.samples, fo);
    XOPD_CHECK(f.valid_frames >= 1, "'" << path << "': audio is empty");
    auto mel = torch::from_blob(const_cast<float*>(f.values.data()), {f.mel_bins, f.frames}, torch::kFloat32);
    return {mel.narrow(1, 0, f.valid_frames).clone(), f.valid_frames};
}

AudioFeatures audioFeaturesFor(const AudioEncoder& encoder, const std::string& path) {
    return audioFeaturesOfFile(path, int(encoder.config().num_mel_bins), encoder.padsTo30Seconds());
}

std::vector<int64_t> userTurnPromptIds(const text::Tokenizer& tokenizer, text::ChatTemplateKind kind,
                                       const std::string& transcript, int audio_tokens) {
    text::ChatMessage user;
    user.role = "user";
    if (audio_tokens > 0)
        user.content.push_back(text::ChatContent::makeAudio(audio_tokens));
    else
        user.content.push_back(text::ChatContent::makeText(transcript));
    const auto ids = tokenizer.encode(text::renderChat(kind, {user}));
    return {ids.begin(), ids.end()};
}

std::vector<int64_t> stopTokenIds(const text::Tokenizer& tokenizer) {
    std::vector<int64_t> out;
    for (const char* t : {"<|im_end|>", "<|endoftext|>"})
        if (auto id = tokenizer.tokenToId(t)) out.push_back(*id);
    return out;
}

}  // namespace xopd::model
