#include "core/model/checkpoint/ModelConfig.h"

#include "core/common/Error.h"
#include "core/common/Json.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace xopd {

namespace {

using nlohmann::json;

// Reads typed values from one JSON object; `where` is the key path of the object ("" = top level,
// "thinker_config.text_config."), so errors name the exact key.
class Reader {
public:
    Reader(const json& object, std::string where, const std::string& source)
        : j_(object), where_(std::move(where)), source_(source) {}

    bool present(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }

    int64_t integer(const char* key, int64_t fallback) const {
        if (!present(key)) return fallback;
        const json& v = j_[key];
        XOPD_CHECK(v.is_number_integer(), "'" << source_ << "': " << where_ << key << " must be an integer, got "
                                              << v.dump());
        return v.get<int64_t>();
    }
    int64_t positive(const char* key, int64_t fallback) const {
        const int64_t v = integer(key, fallback);
        XOPD_CHECK(v > 0, "'" << source_ << "': " << where_ << key << " must be positive, got " << v);
        return v;
    }
    std::optional<int64_t> optionalInteger(const char* key) const {
        if (!present(key)) return std::nullopt;
        return integer(key, 0);
    }
    double number(const char* key, double fallback) const {
        if (!present(key)) return fallback;
        const json& v = j_[key];
        XOPD_CHECK(v.is_number(), "'" << source_ << "': " << where_ << key << " must be a number, got " << v.dump());
        return v.get<double>();
    }
    bool boolean(const char* key, bool fallback) const {
        if (!present(key)) return fallback;
        const json& v = j_[key];
        XOPD_CHECK(v.is_boolean(), "'" << source_ << "': " << where_ << key << " must be true or false, got "
                                       << v.dump());
        return v.get<bool>();
    }
    std::string string(const char* key, const std::string& fallback) const {
        if (!present(key)) return fallback;
        const json& v = j_[key];
        XOPD_CHECK(v.is_string(), "'" << source_ << "': " << where_ << key << " must be a string, got " << v.dump());
        return v.get<std::string>();
    }
    // A nested object, or an empty one when absent / null (class defaults then apply).
    const json& object(const char* key) const {
        static const json kEmpty = json::object();
        if (!present(key)) return kEmpty;
        XOPD_CHECK(j_[key].is_object(), "'" << source_ << "': " << where_ << key << " must be an object");
        return j_[key];
    }
    std::vector<int64_t> integerList(const char* key) const {
        std::vector<int64_t> out;
        if (!present(key)) return out;
        const json& v = j_[key];
        if (v.is_number_integer()) return {v.get<int64_t>()};
        XOPD_CHECK(v.is_array(), "'" << source_ << "': " << where_ << key << " must be an integer or a list, got "
                                     << v.dump());
        for (const auto& e : v) {
            XOPD_CHECK(e.is_number_integer(), "'" << source_ << "': " << where_ << key
                                                  << " must hold integers, got " << v.dump());
            out.push_back(e.get<int64_t>());
        }
        return out;
    }
    const json& raw() const { return j_; }
    const std::string& where() const { return where_; }

private:
    const json& j_;
    std::string where_;
    const std::string& source_;
};

TextModelConfig qwen2TextDefaults() { return TextModelConfig{}; }  // Qwen2Config class defaults

/// Qwen3Config class defaults (configuration_qwen3.py): head_dim 128 whatever the width, no biases
/// unless attention_bias, q/k RMSNorm.
TextModelConfig qwen3TextDefaults() {
    TextModelConfig d;
    d.head_dim = 128;
    d.qkv_bias = d.o_bias = false;
    d.qk_norm = true;
    return d;
}

/// Qwen3MoeConfig class defaults (configuration_qwen3_moe.py). Its attention takes head_dim from
/// the config when present, else hidden_size / num_attention_heads (head_dim 0 here means "derive").
TextModelConfig qwen3MoeTextDefaults() {
    TextModelConfig d = qwen3TextDefaults();
    d.hidden_size = 2048;
    d.intermediate_size = 6144;
    d.num_hidden_layers = 24;
    d.num_attention_heads = 32;
    d.num_key_value_heads = 4;
    d.head_dim = 0;
    d.moe.num_experts = 128;
    d.moe.num_experts_per_tok = 8;
    d.moe.moe_intermediate_size = 768;
    d.moe.norm_topk_prob = false;
    d.moe.decoder_sparse_step = 1;
    return d;
}

/// Qwen3OmniMoeTextConfig class defaults: those of Qwen3-MoE except norm_topk_prob true and the
/// sizes below (docs/models/qwen3-omni.md §1; real files always give them).
TextModelConfig qwen3OmniTextDefaults() {
    TextModelConfig d = qwen3MoeTextDefaults();
    d.vocab_size = 3584;
    d.intermediate_size = 18944;
    d.num_hidden_layers = 28;
    d.num_attention_heads = 28;
    d.num_key_value_heads = 4;
    d.moe.norm_topk_prob = true;
    return d;
}

TextModelConfig omniTextDefaults() {
    TextModelConfig d;
    d.vocab_size = 152064;
    d.hidden_size = 3584;
    d.intermediate_size = 18944;
    d.num_hidden_layers = 28;
    d.num_attention_heads = 28;
    d.num_key_value_heads = 4;
    d.rms_norm_eps = 1e-6;
    d.rope_theta = 1000000.0;
    d.max_position_embeddings = 32768;
    d.tie_word_embeddings = false;
    return d;
}

void parseRope(const Reader& r, const json& rope, const char* key, TextModelConfig& t, const std::string& source) {
    if (rope.is_null()) return;
    XOPD_CHECK(rope.is_object(), "'" << source << "': " << r.where() << key << " must be an object or null");
    std::string type = "default";
    if (rope.contains("rope_type") && rope["rope_type"].is_string()) type = rope["rope_type"].get<std::string>();
    else if (rope.contains("type") && rope["type"].is_string()) type = rope["type"].get<std::string>();
    XOPD_CHECK(type == "default" || type == "mrope",
               "'" << source << "': " << r.where() << key << " has rope type '" << type
                   << "', which is not supported (only the default RoPE and M-RoPE)");
    if (rope.contains("mrope_section")) {
        Reader sub(rope, r.where() + key + ".", source);
        t.mrope_section = sub.integerList("mrope_section");
    }
}

// Qwen3MoeConfig's sparse-MLP keys, checked so that the decoder can trust them.
void parseMoe(const Reader& r, TextModelConfig& t, const std::string& source) {
    MixtureOfExperts& m = t.moe;
    const std::string at = "'" + source + "': " + r.where();
    // Files saved by transformers v5 spell it num_local_experts (docs/models/qwen3-moe.md).
    m.num_experts = r.present("num_experts") || !r.present("num_local_experts") ? r.positive("num_experts", m.num_experts)
                                                                               : r.positive("num_local_experts", m.num_experts);
    m.num_experts_per_tok = r.positive("num_experts_per_tok", m.num_experts_per_tok);
    XOPD_CHECK(m.num_experts_per_tok <= m.num_experts, at << "num_experts_per_tok " << m.num_experts_per_tok
                                                          << " is larger than num_experts " << m.num_experts);
    m.moe_intermediate_size = r.positive("moe_intermediate_size", m.moe_intermediate_size);
    m.norm_topk_prob = r.boolean("norm_topk_prob", m.norm_topk_prob);
    m.decoder_sparse_step = r.positive("decoder_sparse_step", m.decoder_sparse_step);
    m.mlp_only_layers = r.integerList("mlp_only_layers");
    for (size_t i = 0; i < m.mlp_only_layers.size(); ++i)
        XOPD_CHECK(m.mlp_only_layers[i] >= 0 && m.mlp_only_layers[i] < t.num_hidden_layers,
                   at << "mlp_only_layers[" << i << "] is " << m.mlp_only_layers[i] << ", not a layer of the "
                      << t.num_hidden_layers << " (num_hidden_layers)");
}

TextModelConfig parseText(const Reader& r, TextModelConfig t, const std::string& source) {
    t.model_type = r.string("model_type", "");
    t.vocab_size = r.positive("vocab_size", t.vocab_size);
    t.hidden_size = r.positive("hidden_size", t.hidden_size);
    t.intermediate_size = r.positive("intermediate_size", t.intermediate_size);
    t.num_hidden_layers = r.positive("num_hidden_layers", t.num_hidden_layers);
    t.num_attention_heads = r.positive("num_attention_heads", t.num_attention_heads);
    // §2.5: absent -> class default (not num_attention_heads); explicit null -> num_attention_heads.
    if (r.raw().contains("num_key_value_heads") && r.raw()["num_key_value_heads"].is_null())
        t.num_key_value_heads = t.num_attention_heads;
    else
        t.num_key_value_heads = r.positive("num_key_value_heads", t.num_key_value_heads);
    if (r.present("head_dim")) {
        t.head_dim = r.positive("head_dim", 0);
    } else if (t.qk_norm && t.head_dim > 0) {
        // Qwen3: the class default (128), not hidden_size / num_attention_heads.
    } else {
        XOPD_CHECK(t.hidden_size % t.num_attention_heads == 0,
                   "'" << source << "': " << r.where() << "hidden_size " << t.hidden_size
                       << " is not a multiple of num_attention_heads " << t.num_attention_heads);
        t.head_dim = t.hidden_size / t.num_attention_heads;
    }
    XOPD_CHECK(t.num_attention_heads % t.num_key_value_heads == 0,
               "'" << source << "': " << r.where() << "num_attention_heads " << t.num_attention_heads
                   << " is not a multiple of num_key_value_heads " << t.num_key_value_heads);
    t.hidden_act = r.string("hidden_act", t.hidden_act);
    t.rms_norm_eps = r.number("rms_norm_eps", t.rms_norm_eps);
    XOPD_CHECK(t.rms_norm_eps > 0, "'" << source << "': " << r.where() << "rms_norm_eps must be positive");
    const json& params = r.object("rope_parameters");
    if (r.present("rope_theta")) {
        t.rope_theta = r.number("rope_theta", t.rope_theta);
    } else if (params.contains("rope_theta")) {
        Reader p(params, r.where() + "rope_parameters.", source);
        t.rope_theta = p.number("rope_theta", t.rope_theta);
    }
    XOPD_CHECK(t.rope_theta > 0, "'" << source << "': " << r.where() << "rope_theta must be positive");
    if (r.raw().contains("rope_scaling")) parseRope(r, r.raw()["rope_scaling"], "rope_scaling", t, source);
    if (!params.empty()) parseRope(r, params, "rope_parameters", t, source);
    t.max_position_embeddings = r.positive("max_position_embeddings", t.max_position_embeddings);
    t.tie_word_embeddings = r.boolean("tie_word_embeddings", t.tie_word_embeddings);
    t.bos_token_id = r.optionalInteger("bos_token_id");
    t.eos_token_ids = r.integerList("eos_token_id");
    t.pad_token_id = r.optionalInteger("pad_token_id");
    t.dtype = r.string("torch_dtype", r.string("dtype", ""));
    XOPD_CHECK(!r.boolean("use_sliding_window", false),
               "'" << source << "': " << r.where()
                   << "use_sliding_window is true; sliding-window attention is not supported (official Qwen2, Qwen2.5 "
                      "and Qwen3 configs set it to false)");
    if (r.raw().contains("layer_types") && !r.raw()["layer_types"].is_null()) {
        const json& types = r.raw()["layer_types"];
        XOPD_CHECK(types.is_array(), "'" << source << "': " << r.where() << "layer_types must be a list");
        for (size_t i = 0; i < types.size(); ++i)
            XOPD_CHECK(types[i].is_string() && types[i].get<std::string>() == "full_attention",
                       "'" << source << "': " << r.where() << "layer_types[" << i << "] is " << types[i].dump()
                           << "; only full_attention layers are supported (no sliding window)");
    }
    if (t.qk_norm) {  // Qwen3: one switch for the biases of all four projections
        t.qkv_bias = t.o_bias = r.boolean("attention_bias", false);
    }
    if (t.moe.enabled()) parseMoe(r, t, source);
    return t;
}

AudioEncoderConfig parseAudio(const Reader& r, AudioEncoderConfig a, const std::string& source) {
    a.model_type = r.string("model_type", a.model_type);
    a.num_mel_bins = r.positive("num_mel_bins", a.num_mel_bins);
    a.encoder_layers = r.positive("encoder_layers", a.encoder_layers);
    a.encoder_attention_heads = r.positive("encoder_attention_heads", a.encoder_attention_heads);
    a.encoder_ffn_dim = r.positive("encoder_ffn_dim", a.encoder_ffn_dim);
    a.d_model = r.positive("d_model", a.d_model);
    a.max_source_positions = r.positive("max_source_positions", a.max_source_positions);
    a.n_window = r.integer("n_window", a.n_window);
    a.output_dim = r.integer("output_dim", a.output_dim);
    XOPD_CHECK(a.n_window >= 0 && a.output_dim >= 0,
               "'" << source << "': " << r.where() << "n_window and output_dim must not be negative");
    a.activation_function = r.string("activation_function", a.activation_function);
    a.downsample_hidden_size = r.integer("downsample_hidden_size", a.downsample_hidden_size);
    a.n_window_infer = r.integer("n_window_infer", a.n_window_infer);
    XOPD_CHECK(a.downsample_hidden_size >= 0 && a.n_window_infer >= 0,
               "'" << source << "': " << r.where() << "downsample_hidden_size and n_window_infer must not be negative");
    a.scale_embedding = r.boolean("scale_embedding", a.scale_embedding);
    XOPD_CHECK(a.d_model % a.encoder_attention_heads == 0,
               "'" << source << "': " << r.where() << "d_model " << a.d_model
                   << " is not a multiple of encoder_attention_heads " << a.encoder_attention_heads);
    return a;
}

// `<key>_index` (older files) or `<key>_id` (recent transformers).
std::optional<int64_t> idOf(const Reader& r, const char* index_key, const char* id_key, std::optional<int64_t> fallback) {
    if (r.present(index_key)) return r.integer(index_key, 0);
    if (r.present(id_key)) return r.integer(id_key, 0);
    return fallback;
}

// The token ids and M-RoPE timing of an Omni thinker config (Qwen2.5-Omni's and Qwen3-Omni's share
// the keys and the class defaults except the audio end id).
void parseThinkerIds(const Reader& thinker, ModelConfig& c, std::optional<int64_t> audio_end_default) {
    c.special.audio_token_id = idOf(thinker, "audio_token_index", "audio_token_id", 151646);
    c.special.image_token_id = idOf(thinker, "image_token_index", "image_token_id", 151655);
    c.special.video_token_id = idOf(thinker, "video_token_index", "video_token_id", 151656);
    c.special.audio_start_token_id = idOf(thinker, "audio_start_token_id", "audio_start_token_id", 151647);
    c.special.audio_end_token_id = idOf(thinker, "audio_end_token_id", "audio_end_token_id", audio_end_default);
    c.special.user_token_id = idOf(thinker, "user_token_id", "user_token_id", 872);
    c.special.ignore_index = idOf(thinker, "ignore_index", "ignore_index", std::nullopt);
    c.position_id_per_seconds = thinker.positive("position_id_per_seconds", 25);
    c.seconds_per_chunk = thinker.positive("seconds_per_chunk", 2);
}

void parseOmniThinker(const Reader& thinker, ModelConfig& c, const std::string& source) {
    c.text = parseText(Reader(thinker.object("text_config"), thinker.where() + "text_config.", source),
                       omniTextDefaults(), source);
    AudioEncoderConfig audio_defaults;
    audio_defaults.model_type = "qwen2_5_omni_audio_encoder";
    audio_defaults.n_window = 100;
    audio_defaults.output_dim = 3584;
    c.audio = parseAudio(Reader(thinker.object("audio_config"), thinker.where() + "audio_config.", source),
                         audio_defaults, source);
    parseThinkerIds(thinker, c, /*audio_end_default=*/151648);
}

// Qwen3OmniMoeThinkerConfig: a Qwen3-MoE text_config (with M-RoPE) and the AuT audio_config. The
// token ids differ from the class defaults in the real file, which is always read.
void parseQwen3OmniThinker(const Reader& thinker, ModelConfig& c, const std::string& source) {
    c.text = parseText(Reader(thinker.object("text_config"), thinker.where() + "text_config.", source),
                       qwen3OmniTextDefaults(), source);
    AudioEncoderConfig audio_defaults;
    audio_defaults.model_type = "qwen3_omni_moe_audio_encoder";
    audio_defaults.n_window = 50;
    audio_defaults.output_dim = 3584;
    audio_defaults.downsample_hidden_size = 480;
    audio_defaults.n_window_infer = 800;
    c.audio = parseAudio(Reader(thinker.object("audio_config"), thinker.where() + "audio_config.", source),
                         audio_defaults, source);
    parseThinkerIds(thinker, c, /*audio_end_default=*/std::nullopt);  // not a field of its class
}

}  // namespace

const char* architectureName(ModelArchitecture architecture) {
    switch (architecture) {
        case ModelArchitecture::Qwen2: return "qwen2";
        case ModelArchitecture::Qwen2Audio: return "qwen2-audio";
        case ModelArchitecture::Qwen25Omni: return "qwen2.5-omni";
        case ModelArchitecture::Qwen25OmniThinker: return "qwen2.5-omni-thinker";
        case ModelArchitecture::Qwen3: return "qwen3";
        case ModelArchitecture::Qwen3Moe: return "qwen3-moe";
        case ModelArchitecture::Qwen3OmniMoe: return "qwen3-omni";
        case ModelArchitecture::Unknown: break;
    }
    return "unknown";
}

std::vector<std::string> supportedModelTypes() {
    return {"qwen2", "qwen2_audio", "qwen2_5_omni", "qwen2_5_omni_thinker", "qwen3", "qwen3_moe", "qwen3_omni_moe"};
}

ModelConfig parseModelConfig(const nlohmann::json& j, const std::string& source) {
    XOPD_CHECK(j.is_object(), "'" << source << "': config must be a JSON object");
    const Reader top(j, "", source);
    ModelConfig c;
    c.source = source;
    c.model_type = top.string("model_type", "");
    if (top.present("architectures")) {
        XOPD_CHECK(j["architectures"].is_array(), "'" << source << "': architectures must be a list");
        for (const auto& a : j["architectures"]) {
            XOPD_CHECK(a.is_string(), "'" << source << "': architectures must hold strings");
            c.architectures.push_back(a.get<std::string>());
        }
    }
    if (c.model_type == "qwen2") {
        c.architecture = ModelArchitecture::Qwen2;
        c.text = parseText(top, qwen2TextDefaults(), source);
        c.weight_prefix = "";
    } else if (c.model_type == "qwen3") {
        c.architecture = ModelArchitecture::Qwen3;
        c.text = parseText(top, qwen3TextDefaults(), source);
        c.weight_prefix = "";
    } else if (c.model_type == "qwen3_moe") {
        c.architecture = ModelArchitecture::Qwen3Moe;
        c.text = parseText(top, qwen3MoeTextDefaults(), source);
        c.weight_prefix = "";
    } else if (c.model_type == "qwen3_omni_moe") {
        c.architecture = ModelArchitecture::Qwen3OmniMoe;
        parseQwen3OmniThinker(Reader(top.object("thinker_config"), "thinker_config.", source), c, source);
        c.weight_prefix = "thinker.";
    } else if (c.model_type == "qwen2_audio") {
        c.architecture = ModelArchitecture::Qwen2Audio;
        c.text = parseText(Reader(top.object("text_config"), "text_config.", source), qwen2TextDefaults(), source);
        AudioEncoderConfig audio_defaults;
        audio_defaults.model_type = "qwen2_audio_encoder";
        c.audio = parseAudio(Reader(top.object("audio_config"), "audio_config.", source), audio_defaults, source);
        c.special.audio_token_id = idOf(top, "audio_token_index", "audio_token_id", 151646);
        c.special.ignore_index = idOf(top, "ignore_index", "ignore_index", -100);
        if (!c.text.pad_token_id) c.text.pad_token_id = top.optionalInteger("pad_token_id");
        c.weight_prefix = "language_model.";
    } else if (c.model_type == "qwen2_5_omni") {
        c.architecture = ModelArchitecture::Qwen25Omni;
        parseOmniThinker(Reader(top.object("thinker_config"), "thinker_config.", source), c, source);
        c.weight_prefix = "thinker.";
    } else if (c.model_type == "qwen2_5_omni_thinker") {
        c.architecture = ModelArchitecture::Qwen25OmniThinker;
        parseOmniThinker(top, c, source);
        c.weight_prefix = "";
    } else {
        std::string supported;
        for (const auto& t : supportedModelTypes()) supported += (supported.empty() ? "" : ", ") + t;
        XOPD_FAIL("'" << source << "': model_type '" << c.model_type << "' is not supported (supported: " << supported
                      << ")");
    }
    return c;
}

ModelConfig loadModelConfig(const std::string& path) {
    std::string file = path;
    if (std::filesystem::is_directory(path)) file = (std::filesystem::path(path) / "config.json").string();
    return parseModelConfig(readJsonFile(file), file);
}

}  // namespace xopd
