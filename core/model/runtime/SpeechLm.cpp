#include "core/model/runtime/SpeechLm.h"

#include "core/common/Error.h"
#include "core/model/checkpoint/CheckpointLayout.h"
#include "core/model/checkpoint/ModelConfig.h"
#include "core/model/checkpoint/WeightChecks.h"
#include "core/model/checkpoint/WeightStore.h"
#include "core/model/runtime/AutAudioTower.h"
#include "core/model/runtime/OmniAudioTower.h"
#include "core/model/runtime/Qwen2AudioTower.h"

namespace xopd::model {

SpeechLm::SpeechLm(ModelRuntimeConfig config, Qwen2Decoder decoder, std::shared_ptr<AudioEncoder> audio)
    : config_(std::move(config)), decoder_(std::move(decoder)), audio_(std::move(audio)) {}

std::vector<int64_t> SpeechLm::expandAudioPlaceholders(const std::vector<int64_t>& ids,
                                                       const std::vector<int64_t>& counts) const {
    std::vector<int64_t> out;
    size_t k = 0;
    for (int64_t id : ids) {
        if (id != config_.audio_token_id) {
            out.push_back(id);
            continue;
        }
        XOPD_CHECK(k < counts.size(), "prompt has more <|AUDIO|> placeholders than audio clips (" << counts.size() << ")");
        out.insert(out.end(), static_cast<size_t>(counts[k++]), id);
    }
    XOPD_CHECK(k == counts.size(), "prompt has " << k << " <|AUDIO|> placeholders but " << counts.size()
                                                 << " audio clips were given");
    return out;
}

torch::Tensor SpeechLm::spliceAudio(const torch::Tensor& ids, const torch::Tensor& embeds, const torch::Tensor& audio) const {
    torch::Tensor mask = (ids == config_.audio_token_id).to(embeds.device());
    const int64_t placeholders = mask.sum().item<int64_t>();
    const int64_t tokens = audio.defined() ? audio.size(0) : 0;
    XOPD_CHECK(placeholders == tokens, "audio placeholders and audio features do not match: the prompt has "
                                           << placeholders << " <|AUDIO|> tokens (id " << config_.audio_token_id
                                           << ") but the audio gives " << tokens << " audio tokens");
    if (tokens == 0) return embeds;
    return embeds.masked_scatter(mask.unsqueeze(-1).expand_as(embeds), audio.to(embeds.scalar_type()));
}

torch::Tensor SpeechLm::embedPrompt(const torch::Tensor& ids, const std::vector<AudioFeatures>& clips) const {
    torch::Tensor embeds = decoder_.embed(ids);
    torch::Tensor audio;
    if (!clips.empty()) {
        XOPD_CHECK(audio_, "this model (" << modelKindName(config_.kind) << ") takes no audio");
        audio = audio_->encode(clips).embeddings;
    }
    return spliceAudio(ids, embeds, audio);
}

std::vector<std::pair<std::string, torch::Tensor*>> SpeechLm::namedParameters() {
    auto out = decoder_.namedParameters();
    for (auto& [name, t] : out) name = config_.tensor_prefix + name;
    if (audio_)
        for (auto& p : audio_->namedParameters()) out.push_back(p);
    return out;
}

void SpeechLm::to(torch::ScalarType dtype) {
    decoder_.to(dtype);
    if (audio_) audio_->to(dtype);
}

void SpeechLm::to(torch::Device device) {
    decoder_.to(device);
    if (audio_) audio_->to(device);
}

SpeechLm buildModel(const ModelRuntimeConfig& config, const TensorMap& tensors, const std::string& what) {
    Qwen2Decoder decoder = Qwen2Decoder::fromTensors(config.text, tensors, config.tensor_prefix, what);
    std::shared_ptr<AudioEncoder> audio;
    if (config.kind == ModelKind::Qwen2Audio)
        audio = std::make_shared<Qwen2AudioTower>(
            Qwen2AudioTower::fromTensors(config.audio, config.text.hidden_size, tensors, what));
    else if (config.kind == ModelKind::Qwen25OmniThinker)
        audio = std::make_shared<OmniAudioTower>(OmniAudioTower::fromTensors(config.audio, tensors, config.tensor_prefix, what));
    else if (config.kind == ModelKind::Qwen3OmniThinker)
        audio = std::make_shared<AutAudioTower>(AutAudioTower::fromTensors(config.audio, tensors, config.tensor_prefix, what));
    return SpeechLm(config, std::move(decoder), std::move(audio));
}

SpeechLm loadModel(const std::string& folder, const LoadOptions& options) {
    const xopd::ModelConfig modelConfig = xopd::loadModelConfig(folder);
    ModelRuntimeConfig config = runtimeConfigFrom(modelConfig);
    xopd::WeightStore store = xopd::WeightStore::open(folder);
    // The value checks `xopd inspect` makes (WeightChecks.h), here on the first values of each tensor.
    const auto layout = xopd::resolveCheckpointLayout(modelConfig, [&](const std::string& n) { return store.has(n); }, folder);
    xopd::validateNoUnknownModelTensors(store, modelConfig, layout, folder);
    xopd::validateCheckpointValues(store, layout, xopd::WeightScan::Sampled, folder);
    TensorMap tensors;
    for (const auto& name : store.names()) {
        // Vision and speech-output parts of Omni checkpoints are not used (nor mapped into a tensor).
        if (name.rfind("talker.", 0) == 0 || name.rfind("token2wav.", 0) == 0 || name.rfind("code2wav.", 0) == 0 ||
            name.find("visual.") != std::string::npos)
            continue;
        tensors.emplace(name, store.get(name));
    }
    SpeechLm lm = buildModel(config, tensors, "'" + folder + "'");
    if (options.dtype != torch::ScalarType::Undefined && options.dtype != lm.decoder().dtype()) lm.to(options.dtype);
    if (options.device != lm.decoder().device()) lm.to(options.device);
    return lm;
}

}  // namespace xopd::model
