#include "core/model/runtime/TinyModels.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/model/checkpoint/DecoderLayout.h"
#include "core/model/checkpoint/SafetensorsWriter.h"
#include "core/model/runtime/Qwen2Decoder.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <filesystem>
#include <unistd.h>

namespace xopd::model {

namespace {

/// The audio encoder sizes and the special ids both tiny Omni thinkers share.
void setTinyOmniAudio(ModelRuntimeConfig& c) {
    c.audio.num_mel_bins = 20;
    c.audio.d_model = 32;
    c.audio.encoder_attention_heads = 4;
    c.audio.encoder_ffn_dim = 32;
    c.audio.encoder_layers = 2;
    c.audio.max_source_positions = 1500;
    c.audio.output_dim = 32;
    c.tensor_prefix = "thinker.";
    c.audio_token_id = 1;
    c.image_token_id = 2;
    c.video_token_id = 3;
    c.audio_bos_token_id = 4;
    c.audio_eos_token_id = 5;
    c.modality_token_ids = {2, 3, 1, 4, 5};
}

}  // namespace

ModelRuntimeConfig tinyConfig(ModelKind kind) {
    ModelRuntimeConfig c;
    c.kind = kind;
    DecoderConfig& t = c.text;
    t.vocab_size = 99;
    t.hidden_size = 32;
    t.num_attention_heads = 4;
    t.num_key_value_heads = 2;
    t.head_dim = 8;
    t.rms_norm_eps = 1e-6;
    t.rope_theta = 1e6;
    t.hidden_act = "silu";
    t.bos_token_id = 1;
    t.eos_token_ids = {2};
    t.torch_dtype = "float32";
    switch (kind) {
        case ModelKind::Qwen2Text:
            t.intermediate_size = 37;
            t.num_hidden_layers = 5;
            t.max_position_embeddings = 512;
            break;
        case ModelKind::Qwen3Text:  // head_dim 16 != H / nH = 8, as Qwen3's head_dim is its own
            t.intermediate_size = 37;
            t.num_hidden_layers = 4;
            t.max_position_embeddings = 512;
            t.head_dim = 16;
            t.qk_norm = true;
            t.qkv_bias = t.o_bias = false;
            break;
        case ModelKind::Qwen3MoeText:  // 8 experts, top 2, layer 1 dense (mlp_only_layers)
            t.intermediate_size = 37;
            t.num_hidden_layers = 4;
            t.max_position_embeddings = 512;
            t.head_dim = 16;
            t.qk_norm = true;
            t.qkv_bias = t.o_bias = false;
            t.moe.num_experts = 8;
            t.moe.num_experts_per_tok = 2;
            t.moe.moe_intermediate_size = 12;
            t.moe.norm_topk_prob = true;
            t.moe.decoder_sparse_step = 1;
            t.moe.mlp_only_layers = {1};
            break;
        case ModelKind::Qwen3OmniThinker:  // the Qwen3-MoE text model above + a tiny AuT encoder
            t.intermediate_size = 37;
            t.num_hidden_layers = 3;
            t.max_position_embeddings = 1024;
            t.head_dim = 16;
            t.qk_norm = true;
            t.qkv_bias = t.o_bias = false;
            t.eos_token_ids = {6};
            t.moe.num_experts = 4;
            t.moe.num_experts_per_tok = 2;
            t.moe.moe_intermediate_size = 12;
            t.moe.norm_topk_prob = true;
            t.moe.decoder_sparse_step = 1;
            setTinyOmniAudio(c);
            c.audio.n_window = 50;         // chunks of 100 frames (1 s), 13 tokens each
            c.audio.n_window_infer = 200;  // attention windows of 2 chunks = 26 tokens
            c.audio.downsample_hidden_size = 8;
            break;
        case ModelKind::Qwen2Audio:
            t.intermediate_size = 36;
            t.num_hidden_layers = 2;
            t.max_position_embeddings = 52;
            t.rope_theta = 10000.0;
            c.audio.num_mel_bins = 80;
            c.audio.d_model = 16;
            c.audio.encoder_attention_heads = 4;
            c.audio.encoder_ffn_dim = 16;
            c.audio.encoder_layers = 2;
            c.audio.max_source_positions = 30;
            c.audio.n_window = 0;
            c.audio.output_dim = 0;
            c.tensor_prefix = "language_model.";
            c.audio_token_id = 0;
            c.modality_token_ids = {0};
            break;
        case ModelKind::Qwen25OmniThinker:
            t.intermediate_size = 37;
            t.num_hidden_layers = 4;
            t.max_position_embeddings = 1024;
            t.eos_token_ids = {6};
            setTinyOmniAudio(c);
            c.audio.n_window = 100;
            break;
        default: XOPD_FAIL("tinyConfig: invalid model kind");
    }
    return c;
}

namespace {

struct Filler {
    at::Generator gen;
    RandomWeightOptions o;
    TensorMap map;
    void normal(const std::string& name, std::vector<int64_t> shape, double std) {
        map[name] = (at::randn(shape, gen, torch::kFloat32) * std).to(o.dtype);
    }
    void norm(const std::string& name, int64_t n) { map[name] = (1.0 + at::randn({n}, gen, torch::kFloat32) * 0.1).to(o.dtype); }
    void linear(const std::string& name, int64_t out, int64_t in, bool bias) {
        normal(name + ".weight", {out, in}, o.std);
        if (bias) normal(name + ".bias", {out}, o.std / 2);
    }
    void whisperLayer(const std::string& p, int64_t d, int64_t ffn) {
        norm(p + "self_attn_layer_norm.weight", d);
        normal(p + "self_attn_layer_norm.bias", {d}, 0.05);
        linear(p + "self_attn.q_proj", d, d, true);
        linear(p + "self_attn.k_proj", d, d, false);
        linear(p + "self_attn.v_proj", d, d, true);
        linear(p + "self_attn.out_proj", d, d, true);
        norm(p + "final_layer_norm.weight", d);
        normal(p + "final_layer_norm.bias", {d}, 0.05);
        linear(p + "fc1", ffn, d, true);
        linear(p + "fc2", d, ffn, true);
    }
};

}  // namespace

TensorMap randomWeights(const ModelRuntimeConfig& c, const RandomWeightOptions& o) {
    Filler f{at::detail::createCPUGenerator(o.seed), o, {}};
    const DecoderConfig& t = c.text;
    const int64_t H = t.hidden_size;
    const std::string body = c.tensor_prefix + "model.";
    for (const auto& tensor : decoderTensors(decoderSize(t), !t.tie_word_embeddings)) {
        switch (tensor.role) {
            case DecoderTensorRole::Embedding: f.normal(body + tensor.name, tensor.shape, 1.0); break;
            case DecoderTensorRole::Norm: f.norm(body + tensor.name, tensor.shape[0]); break;
            case DecoderTensorRole::Weight: f.normal(body + tensor.name, tensor.shape, o.std); break;
            case DecoderTensorRole::Bias: f.normal(body + tensor.name, tensor.shape, o.std / 2); break;
            case DecoderTensorRole::Head: f.normal(c.tensor_prefix + tensor.name, tensor.shape, o.std); break;
            default: XOPD_ASSERT(false);
        }
    }
    const AudioTowerConfig& a = c.audio;
    if (c.kind == ModelKind::Qwen2Audio) {
        f.normal("audio_tower.conv1.weight", {a.d_model, a.num_mel_bins, 3}, o.std);
        f.normal("audio_tower.conv1.bias", {a.d_model}, o.std / 2);
        f.normal("audio_tower.conv2.weight", {a.d_model, a.d_model, 3}, o.std);
        f.normal("audio_tower.conv2.bias", {a.d_model}, o.std / 2);
        f.normal("audio_tower.embed_positions.weight", {a.max_source_positions, a.d_model}, 0.5);
        for (int64_t i = 0; i < a.encoder_layers; ++i)
            f.whisperLayer("audio_tower.layers." + std::to_string(i) + ".", a.d_model, a.encoder_ffn_dim);
        f.norm("audio_tower.layer_norm.weight", a.d_model);
        f.normal("audio_tower.layer_norm.bias", {a.d_model}, 0.05);
        f.linear("multi_modal_projector.linear", H, a.d_model, true);
    } else if (c.kind == ModelKind::Qwen25OmniThinker) {
        const std::string p = c.tensor_prefix + "audio_tower.";
        f.normal(p + "conv1.weight", {a.d_model, a.num_mel_bins, 3}, o.std);
        f.normal(p + "conv1.bias", {a.d_model}, o.std / 2);
        f.normal(p + "conv2.weight", {a.d_model, a.d_model, 3}, o.std);
        f.normal(p + "conv2.bias", {a.d_model}, o.std / 2);
        for (int64_t i = 0; i < a.encoder_layers; ++i)
            f.whisperLayer(p + "layers." + std::to_string(i) + ".", a.d_model, a.encoder_ffn_dim);
        f.norm(p + "ln_post.weight", a.d_model);
        f.normal(p + "ln_post.bias", {a.d_model}, 0.05);
        f.linear(p + "proj", a.output_dim, a.d_model, true);
        f.normal(p + "audio_bos_eos_token.weight", {2, a.output_dim}, o.std);  // unused by the forward (§4)
    } else if (c.kind == ModelKind::Qwen3OmniThinker) {  // AuT (AutAudioTower.h)
        const std::string p = c.tensor_prefix + "audio_tower.";
        const int64_t ch = a.downsample_hidden_size;
        for (int i = 1; i <= 3; ++i) {
            f.normal(p + "conv2d" + std::to_string(i) + ".weight", {ch, i == 1 ? 1 : ch, 3, 3}, o.std);
            f.normal(p + "conv2d" + std::to_string(i) + ".bias", {ch}, o.std / 2);
        }
        int64_t freq = a.num_mel_bins;
        for (int i = 0; i < 3; ++i) freq = (freq - 1) / 2 + 1;
        f.normal(p + "conv_out.weight", {a.d_model, ch * freq}, o.std);
        for (int64_t i = 0; i < a.encoder_layers; ++i) {
            const std::string l = p + "layers." + std::to_string(i) + ".";
            f.whisperLayer(l, a.d_model, a.encoder_ffn_dim);
            f.normal(l + "self_attn.k_proj.bias", {a.d_model}, o.std / 2);  // AuT keys are biased
        }
        f.norm(p + "ln_post.weight", a.d_model);
        f.normal(p + "ln_post.bias", {a.d_model}, 0.05);
        f.linear(p + "proj1", a.d_model, a.d_model, true);
        f.linear(p + "proj2", a.output_dim, a.d_model, true);
    }
    return f.map;
}

void writeModelFolder(const std::string& folder, const ModelRuntimeConfig& config, const TensorMap& weights,
                      uint64_t max_shard_bytes) {
    namespace fs = std::filesystem;
    fs::path target = fs::absolute(folder);
    fs::path tmp = target;
    tmp += ".tmp-" + std::to_string(::getpid());
    std::error_code ec;
    fs::remove_all(tmp, ec);
    XOPD_CHECK(fs::create_directories(tmp, ec) || fs::is_directory(tmp), "cannot create '" << tmp.string() << "': " << ec.message());
    try {
        std::vector<std::string> names;
        for (const auto& [n, t] : weights) names.push_back(n);
        std::sort(names.begin(), names.end());
        xopd::NamedTensors named;
        for (const auto& n : names) named.emplace_back(n, weights.at(n).contiguous());
        ModelRuntimeConfig c = config;
        for (const auto& [n, t] : weights) {
            c.text.torch_dtype = t.scalar_type() == torch::kBFloat16 ? "bfloat16"
                                 : t.scalar_type() == torch::kFloat16 ? "float16"
                                                                      : "float32";
            break;
        }
        xopd::writeJsonFileAtomic((tmp / "config.json").string(), toConfigJson(c));
        xopd::SafetensorsWriteOptions wo;
        wo.max_shard_bytes = max_shard_bytes;
        xopd::writeCheckpointWeights(tmp.string(), named, wo);
        if (fs::exists(target)) fs::remove_all(target);
        fs::rename(tmp, target);
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
}

ModelRuntimeConfig tinyChatConfig(ModelKind kind) {
    ModelRuntimeConfig c = tinyConfig(kind);
    c.text.vocab_size = TinyVocab::kRows;
    c.text.eos_token_ids = {TinyVocab::kImEnd, TinyVocab::kEndOfText};
    c.text.bos_token_id = -1;
    if (c.is_speech()) {
        c.audio_token_id = TinyVocab::kAudio;
        c.audio_bos_token_id = TinyVocab::kAudioBos;
        c.audio_eos_token_id = TinyVocab::kAudioEos;
        c.image_token_id = c.video_token_id = -1;
        c.modality_token_ids = {TinyVocab::kAudio, TinyVocab::kAudioBos, TinyVocab::kAudioEos};
        c.audio.num_mel_bins = 80;
    }
    return c;
}

namespace {
std::string utf8(uint32_t cp) {
    std::string s;
    if (cp < 0x80) s += static_cast<char>(cp);
    else if (cp < 0x800) {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        s += static_cast<char>(0xE0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
}
}  // namespace

void writeTinyTokenizer(const std::string& folder, bool qwen3_omni_audio_names) {
    using nlohmann::json;
    // bytes_to_unicode (spec §6.2 step 4): printable bytes map to themselves, the other 68 to U+0100 + n.
    std::vector<std::string> symbols;
    std::vector<bool> printable(256, false);
    for (int b = 33; b <= 126; ++b) printable[b] = true;
    for (int b = 161; b <= 172; ++b) printable[b] = true;
    for (int b = 174; b <= 255; ++b) printable[b] = true;
    for (int b = 0; b < 256; ++b)
        if (printable[b]) symbols.push_back(utf8(static_cast<uint32_t>(b)));
    int n = 0;
    for (int b = 0; b < 256; ++b)
        if (!printable[b]) symbols.push_back(utf8(0x100 + static_cast<uint32_t>(n++)));
    json vocab = json::object();
    for (size_t i = 0; i < symbols.size(); ++i) vocab[symbols[i]] = static_cast<int64_t>(i);
    const std::string G = utf8(0x120);  // 'Ġ' (space)
    vocab[G + "t"] = 256;
    vocab["he"] = 257;
    vocab[G + "the"] = 258;
    vocab["in"] = 259;
    json merges = json::array({G + " t", "h e", G + "t he", "i n"});
    const std::vector<std::pair<std::string, int64_t>> added = {
        {"<|endoftext|>", TinyVocab::kEndOfText}, {"<|im_start|>", TinyVocab::kImStart},
        {"<|im_end|>", TinyVocab::kImEnd},
        {qwen3_omni_audio_names ? "<|audio_pad|>" : "<|AUDIO|>", TinyVocab::kAudio},
        {qwen3_omni_audio_names ? "<|audio_start|>" : "<|audio_bos|>", TinyVocab::kAudioBos},
        {qwen3_omni_audio_names ? "<|audio_end|>" : "<|audio_eos|>", TinyVocab::kAudioEos}};
    json added_json = json::array(), decoder = json::object();
    for (const auto& [text, id] : added) {
        added_json.push_back({{"id", id}, {"content", text}, {"single_word", false}, {"lstrip", false},
                              {"rstrip", false}, {"normalized", false}, {"special", true}});
        decoder[std::to_string(id)] = {{"content", text}, {"lstrip", false}, {"normalized", false}, {"rstrip", false},
                                       {"single_word", false}, {"special", true}};
    }
    const std::string pattern =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
    json tok = {{"version", "1.0"},
                {"truncation", nullptr},
                {"padding", nullptr},
                {"added_tokens", added_json},
                {"normalizer", {{"type", "NFC"}}},
                {"pre_tokenizer",
                 {{"type", "Sequence"},
                  {"pretokenizers",
                   json::array({{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
                                byte_level})}}},
                {"post_processor", byte_level},
                {"decoder", byte_level},
                {"model",
                 {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""},
                  {"end_of_word_suffix", ""}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
                  {"vocab", vocab}, {"merges", merges}}}};
    xopd::writeFileAtomic(folder + "/tokenizer.json", tok.dump(1));
    xopd::writeJsonFileAtomic(folder + "/tokenizer_config.json",
                              {{"added_tokens_decoder", decoder},
                               {"eos_token", "<|im_end|>"},
                               {"pad_token", "<|endoftext|>"},
                               {"bos_token", nullptr},
                               {"model_max_length", 32768},
                               {"tokenizer_class", "Qwen2Tokenizer"}});
}

std::string buildTinyChatModel(const std::string& folder, ModelKind kind, const RandomWeightOptions& options,
                               uint64_t max_shard_bytes) {
    ModelRuntimeConfig c = tinyChatConfig(kind);
    writeModelFolder(folder, c, randomWeights(c, options), max_shard_bytes);
    writeTinyTokenizer(folder, kind == ModelKind::Qwen3OmniThinker);
    return folder;
}

std::string buildTinyModel(const std::string& folder, ModelKind kind, const RandomWeightOptions& options) {
    ModelRuntimeConfig c = tinyConfig(kind);
    writeModelFolder(folder, c, randomWeights(c, options));
    return folder;
}

}  // namespace xopd::model
