#include "core/model/runtime/RuntimeConfig.h"

#include "core/common/Error.h"

namespace xopd::model {

namespace {
using nlohmann::json;

/// The keys a Qwen3-MoE text config (and Qwen3-Omni's text_config) adds to the Qwen2 ones.
void addQwen3MoeKeys(json& text, const DecoderConfig& t) {
    const MixtureOfExperts& m = t.moe;
    text["head_dim"] = t.head_dim;
    text["attention_bias"] = t.qkv_bias;
    text["num_experts"] = m.num_experts;
    text["num_experts_per_tok"] = m.num_experts_per_tok;
    text["moe_intermediate_size"] = m.moe_intermediate_size;
    text["norm_topk_prob"] = m.norm_topk_prob;
    text["decoder_sparse_step"] = m.decoder_sparse_step;
    text["mlp_only_layers"] = m.mlp_only_layers;
    text["output_router_logits"] = false;
    text["router_aux_loss_coef"] = 0.001;
}
}  // namespace

std::string modelKindName(ModelKind kind) {
    switch (kind) {
        case ModelKind::Qwen2Text: return "qwen2";
        case ModelKind::Qwen2Audio: return "qwen2_audio";
        case ModelKind::Qwen25OmniThinker: return "qwen2_5_omni_thinker";
        case ModelKind::Qwen3Text: return "qwen3";
        case ModelKind::Qwen3MoeText: return "qwen3_moe";
        case ModelKind::Qwen3OmniThinker: return "qwen3_omni_thinker";
        default: return "invalid";
    }
}

ModelRuntimeConfig runtimeConfigFrom(const xopd::ModelConfig& m) {
    ModelRuntimeConfig c;
    switch (m.architecture) {
        case ModelArchitecture::Qwen2: c.kind = ModelKind::Qwen2Text; break;
        case ModelArchitecture::Qwen3: c.kind = ModelKind::Qwen3Text; break;
        case ModelArchitecture::Qwen3Moe: c.kind = ModelKind::Qwen3MoeText; break;
        case ModelArchitecture::Qwen2Audio: c.kind = ModelKind::Qwen2Audio; break;
        case ModelArchitecture::Qwen25Omni:
        case ModelArchitecture::Qwen25OmniThinker: c.kind = ModelKind::Qwen25OmniThinker; break;
        case ModelArchitecture::Qwen3OmniMoe: c.kind = ModelKind::Qwen3OmniThinker; break;
        default: XOPD_FAIL(m.source << ": unsupported model architecture");
    }
    const TextModelConfig& t = m.text;
    c.text.vocab_size = t.vocab_size;
    c.text.hidden_size = t.hidden_size;
    c.text.intermediate_size = t.intermediate_size;
    c.text.num_hidden_layers = t.num_hidden_layers;
    c.text.num_attention_heads = t.num_attention_heads;
    c.text.num_key_value_heads = t.num_key_value_heads;
    c.text.head_dim = t.head_dim;
    c.text.rms_norm_eps = t.rms_norm_eps;
    c.text.rope_theta = t.rope_theta;
    c.text.max_position_embeddings = t.max_position_embeddings;
    c.text.tie_word_embeddings = t.tie_word_embeddings;
    c.text.hidden_act = t.hidden_act;
    c.text.qkv_bias = t.qkv_bias;
    c.text.o_bias = t.o_bias;
    c.text.qk_norm = t.qk_norm;
    c.text.moe = t.moe;
    XOPD_CHECK(t.hidden_act == "silu" || t.hidden_act == "gelu" || t.hidden_act == "gelu_pytorch_tanh",
               m.source << ": hidden_act '" << t.hidden_act << "' is not supported (silu, gelu, gelu_pytorch_tanh)");
    XOPD_CHECK(t.head_dim % 2 == 0, m.source << ": head_dim " << t.head_dim << " must be even for RoPE");
    c.text.bos_token_id = t.bos_token_id.value_or(-1);
    c.text.eos_token_ids = t.eos_token_ids;
    c.text.torch_dtype = t.dtype.empty() ? "float32" : t.dtype;
    c.tensor_prefix = m.weight_prefix;
    if (m.audio) {
        const AudioEncoderConfig& a = *m.audio;
        c.audio.num_mel_bins = a.num_mel_bins;
        c.audio.d_model = a.d_model;
        c.audio.encoder_layers = a.encoder_layers;
        c.audio.encoder_attention_heads = a.encoder_attention_heads;
        c.audio.encoder_ffn_dim = a.encoder_ffn_dim;
        c.audio.max_source_positions = a.max_source_positions;
        c.audio.n_window = a.n_window > 0 ? a.n_window : 100;
        c.audio.output_dim = a.output_dim > 0 ? a.output_dim : t.hidden_size;
        c.audio.activation_function = a.activation_function;
        c.audio.downsample_hidden_size = a.downsample_hidden_size;
        c.audio.n_window_infer = a.n_window_infer;
        XOPD_CHECK(a.activation_function == "gelu",
                   m.source << ": audio activation_function '" << a.activation_function << "' is not supported (gelu)");
        XOPD_CHECK(a.encoder_attention_heads > 0 && a.d_model % a.encoder_attention_heads == 0,
                   m.source << ": audio d_model " << a.d_model << " is not a multiple of the heads");
    }
    const SpecialTokenIds& s = m.special;
    c.audio_token_id = s.audio_token_id.value_or(c.is_speech() ? 151646 : -1);
    c.audio_bos_token_id = s.audio_start_token_id.value_or(-1);
    c.audio_eos_token_id = s.audio_end_token_id.value_or(-1);
    c.image_token_id = s.image_token_id.value_or(-1);
    c.video_token_id = s.video_token_id.value_or(-1);
    for (int64_t id : {c.image_token_id, c.video_token_id})
        if (id >= 0) c.modality_token_ids.push_back(id);
    if (c.is_speech())
        for (int64_t id : {c.audio_token_id, c.audio_bos_token_id, c.audio_eos_token_id})
            if (id >= 0) c.modality_token_ids.push_back(id);
    return c;
}

nlohmann::json toConfigJson(const ModelRuntimeConfig& c) {
    json text = {{"vocab_size", c.text.vocab_size},
                 {"hidden_size", c.text.hidden_size},
                 {"intermediate_size", c.text.intermediate_size},
                 {"num_hidden_layers", c.text.num_hidden_layers},
                 {"num_attention_heads", c.text.num_attention_heads},
                 {"num_key_value_heads", c.text.num_key_value_heads},
                 {"rms_norm_eps", c.text.rms_norm_eps},
                 {"rope_theta", c.text.rope_theta},
                 {"max_position_embeddings", c.text.max_position_embeddings},
                 {"tie_word_embeddings", c.text.tie_word_embeddings},
                 {"hidden_act", c.text.hidden_act},
                 {"use_sliding_window", false},
                 {"sliding_window", nullptr},
                 {"rope_scaling", nullptr},
                 {"torch_dtype", c.text.torch_dtype}};
    if (c.text.head_dim != c.text.hidden_size / c.text.num_attention_heads) text["head_dim"] = c.text.head_dim;
    if (c.text.bos_token_id >= 0) text["bos_token_id"] = c.text.bos_token_id;
    if (c.text.eos_token_ids.size() == 1) text["eos_token_id"] = c.text.eos_token_ids[0];
    else if (!c.text.eos_token_ids.empty()) text["eos_token_id"] = c.text.eos_token_ids;
    json audio = {{"num_mel_bins", c.audio.num_mel_bins},
                  {"d_model", c.audio.d_model},
                  {"encoder_layers", c.audio.encoder_layers},
                  {"encoder_attention_heads", c.audio.encoder_attention_heads},
                  {"encoder_ffn_dim", c.audio.encoder_ffn_dim},
                  {"max_source_positions", c.audio.max_source_positions},
                  {"activation_function", c.audio.activation_function},
                  {"scale_embedding", false}};
    switch (c.kind) {
        case ModelKind::Qwen2Text:
            text["architectures"] = {"Qwen2ForCausalLM"};
            text["model_type"] = "qwen2";
            return text;
        case ModelKind::Qwen3Text:
            XOPD_CHECK(c.text.qk_norm && c.text.qkv_bias == c.text.o_bias,
                       "toConfigJson: a Qwen3 decoder has q/k norms and one attention_bias for all projections");
            text["architectures"] = {"Qwen3ForCausalLM"};
            text["model_type"] = "qwen3";
            text["head_dim"] = c.text.head_dim;  // Qwen3's default is 128, not H / nH: always written
            text["attention_bias"] = c.text.qkv_bias;
            text["layer_types"] = json::array();
            for (int64_t i = 0; i < c.text.num_hidden_layers; ++i) text["layer_types"].push_back("full_attention");
            return text;
        case ModelKind::Qwen3MoeText: {
            XOPD_CHECK(c.text.qk_norm && c.text.qkv_bias == c.text.o_bias && c.text.moe.enabled(),
                       "toConfigJson: a Qwen3-MoE decoder has q/k norms, one attention_bias and experts");
            text["architectures"] = {"Qwen3MoeForCausalLM"};
            text["model_type"] = "qwen3_moe";
            addQwen3MoeKeys(text, c.text);
            return text;
        }
        case ModelKind::Qwen2Audio: {
            text["model_type"] = "qwen2";
            audio["model_type"] = "qwen2_audio_encoder";
            json j = {{"architectures", {"Qwen2AudioForConditionalGeneration"}},
                      {"model_type", "qwen2_audio"},
                      {"text_config", text},
                      {"audio_config", audio},
                      {"audio_token_index", c.audio_token_id},
                      {"vocab_size", c.text.vocab_size},
                      {"torch_dtype", c.text.torch_dtype}};
            if (c.audio_bos_token_id >= 0) j["audio_bos_token_id"] = c.audio_bos_token_id;
            if (c.audio_eos_token_id >= 0) j["audio_eos_token_id"] = c.audio_eos_token_id;
            return j;
        }
        case ModelKind::Qwen25OmniThinker: {
            text["model_type"] = "qwen2_5_omni_text";
            audio["model_type"] = "qwen2_5_omni_audio_encoder";
            audio["n_window"] = c.audio.n_window;
            audio["output_dim"] = c.audio.output_dim;
            json thinker = {{"model_type", "qwen2_5_omni_thinker"},
                            {"text_config", text},
                            {"audio_config", audio},
                            {"audio_token_index", c.audio_token_id}};
            if (c.audio_bos_token_id >= 0) thinker["audio_start_token_id"] = c.audio_bos_token_id;
            if (c.audio_eos_token_id >= 0) thinker["audio_end_token_id"] = c.audio_eos_token_id;
            if (c.image_token_id >= 0) thinker["image_token_index"] = c.image_token_id;
            if (c.video_token_id >= 0) thinker["video_token_index"] = c.video_token_id;
            if (c.tensor_prefix.empty()) {
                thinker["architectures"] = {"Qwen2_5OmniThinkerForConditionalGeneration"};
                return thinker;
            }
            return json{{"architectures", {"Qwen2_5OmniModel"}},
                        {"model_type", "qwen2_5_omni"},
                        {"enable_audio_output", false},
                        {"thinker_config", thinker},
                        {"torch_dtype", c.text.torch_dtype}};
        }
        case ModelKind::Qwen3OmniThinker: {  // the layout of Qwen3-Omni-30B-A3B-Instruct's config.json
            text["model_type"] = "qwen3_omni_moe_text";
            addQwen3MoeKeys(text, c.text);
            text["rope_scaling"] = {{"interleaved", true}, {"mrope_interleaved", true},
                                    {"mrope_section", {c.text.head_dim / 2 - 2 * (c.text.head_dim / 8), c.text.head_dim / 8,
                                                       c.text.head_dim / 8}},
                                    {"rope_type", "default"}, {"type", "default"}};
            audio["model_type"] = "qwen3_omni_moe_audio_encoder";
            audio["n_window"] = c.audio.n_window;
            audio["n_window_infer"] = c.audio.n_window_infer;
            audio["downsample_hidden_size"] = c.audio.downsample_hidden_size;
            audio["output_dim"] = c.audio.output_dim;
            audio["conv_chunksize"] = 500;
            json thinker = {{"model_type", "qwen3_omni_moe_thinker"},
                            {"text_config", text},
                            {"audio_config", audio},
                            {"audio_token_id", c.audio_token_id},
                            {"position_id_per_seconds", 13},
                            {"seconds_per_chunk", 2}};
            if (c.audio_bos_token_id >= 0) thinker["audio_start_token_id"] = c.audio_bos_token_id;
            if (c.audio_eos_token_id >= 0) thinker["audio_end_token_id"] = c.audio_eos_token_id;
            if (c.image_token_id >= 0) thinker["image_token_id"] = c.image_token_id;
            if (c.video_token_id >= 0) thinker["video_token_id"] = c.video_token_id;
            return json{{"architectures", {"Qwen3OmniMoeForConditionalGeneration"}},
                        {"model_type", "qwen3_omni_moe"},
                        {"enable_audio_output", false},
                        {"thinker_config", thinker},
                        {"torch_dtype", c.text.torch_dtype}};
        }
        default: XOPD_FAIL("toConfigJson: invalid model kind");
    }
}

}  // namespace xopd::model
