// ModelConfig: config.json of each supported family (real-model files and the tiny test configs),
// the class defaults of §2.5, errors that name the file, and tensor-name layout resolution and shape
// validation (CheckpointLayout).
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/model/checkpoint/CheckpointLayout.h"
#include "core/model/checkpoint/ModelConfig.h"
#include "tests/core/checkpoint/TinyCheckpoint.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <set>

using nlohmann::json;
using xopd::ModelArchitecture;
using xopd::ModelConfig;

namespace {

std::string data(const char* name) { return xopd::test::testData(QString("checkpoint/") + name).toStdString(); }

void expectError(const json& j, const QStringList& parts) {
    try {
        xopd::parseModelConfig(j, "/models/x/config.json");
        QFAIL(qPrintable("no error for " + QString::fromStdString(j.dump())));
    } catch (const xopd::Error& e) {
        const QString msg = e.what();
        QVERIFY2(msg.contains("/models/x/config.json"), qPrintable(msg));
        for (const auto& p : parts) QVERIFY2(msg.contains(p), qPrintable("missing '" + p + "' in: " + msg));
    }
}

}  // namespace

class TestModelConfig : public QObject {
    Q_OBJECT
private slots:
    void qwen25HalfBillion() {
        const ModelConfig c = xopd::loadModelConfig(data("qwen2.5-0.5b-instruct.config.json"));
        QCOMPARE(c.architecture, ModelArchitecture::Qwen2);
        QCOMPARE(c.weight_prefix, std::string(""));
        QVERIFY(!c.hasAudio());
        QCOMPARE(c.text.hidden_size, int64_t{896});
        QCOMPARE(c.text.num_hidden_layers, int64_t{24});
        QCOMPARE(c.text.num_attention_heads, int64_t{14});
        QCOMPARE(c.text.num_key_value_heads, int64_t{2});
        QCOMPARE(c.text.head_dim, int64_t{64});
        QCOMPARE(c.text.intermediate_size, int64_t{4864});
        QCOMPARE(c.text.vocab_size, int64_t{151936});
        QCOMPARE(c.text.rope_theta, 1e6);
        QCOMPARE(c.text.rms_norm_eps, 1e-6);
        QVERIFY(c.text.tie_word_embeddings);
        QCOMPARE(c.text.eos_token_ids, std::vector<int64_t>{151645});
        QCOMPARE(c.text.bos_token_id.value(), int64_t{151643});
        QCOMPARE(c.text.dtype, std::string("bfloat16"));
        QCOMPARE(c.architectures, std::vector<std::string>{"Qwen2ForCausalLM"});
    }

    void qwen2Defaults() {
        // §2.5: absent num_key_value_heads is the Qwen2Config default 32, not num_attention_heads.
        // 64 heads so that both readings give a valid GQA config (64 % 32 == 0) and only the value
        // tells them apart (16 heads with 32 KV heads is no valid model and is rightly rejected).
        const ModelConfig c = xopd::parseModelConfig({{"model_type", "qwen2"}, {"num_attention_heads", 64},
                                                      {"hidden_size", 4096}}, "cfg");
        QCOMPARE(c.text.num_key_value_heads, int64_t{32});
        QCOMPARE(c.text.head_dim, int64_t{64});
        // The same short config with the absent default is rejected, naming both counts.
        try {
            xopd::parseModelConfig({{"model_type", "qwen2"}, {"num_attention_heads", 16}, {"hidden_size", 1024}}, "cfg");
            QFAIL("16 heads with the default 32 KV heads accepted");
        } catch (const xopd::Error& e) {
            QVERIFY2(QString(e.what()).contains("num_key_value_heads 32"), e.what());
        }
        const ModelConfig d = xopd::parseModelConfig({{"model_type", "qwen2"}}, "cfg");
        QCOMPARE(d.text.vocab_size, int64_t{151936});
        QCOMPARE(d.text.hidden_size, int64_t{4096});
        QCOMPARE(d.text.intermediate_size, int64_t{22016});
        QCOMPARE(d.text.num_hidden_layers, int64_t{32});
        QCOMPARE(d.text.num_attention_heads, int64_t{32});
        QCOMPARE(d.text.num_key_value_heads, int64_t{32});
        QCOMPARE(d.text.head_dim, int64_t{128});
        QCOMPARE(d.text.rope_theta, 10000.0);
        QCOMPARE(d.text.rms_norm_eps, 1e-6);
        QCOMPARE(d.text.max_position_embeddings, int64_t{32768});
        QVERIFY(!d.text.tie_word_embeddings);
        QVERIFY(d.text.eos_token_ids.empty());
        QVERIFY(!d.text.bos_token_id);
    }

    void explicitNullKvHeadsMeansMha() {
        const ModelConfig c = xopd::parseModelConfig(
            {{"model_type", "qwen2"}, {"num_attention_heads", 8}, {"hidden_size", 256}, {"num_key_value_heads", nullptr}},
            "cfg");
        QCOMPARE(c.text.num_key_value_heads, int64_t{8});
    }

    void headDimRopeParametersAndEosList() {
        const ModelConfig c = xopd::parseModelConfig({{"model_type", "qwen2"},
                                                      {"hidden_size", 100},
                                                      {"num_attention_heads", 4},
                                                      {"num_key_value_heads", 2},
                                                      {"head_dim", 32},
                                                      {"rope_parameters", {{"rope_theta", 5e5}, {"rope_type", "default"}}},
                                                      {"eos_token_id", {151645, 151643}},
                                                      {"dtype", "float16"}},
                                                     "cfg");
        QCOMPARE(c.text.head_dim, int64_t{32});
        QCOMPARE(c.text.rope_theta, 5e5);
        QCOMPARE(c.text.eos_token_ids, (std::vector<int64_t>{151645, 151643}));
        QCOMPARE(c.text.dtype, std::string("float16"));
    }

    void qwen2AudioSevenB() {
        const ModelConfig c = xopd::loadModelConfig(data("qwen2-audio-7b-instruct.config.json"));
        QCOMPARE(c.architecture, ModelArchitecture::Qwen2Audio);
        QCOMPARE(c.weight_prefix, std::string("language_model."));
        // text_config omits these: Qwen2Config defaults (§1, §3.1).
        QCOMPARE(c.text.hidden_size, int64_t{4096});
        QCOMPARE(c.text.num_hidden_layers, int64_t{32});
        QCOMPARE(c.text.num_attention_heads, int64_t{32});
        QCOMPARE(c.text.num_key_value_heads, int64_t{32});
        QCOMPARE(c.text.intermediate_size, int64_t{11008});
        QCOMPARE(c.text.vocab_size, int64_t{156032});
        QCOMPARE(c.text.rope_theta, 10000.0);
        QCOMPARE(c.text.rms_norm_eps, 1e-5);
        QCOMPARE(c.text.max_position_embeddings, int64_t{8192});
        QVERIFY(c.hasAudio());
        QCOMPARE(c.audio->d_model, int64_t{1280});
        QCOMPARE(c.audio->encoder_layers, int64_t{32});
        QCOMPARE(c.audio->encoder_attention_heads, int64_t{20});
        QCOMPARE(c.audio->encoder_ffn_dim, int64_t{5120});
        QCOMPARE(c.audio->num_mel_bins, int64_t{128});
        QCOMPARE(c.audio->max_source_positions, int64_t{1500});
        QCOMPARE(c.audio->n_window, int64_t{0});
        QCOMPARE(c.audio->activation_function, std::string("gelu"));
        QCOMPARE(c.special.audio_token_id.value(), int64_t{151646});
        QCOMPARE(c.special.ignore_index.value(), int64_t{-100});
    }

    void qwen25OmniSevenB() {
        const ModelConfig c = xopd::loadModelConfig(data("qwen2.5-omni-7b.config.json"));
        QCOMPARE(c.architecture, ModelArchitecture::Qwen25Omni);
        QCOMPARE(c.weight_prefix, std::string("thinker."));
        QCOMPARE(c.text.hidden_size, int64_t{3584});
        QCOMPARE(c.text.num_hidden_layers, int64_t{28});
        QCOMPARE(c.text.num_attention_heads, int64_t{28});
        QCOMPARE(c.text.num_key_value_heads, int64_t{4});
        QCOMPARE(c.text.intermediate_size, int64_t{18944});
        QCOMPARE(c.text.vocab_size, int64_t{152064});
        QCOMPARE(c.text.rope_theta, 1e6);
        QCOMPARE(c.text.mrope_section, (std::vector<int64_t>{16, 24, 24}));
        QCOMPARE(c.audio->n_window, int64_t{100});
        QCOMPARE(c.audio->output_dim, int64_t{3584});
        QCOMPARE(c.special.audio_token_id.value(), int64_t{151646});
        QCOMPARE(c.special.audio_start_token_id.value(), int64_t{151647});
        QCOMPARE(c.special.audio_end_token_id.value(), int64_t{151648});
        QCOMPARE(c.special.user_token_id.value(), int64_t{872});
        QCOMPARE(c.position_id_per_seconds, int64_t{25});
    }

    void omniDefaultsWhenBlocksAreEmpty() {
        const ModelConfig c = xopd::parseModelConfig({{"model_type", "qwen2_5_omni"}, {"thinker_config", json::object()}}, "cfg");
        QCOMPARE(c.text.hidden_size, int64_t{3584});
        QCOMPARE(c.text.num_key_value_heads, int64_t{4});
        QCOMPARE(c.text.rms_norm_eps, 1e-6);
        QCOMPARE(c.audio->d_model, int64_t{1280});
        QCOMPARE(c.audio->output_dim, int64_t{3584});
        QCOMPARE(c.special.video_token_id.value(), int64_t{151656});
    }

    void tinyConfigs() {
        const ModelConfig q = xopd::loadModelConfig(data("tiny-qwen2.config.json"));
        QCOMPARE(q.text.head_dim, int64_t{8});
        QCOMPARE(q.text.eos_token_ids, (std::vector<int64_t>{2, 3}));
        QCOMPARE(q.text.pad_token_id.value(), int64_t{0});
        const ModelConfig a = xopd::loadModelConfig(data("tiny-qwen2-audio.config.json"));
        QCOMPARE(a.audio->num_mel_bins, int64_t{80});
        QCOMPARE(a.audio->max_source_positions, int64_t{30});
        QCOMPARE(a.special.audio_token_id.value(), int64_t{0});
        const ModelConfig o = xopd::loadModelConfig(data("tiny-qwen2.5-omni-thinker.config.json"));
        QCOMPARE(o.architecture, ModelArchitecture::Qwen25OmniThinker);
        QCOMPARE(o.weight_prefix, std::string(""));
        QCOMPARE(o.text.num_hidden_layers, int64_t{4});
        QCOMPARE(o.audio->output_dim, int64_t{32});
        QCOMPARE(o.special.audio_end_token_id.value(), int64_t{5});
    }

    void errorsNameTheFile() {
        expectError({{"model_type", "llama"}}, {"'llama'", "qwen2", "qwen2_audio", "qwen2_5_omni", "qwen2_5_omni_thinker"});
        expectError(json::object(), {"model_type ''", "supported"});
        expectError({{"model_type", "qwen2"}, {"use_sliding_window", true}}, {"use_sliding_window"});
        expectError({{"model_type", "qwen2_audio"}, {"text_config", {{"use_sliding_window", true}}}},
                    {"text_config.use_sliding_window"});
        expectError({{"model_type", "qwen2"}, {"hidden_size", "big"}}, {"hidden_size", "integer"});
        expectError({{"model_type", "qwen2"}, {"num_hidden_layers", 0}}, {"num_hidden_layers", "positive"});
        expectError({{"model_type", "qwen2"}, {"hidden_size", 100}, {"num_attention_heads", 3}}, {"multiple"});
        expectError({{"model_type", "qwen2"}, {"num_attention_heads", 32}, {"num_key_value_heads", 5}}, {"num_key_value_heads"});
        expectError({{"model_type", "qwen2"}, {"rope_scaling", {{"rope_type", "yarn"}, {"factor", 4}}}}, {"yarn"});
        expectError({{"model_type", "qwen2_5_omni"}, {"thinker_config", {{"audio_config", {{"d_model", -1}}}}}},
                    {"thinker_config.audio_config.d_model"});
        expectError({{"model_type", "qwen2"}, {"eos_token_id", "x"}}, {"eos_token_id"});
        QVERIFY_THROWS_EXCEPTION(xopd::Error, xopd::loadModelConfig("/nonexistent/folder"));
    }

    void layoutSpellings() {
        const ModelConfig a = xopd::loadModelConfig(data("tiny-qwen2-audio.config.json"));
        // Hub spelling.
        std::set<std::string> hub = {"language_model.model.embed_tokens.weight", "language_model.lm_head.weight",
                                     "audio_tower.conv1.weight", "multi_modal_projector.linear.weight"};
        auto l = xopd::resolveCheckpointLayout(a, [&](const std::string& n) { return hub.count(n) > 0; }, "ckpt");
        QCOMPARE(l.decoder_prefix, std::string("language_model.model."));
        QCOMPARE(l.lm_head, std::string("language_model.lm_head.weight"));
        QVERIFY(!l.lm_head_tied);
        QCOMPARE(l.audio_tower_prefix, std::string("audio_tower."));
        QCOMPARE(l.projector_prefix, std::string("multi_modal_projector."));
        // Recent transformers spelling, no lm_head: tied fallback to the embedding.
        std::set<std::string> recent = {"model.language_model.embed_tokens.weight", "model.audio_tower.conv1.weight",
                                        "model.multi_modal_projector.linear.weight"};
        l = xopd::resolveCheckpointLayout(a, [&](const std::string& n) { return recent.count(n) > 0; }, "ckpt");
        QCOMPARE(l.decoder_prefix, std::string("model.language_model."));
        QVERIFY(l.lm_head_tied);
        QCOMPARE(l.lm_head, std::string("model.language_model.embed_tokens.weight"));
        QCOMPARE(l.audio_tower_prefix, std::string("model.audio_tower."));
        // Nothing there: the error names the checkpoint and the names tried.
        try {
            xopd::resolveCheckpointLayout(a, [](const std::string&) { return false; }, "/ckpt/dir");
            QFAIL("no error");
        } catch (const xopd::Error& e) {
            QVERIFY2(QString(e.what()).contains("/ckpt/dir") &&
                         QString(e.what()).contains("language_model.model.embed_tokens.weight"),
                     e.what());
        }
        // A speech model without its tower.
        std::set<std::string> text_only = {"language_model.model.embed_tokens.weight"};
        QVERIFY_THROWS_EXCEPTION(xopd::Error, xopd::resolveCheckpointLayout(
                                                  a, [&](const std::string& n) { return text_only.count(n) > 0; }, "c"));
        // Omni: thinker.* names.
        const ModelConfig o = xopd::loadModelConfig(data("qwen2.5-omni-7b.config.json"));
        std::set<std::string> omni = {"thinker.model.embed_tokens.weight", "thinker.lm_head.weight",
                                      "thinker.audio_tower.conv1.weight", "thinker.audio_tower.proj.weight"};
        l = xopd::resolveCheckpointLayout(o, [&](const std::string& n) { return omni.count(n) > 0; }, "c");
        QCOMPARE(l.decoder_prefix, std::string("thinker.model."));
        QCOMPARE(l.lm_head, std::string("thinker.lm_head.weight"));
        QCOMPARE(l.audio_tower_prefix, std::string("thinker.audio_tower."));
        QVERIFY(l.projector_prefix.empty());
    }

    // Qwen3 dense (configuration_qwen3.py): head_dim is its own key with the class default 128, the
    // four projections share attention_bias (default false), q/k are normed; what we do not
    // implement (a sliding window, a RoPE type other than default) is refused with the file and key.
    void qwen3Dense() {
        const json qwen3_8b = {{"architectures", {"Qwen3ForCausalLM"}}, {"model_type", "qwen3"}, {"hidden_size", 4096},
                               {"intermediate_size", 12288}, {"num_hidden_layers", 36}, {"num_attention_heads", 32},
                               {"num_key_value_heads", 8}, {"head_dim", 128}, {"rms_norm_eps", 1e-6},
                               {"rope_theta", 1000000}, {"max_position_embeddings", 40960}, {"vocab_size", 151936},
                               {"tie_word_embeddings", false}, {"attention_bias", false}, {"use_sliding_window", false},
                               {"sliding_window", nullptr}, {"max_window_layers", 36}, {"torch_dtype", "bfloat16"}};
        const ModelConfig c = xopd::parseModelConfig(qwen3_8b, "q3.json");
        QCOMPARE(int(c.architecture), int(ModelArchitecture::Qwen3));
        QCOMPARE(c.text.head_dim, int64_t(128));
        QVERIFY(c.text.qk_norm && !c.text.qkv_bias && !c.text.o_bias);
        QCOMPARE(c.text.rope_theta, 1e6);
        QVERIFY(!c.hasAudio());

        json small = {{"model_type", "qwen3"}, {"hidden_size", 1024}, {"num_attention_heads", 16},
                      {"num_key_value_heads", nullptr}, {"attention_bias", true}};
        const ModelConfig s = xopd::parseModelConfig(small, "q3.json");
        QCOMPARE(s.text.head_dim, int64_t(128));  // not 1024 / 16 = 64: Qwen3's head_dim is its own
        QCOMPARE(s.text.num_key_value_heads, int64_t(16));  // explicit null: num_attention_heads
        QVERIFY(s.text.qkv_bias && s.text.o_bias);

        json sliding = qwen3_8b;
        sliding["use_sliding_window"] = true;
        expectError(sliding, {"use_sliding_window"});
        json types = qwen3_8b;
        types["layer_types"] = json::array();
        for (int i = 0; i < 36; ++i) types["layer_types"].push_back(i < 30 ? "full_attention" : "sliding_attention");
        expectError(types, {"layer_types[30]", "sliding_attention"});
        json yarn = qwen3_8b;
        yarn["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
        expectError(yarn, {"rope_scaling", "yarn"});
        json params = qwen3_8b;
        params.erase("rope_theta");
        params["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 5e6}};
        QCOMPARE(xopd::parseModelConfig(params, "q3.json").text.rope_theta, 5e6);
    }

    // Qwen3-MoE (configuration_qwen3_moe.py) from the real Qwen3-30B-A3B-Instruct-2507 and
    // Qwen3-235B-A22B-Instruct-2507 files (tests/data/model-configs), then malformed variants, each
    // named by file and key.
    void qwen3Moe() {
        const std::string a3b = xopd::test::testData("model-configs/Qwen3-30B-A3B-Instruct-2507/config.json").toStdString();
        const ModelConfig c = xopd::loadModelConfig(a3b);
        QCOMPARE(int(c.architecture), int(ModelArchitecture::Qwen3Moe));
        QCOMPARE(c.text.num_hidden_layers, int64_t(48));
        QCOMPARE(c.text.head_dim, int64_t(128));
        QVERIFY(c.text.qk_norm && !c.text.qkv_bias);
        QCOMPARE(c.text.moe.num_experts, int64_t(128));
        QCOMPARE(c.text.moe.num_experts_per_tok, int64_t(8));
        QCOMPARE(c.text.moe.moe_intermediate_size, int64_t(768));
        QVERIFY(c.text.moe.norm_topk_prob);
        for (int64_t i = 0; i < 48; ++i) QVERIFY(c.text.moe.isSparseLayer(i));
        const ModelConfig big = xopd::loadModelConfig(
            xopd::test::testData("model-configs/Qwen3-235B-A22B-Instruct-2507/config.json").toStdString());
        QCOMPARE(big.text.num_hidden_layers, int64_t(94));
        QCOMPARE(big.text.moe.moe_intermediate_size, int64_t(1536));

        const json base = xopd::readJsonFile(a3b);
        // Class defaults: head_dim absent -> hidden / heads (Qwen3MoeAttention), not Qwen3's 128.
        json nohead = base;
        nohead.erase("head_dim");
        QCOMPARE(xopd::parseModelConfig(nohead, "m.json").text.head_dim, int64_t(2048 / 32));
        // Sparse layers: every decoder_sparse_step-th, minus mlp_only_layers.
        json step = base;
        step["decoder_sparse_step"] = 2;
        step["mlp_only_layers"] = {3, 7};
        const auto m = xopd::parseModelConfig(step, "m.json").text.moe;
        QVERIFY(!m.isSparseLayer(0) && m.isSparseLayer(1) && !m.isSparseLayer(3) && m.isSparseLayer(5) && !m.isSparseLayer(7));
        // transformers v5 spells num_experts num_local_experts.
        json v5 = base;
        v5.erase("num_experts");
        v5["num_local_experts"] = 64;
        QCOMPARE(xopd::parseModelConfig(v5, "m.json").text.moe.num_experts, int64_t(64));

        json topk = base;
        topk["num_experts_per_tok"] = 129;
        expectError(topk, {"num_experts_per_tok 129", "num_experts 128"});
        json only = base;
        only["mlp_only_layers"] = {48};
        expectError(only, {"mlp_only_layers[0]", "48"});
        json zero = base;
        zero["decoder_sparse_step"] = 0;
        expectError(zero, {"decoder_sparse_step"});
        json rope = base;
        rope["rope_scaling"] = {{"rope_type", "dynamic"}};
        expectError(rope, {"rope_scaling", "dynamic"});
    }

    // Qwen3-Omni (configuration_qwen3_omni_moe.py): the real file's nesting and token ids (not the
    // class defaults) are read; the thinker's tensors are found under thinker.
    void qwen3OmniConfig() {
        const std::string path = xopd::test::testData("model-configs/Qwen3-Omni-30B-A3B-Instruct/config.json").toStdString();
        const ModelConfig c = xopd::loadModelConfig(path);
        QCOMPARE(int(c.architecture), int(ModelArchitecture::Qwen3OmniMoe));
        QCOMPARE(c.weight_prefix, std::string("thinker."));
        QCOMPARE(c.text.vocab_size, int64_t(152064));
        QCOMPARE(c.text.moe.num_experts, int64_t(128));
        QVERIFY(c.hasAudio());
        QCOMPARE(c.audio->downsample_hidden_size, int64_t(480));
        QCOMPARE(c.audio->n_window, int64_t(50));
        QCOMPARE(c.audio->n_window_infer, int64_t(800));
        QCOMPARE(c.audio->output_dim, int64_t(2048));
        QCOMPARE(*c.special.audio_token_id, int64_t(151675));
        QCOMPARE(*c.special.audio_start_token_id, int64_t(151669));
        QCOMPARE(*c.special.audio_end_token_id, int64_t(151670));
        QCOMPARE(c.position_id_per_seconds, int64_t(13));
        const auto l = xopd::resolveCheckpointLayout(c, [](const std::string&) { return true; }, path);
        QCOMPARE(l.decoder_prefix, std::string("thinker.model."));
        QCOMPARE(l.lm_head, std::string("thinker.lm_head.weight"));
        QCOMPARE(l.audio_tower_prefix, std::string("thinker.audio_tower."));
    }

    void shapeValidation() {
        for (const char* file : {"tiny-qwen2.config.json", "tiny-qwen2-audio.config.json",
                                 "tiny-qwen2.5-omni-thinker.config.json"}) {
            const ModelConfig c = xopd::loadModelConfig(data(file));
            const auto layout = xopd::test::hubLayout(c);
            const auto weights = xopd::test::tinyWeights(c, layout);
            std::map<std::string, std::vector<int64_t>> shapes;
            for (const auto& [n, t] : weights) shapes[n] = t.sizes().vec();
            auto lookup = [&](const std::string& n) -> std::optional<std::vector<int64_t>> {
                auto it = shapes.find(n);
                if (it == shapes.end()) return std::nullopt;
                return it->second;
            };
            xopd::validateCheckpointShapes(c, layout, lookup, "ok");  // complete and consistent
            // One wrong shape: the error names the tensor and both shapes.
            const std::string victim = layout.decoder_prefix + "layers.1.self_attn.k_proj.weight";
            shapes[victim] = {1, 1};
            try {
                xopd::validateCheckpointShapes(c, layout, lookup, "/ckpt");
                QFAIL("no error");
            } catch (const xopd::Error& e) {
                QVERIFY2(QString(e.what()).contains(QString::fromStdString(victim)) && QString(e.what()).contains("[1, 1]"),
                         e.what());
            }
            shapes.erase(victim);
            QVERIFY_THROWS_EXCEPTION(xopd::Error, xopd::validateCheckpointShapes(c, layout, lookup, "/ckpt"));
        }
    }
};

QTEST_APPLESS_MAIN(TestModelConfig)
#include "test_model_config.moc"
