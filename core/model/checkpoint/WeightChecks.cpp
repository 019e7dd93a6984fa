#include "core/model/checkpoint/WeightChecks.h"

#include "core/common/Error.h"
#include "core/common/Tensors.h"

#include <set>

namespace xopd {

namespace {

constexpr int64_t kSampledValues = 65536;

bool usedByTheModel(const std::string& name, const CheckpointLayout& l) {
    auto under = [&](const std::string& prefix) { return !prefix.empty() && name.rfind(prefix, 0) == 0; };
    return under(l.decoder_prefix) || name == l.lm_head || under(l.audio_tower_prefix) || under(l.projector_prefix);
}

}  // namespace

void validateNoUnknownModelTensors(const WeightStore& store, const ModelConfig& config, const CheckpointLayout& layout,
                                   const std::string& source) {
    std::set<std::string> known;
    for (const auto& t : decoderTensors(decoderSizeOf(config.text), /*with_head=*/false)) known.insert(layout.decoder_prefix + t.name);
    for (const auto& name : store.namesWithPrefix(layout.decoder_prefix))
        XOPD_CHECK(known.count(name), "'" << source << "': tensor '" << name << "' is not part of a "
                                          << architectureName(config.architecture) << " decoder of this config (is "
                                          << "config.json's model_type right?)");
    if (layout.audio_tower_prefix.empty()) return;
    // The audio side: every tensor under the tower's (and projector's) prefix must be one the shape
    // check expects — or Qwen2.5-Omni's audio_bos_eos_token, stored though its forward never reads it.
    std::set<std::string> expected{layout.audio_tower_prefix + "audio_bos_eos_token.weight"};
    auto shape = [&](const std::string& n) -> std::optional<std::vector<int64_t>> {
        if (!store.has(n)) return std::nullopt;
        return store.location(n).info.shape;
    };
    validateCheckpointShapes(config, layout, shape, source, &expected);
    for (const std::string& prefix : {layout.audio_tower_prefix, layout.projector_prefix}) {
        if (prefix.empty()) continue;
        for (const auto& name : store.namesWithPrefix(prefix))
            XOPD_CHECK(expected.count(name), "'" << source << "': tensor '" << name << "' is not part of the "
                                                 << architectureName(config.architecture)
                                                 << " audio encoder of this config (is config.json's model_type right?)");
    }
}

std::vector<std::string> unusedTensorNames(const WeightStore& store, const CheckpointLayout& layout) {
    auto partOfOmni = [](const std::string& n) {  // speech output and vision: present, deliberately not used
        return n.rfind("talker.", 0) == 0 || n.rfind("code2wav.", 0) == 0 || n.rfind("token2wav.", 0) == 0 ||
               n.find("visual.") != std::string::npos;
    };
    std::vector<std::string> out;
    for (const auto& name : store.names())
        if (!usedByTheModel(name, layout) && !partOfOmni(name)) out.push_back(name);
    return out;
}

void validateCheckpointValues(const WeightStore& store, const CheckpointLayout& layout, WeightScan scan,
                              const std::string& source) {
    XOPD_CHECK(scan != WeightScan::Invalid, "internal error: no weight scan chosen");
    for (const auto& name : store.names()) {
        if (!usedByTheModel(name, layout)) continue;
        const SafetensorsDtype dtype = store.location(name).info.dtype;
        XOPD_CHECK(dtype == SafetensorsDtype::F32 || dtype == SafetensorsDtype::F16 || dtype == SafetensorsDtype::BF16,
                   "'" << source << "': tensor '" << name << "' is stored as " << dtypeName(dtype)
                       << "; model weights must be F32, F16 or BF16");
        torch::Tensor values = store.get(name).flatten();
        if (scan == WeightScan::Sampled && values.numel() > kSampledValues) values = values.narrow(0, 0, kSampledValues);
        const int64_t bad = values.numel() - torch::isfinite(values).sum().item<int64_t>();
        XOPD_CHECK(bad == 0, "'" << source << "': tensor '" << name << "' holds " << bad
                                 << " NaN or infinite value(s)" << (scan == WeightScan::Sampled ? " among its first values" : ""));
    }
}

}  // namespace xopd
