#include "core/model/checkpoint/CheckpointLayout.h"

#include "core/common/Error.h"
#include "core/model/checkpoint/DecoderLayout.h"

#include <set>
#include <vector>

namespace xopd {

namespace {

// One accepted spelling of a family's names.
struct Spelling {
    const char* decoder;    // decoder module prefix
    const char* lm_head;    // output projection
    const char* tower;      // audio tower prefix ("" for text)
    const char* projector;  // projector prefix ("" when inside the tower)
};

std::vector<Spelling> spellingsFor(ModelArchitecture a) {
    switch (a) {
        case ModelArchitecture::Qwen2:
        case ModelArchitecture::Qwen3:
        case ModelArchitecture::Qwen3Moe: return {{"model.", "lm_head.weight", "", ""}};
        case ModelArchitecture::Qwen2Audio:
            return {{"language_model.model.", "language_model.lm_head.weight", "audio_tower.", "multi_modal_projector."},
                    {"model.language_model.", "lm_head.weight", "model.audio_tower.", "model.multi_modal_projector."}};
        case ModelArchitecture::Qwen25Omni:
            return {{"thinker.model.", "thinker.lm_head.weight", "thinker.audio_tower.", ""},
                    {"thinker.model.language_model.", "thinker.lm_head.weight", "thinker.model.audio_tower.", ""}};
        case ModelArchitecture::Qwen25OmniThinker:
            return {{"model.", "lm_head.weight", "audio_tower.", ""},
                    {"model.language_model.", "lm_head.weight", "model.audio_tower.", ""}};
        case ModelArchitecture::Qwen3OmniMoe:
            return {{"thinker.model.", "thinker.lm_head.weight", "thinker.audio_tower.", ""}};
        case ModelArchitecture::Unknown: break;
    }
    return {};
}

}  // namespace

CheckpointLayout resolveCheckpointLayout(const ModelConfig& config, const std::function<bool(const std::string&)>& has,
                                         const std::string& source) {
    const auto spellings = spellingsFor(config.architecture);
    XOPD_CHECK(!spellings.empty(), "'" << source << "': unknown model architecture");
    std::string tried;
    for (const auto& s : spellings) {
        const std::string embed = std::string(s.decoder) + kEmbedTokensName;
        if (!has(embed)) {
            tried += (tried.empty() ? "'" : ", '") + embed + "'";
            continue;
        }
        CheckpointLayout l;
        l.decoder_prefix = s.decoder;
        l.embed_tokens = embed;
        if (has(s.lm_head)) {
            l.lm_head = s.lm_head;
        } else {
            l.lm_head = embed;  // tied, or omitted by the writer: §2.4 fallback
            l.lm_head_tied = true;
        }
        if (config.hasAudio()) {
            l.audio_tower_prefix = s.tower;
            // The AuT of Qwen3-Omni starts with conv2d1; the Whisper-style towers with conv1.
            const bool aut = config.audio->downsample_hidden_size > 0;
            const std::string conv = l.audio_tower_prefix + (aut ? "conv2d1.weight" : "conv1.weight");
            XOPD_CHECK(has(conv), "'" << source << "': " << architectureName(config.architecture)
                                      << " checkpoint has no audio tower (looked for '" << conv << "')");
            l.projector_prefix = s.projector;
            if (!l.projector_prefix.empty()) {
                const std::string proj = l.projector_prefix + "linear.weight";
                XOPD_CHECK(has(proj), "'" << source << "': " << architectureName(config.architecture)
                                          << " checkpoint has no projector (looked for '" << proj << "')");
            } else {
                const std::string proj = l.audio_tower_prefix + (aut ? "proj2.weight" : "proj.weight");
                XOPD_CHECK(has(proj), "'" << source << "': " << architectureName(config.architecture)
                                          << " checkpoint has no audio projection (looked for '" << proj << "')");
            }
        }
        return l;
    }
    XOPD_FAIL("'" << source << "': no decoder embedding for a " << architectureName(config.architecture)
                  << " checkpoint (looked for " << tried << ")");
}

}  // namespace xopd

namespace xopd {

namespace {

std::string shapeText(const std::vector<int64_t>& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

class ShapeChecker {
public:
    ShapeChecker(const TensorShapeLookup& lookup, const std::string& source, std::set<std::string>* expected)
        : lookup_(lookup), source_(source), expected_(expected) {}
    void expect(const std::string& name, const std::vector<int64_t>& want) const {
        if (expected_) expected_->insert(name);
        const auto got = lookup_(name);
        XOPD_CHECK(got, "'" << source_ << "': missing tensor '" << name << "' (expected shape " << shapeText(want) << ")");
        XOPD_CHECK(*got == want, "'" << source_ << "': tensor '" << name << "' has shape " << shapeText(*got)
                                     << " but the config implies " << shapeText(want));
    }
    void absent(const std::string& name, const std::string& why) const {
        XOPD_CHECK(!lookup_(name), "'" << source_ << "': unexpected tensor '" << name << "' (" << why << ")");
    }

private:
    const TensorShapeLookup& lookup_;
    const std::string& source_;
    std::set<std::string>* expected_;
};

}  // namespace

DecoderSize decoderSizeOf(const TextModelConfig& t) {
    return {t.vocab_size,          t.hidden_size,         t.intermediate_size, t.num_hidden_layers,
            t.num_attention_heads, t.num_key_value_heads, t.head_dim,          t.qkv_bias,
            t.o_bias,              t.qk_norm,             t.moe};
}

void validateCheckpointShapes(const ModelConfig& config, const CheckpointLayout& layout, const TensorShapeLookup& shape,
                              const std::string& source, std::set<std::string>* expected) {
    const ShapeChecker c(shape, source, expected);
    const TextModelConfig& t = config.text;
    const int64_t H = t.hidden_size;
    const std::string& d = layout.decoder_prefix;
    const DecoderSize size = decoderSizeOf(t);
    // The head's name depends on the checkpoint's spelling (layout.lm_head); the rest sits under d.
    for (const auto& tensor : decoderTensors(size, /*with_head=*/false)) c.expect(d + tensor.name, tensor.shape);
    c.absent(d + decoderLayerPrefix(t.num_hidden_layers) + kInputNormName,
             "the config has " + std::to_string(t.num_hidden_layers) + " layers");
    if (!layout.lm_head_tied) c.expect(layout.lm_head, {t.vocab_size, t.hidden_size});

    if (!config.audio) return;
    const AudioEncoderConfig& a = *config.audio;
    const std::string& p = layout.audio_tower_prefix;
    const int64_t D = a.d_model, F = a.encoder_ffn_dim;
    const bool aut = a.downsample_hidden_size > 0;  // Qwen3-Omni: conv2d stem, biased keys, proj1/proj2
    if (aut) {
        const int64_t ch = a.downsample_hidden_size;
        int64_t freq = a.num_mel_bins;
        for (int i = 0; i < 3; ++i) freq = (freq - 1) / 2 + 1;
        for (int i = 1; i <= 3; ++i) {
            c.expect(p + "conv2d" + std::to_string(i) + ".weight", {ch, i == 1 ? 1 : ch, 3, 3});
            c.expect(p + "conv2d" + std::to_string(i) + ".bias", {ch});
        }
        c.expect(p + "conv_out.weight", {D, ch * freq});
    } else {
        c.expect(p + "conv1.weight", {D, a.num_mel_bins, 3});
        c.expect(p + "conv1.bias", {D});
        c.expect(p + "conv2.weight", {D, D, 3});
        c.expect(p + "conv2.bias", {D});
    }
    for (int64_t i = 0; i < a.encoder_layers; ++i) {
        const std::string l = p + "layers." + std::to_string(i) + ".";
        for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"})
            c.expect(l + "self_attn." + proj + ".weight", {D, D});
        for (const char* proj : {"q_proj", "v_proj", "out_proj"}) c.expect(l + "self_attn." + proj + ".bias", {D});
        if (aut)
            c.expect(l + "self_attn.k_proj.bias", {D});
        else
            c.absent(l + "self_attn.k_proj.bias", "Whisper-style encoders have no key bias");
        c.expect(l + "self_attn_layer_norm.weight", {D});
        c.expect(l + "self_attn_layer_norm.bias", {D});
        c.expect(l + "fc1.weight", {F, D});
        c.expect(l + "fc1.bias", {F});
        c.expect(l + "fc2.weight", {D, F});
        c.expect(l + "fc2.bias", {D});
        c.expect(l + "final_layer_norm.weight", {D});
        c.expect(l + "final_layer_norm.bias", {D});
    }
    c.absent(p + "layers." + std::to_string(a.encoder_layers) + ".fc1.weight",
             "the config has " + std::to_string(a.encoder_layers) + " encoder layers");
    if (!layout.projector_prefix.empty()) {  // Qwen2-Audio: learned positions, LayerNorm, projector
        c.expect(p + "embed_positions.weight", {a.max_source_positions, D});
        c.expect(p + "layer_norm.weight", {D});
        c.expect(p + "layer_norm.bias", {D});
        c.expect(layout.projector_prefix + "linear.weight", {H, D});
        c.expect(layout.projector_prefix + "linear.bias", {H});
    } else if (aut) {  // Qwen3-Omni: ln_post, proj1, proj2 to output_dim
        const int64_t out = a.output_dim > 0 ? a.output_dim : H;
        c.expect(p + "ln_post.weight", {D});
        c.expect(p + "ln_post.bias", {D});
        c.expect(p + "proj1.weight", {D, D});
        c.expect(p + "proj1.bias", {D});
        c.expect(p + "proj2.weight", {out, D});
        c.expect(p + "proj2.bias", {out});
    } else {  // Omni: sinusoidal positions (no table), ln_post, proj to output_dim
        const int64_t out = a.output_dim > 0 ? a.output_dim : H;
        c.expect(p + "ln_post.weight", {D});
        c.expect(p + "ln_post.bias", {D});
        c.expect(p + "proj.weight", {out, D});
        c.expect(p + "proj.bias", {out});
    }
}

}  // namespace xopd
