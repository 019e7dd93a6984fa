// `xopd inspect`: tiny generated checkpoints of each family are summarised correctly (text and
// --json), and every malformed checkpoint exits 1 with a message naming the file and the problem.
#include "core/common/Json.h"
#include "core/common/Tensors.h"
#include "core/model/checkpoint/InspectSummary.h"
#include "core/model/checkpoint/SafetensorsWriter.h"
#include "core/model/runtime/SpeechLm.h"
#include "tests/core/checkpoint/TinyCheckpoint.h"
#include "tests/support/TestHelpers.h"
#include "tests/support/TestSupport.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <limits>

#include <nlohmann/json.hpp>

#include <fstream>

using nlohmann::json;

namespace {

std::string data(const char* name) { return xopd::test::testData(QString("checkpoint/") + name).toStdString(); }

// Sum of numel over weights whose name starts with prefix.
int64_t numelWithPrefix(const xopd::NamedTensors& w, const std::string& prefix) {
    int64_t n = 0;
    for (const auto& [name, t] : w)
        if (name.rfind(prefix, 0) == 0) n += t.numel();
    return n;
}

json inspectJson(const QString& path) {
    const auto r = xopd::test::runCli({"inspect", path, "--json"});
    if (r.exitCode != 0) qWarning() << r.err;
    return r.exitCode == 0 ? json::parse(r.out.toStdString()) : json();
}

}  // namespace

class TestCliInspect : public QObject {
    Q_OBJECT

    void expectFailure(const QString& path, const QStringList& parts) {
        const auto r = xopd::test::runCli({"inspect", path});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("xopd: error:"), qPrintable(r.err));
        for (const auto& p : parts) QVERIFY2(r.err.contains(p), qPrintable("missing '" + p + "' in: " + r.err));
    }

private slots:
    void tinyQwen2Folder() {
        QTemporaryDir d;
        const auto config = xopd::test::writeTinyCheckpoint(d.path().toStdString(), data("tiny-qwen2.config.json"));
        const auto weights = xopd::test::tinyWeights(config, xopd::test::hubLayout(config));
        // A real tokenizer: inspect loads it as generate does (an empty "{}" is refused now).
        QVERIFY(QFile::copy(xopd::test::testData("text/qwen3/tokenizer.json"), d.filePath("tokenizer.json")));
        xopd::writeJsonFileAtomic(d.filePath("tokenizer_config.json").toStdString(),
                                  {{"chat_template", "{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}"}});
        const json j = inspectJson(d.path());
        QCOMPARE(j["config"]["architecture"].get<std::string>(), std::string("qwen2"));
        QCOMPARE(j["config"]["text"]["layers"].get<int64_t>(), int64_t{2});
        QCOMPARE(j["config"]["text"]["kv_heads"].get<int64_t>(), int64_t{2});
        QCOMPARE(j["weights"]["format"].get<std::string>(), std::string("single"));
        QCOMPARE(j["weights"]["tensors"].get<size_t>(), weights.size());
        QCOMPARE(j["weights"]["dtypes"]["F32"].get<size_t>(), weights.size());
        int64_t total = 0;
        for (const auto& [n, t] : weights) total += t.numel();
        QCOMPARE(j["weights"]["parameters"]["total"].get<int64_t>(), total);
        QCOMPARE(j["weights"]["parameters"]["llm"].get<int64_t>(), total);
        QCOMPARE(j["layout"]["lm_head"].get<std::string>(), std::string("lm_head.weight"));
        QCOMPARE(j["tokenizer"]["kind"].get<std::string>(), std::string("tokenizer.json"));
        QCOMPARE(j["tokenizer"]["chat_template"].get<std::string>(), std::string("chatml"));
        QCOMPARE(j["checks"].get<std::string>(), std::string("ok"));
        // Text output.
        const auto r = xopd::test::runCli({"inspect", d.path()});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("architecture: qwen2") && r.out.contains("layers 2, hidden 32, heads 4, kv heads 2"),
                 qPrintable(r.out));
        QVERIFY2(r.out.contains(QString("parameters: %1").arg(total / 1e3, 0, 'f', 1)), qPrintable(r.out));
    }

    void tinyQwen2AudioShardedTied() {
        QTemporaryDir d;
        const auto config = xopd::test::writeTinyCheckpoint(d.path().toStdString(), data("tiny-qwen2-audio.config.json"),
                                                            /*tied=*/true, /*max_shard_bytes=*/20000, torch::kBFloat16);
        const auto weights = xopd::test::tinyWeights(config, xopd::test::hubLayout(config, true), torch::kBFloat16);
        const json j = inspectJson(d.path());
        QCOMPARE(j["config"]["architecture"].get<std::string>(), std::string("qwen2-audio"));
        QCOMPARE(j["config"]["audio"]["d_model"].get<int64_t>(), int64_t{16});
        QCOMPARE(j["weights"]["format"].get<std::string>(), std::string("sharded"));
        QVERIFY(j["weights"]["shards"].size() > 1);
        QCOMPARE(j["weights"]["dtypes"]["BF16"].get<size_t>(), weights.size());
        const auto& p = j["weights"]["parameters"];
        QCOMPARE(p["audio_tower"].get<int64_t>(), numelWithPrefix(weights, "audio_tower."));
        QCOMPARE(p["projector"].get<int64_t>(), numelWithPrefix(weights, "multi_modal_projector."));
        QCOMPARE(p["llm"].get<int64_t>(), numelWithPrefix(weights, "language_model."));
        QCOMPARE(p["other"].get<int64_t>(), int64_t{0});
        QVERIFY(j["layout"]["lm_head_tied"].get<bool>());
        QCOMPARE(j["tokenizer"]["kind"].get<std::string>(), std::string("none"));
        // tie_word_embeddings is false in the config: the fallback is reported.
        QCOMPARE(j["warnings"].size(), size_t{1});
    }

    // An audio-encoder tensor its config's encoder does not have (a Qwen3-Omni key bias in a
    // Qwen2.5-Omni checkpoint) is refused by inspect and by the loader (issue 18.6).
    void unknownAudioTensorIsRefused() {
        QTemporaryDir d;
        const std::string dir = d.path().toStdString();
        const auto config = xopd::test::writeTinyCheckpoint(dir, data("tiny-qwen2.5-omni-thinker.config.json"));
        auto weights = xopd::test::tinyWeights(config, xopd::test::hubLayout(config));
        std::string prefix;
        for (const auto& [n, t] : weights)
            if (n.find("audio_tower.layers.0.self_attn.k_proj.weight") != std::string::npos) prefix = n.substr(0, n.size() - 6);
        QVERIFY(!prefix.empty());
        weights.emplace_back(prefix + "bias", torch::zeros({config.audio->d_model}));
        xopd::writeSafetensors(dir + "/model.safetensors", weights);
        expectFailure(d.path(), {QString::fromStdString(prefix + "bias")});
        QString load;
        try {
            xopd::model::loadModel(dir);
        } catch (const xopd::Error& e) {
            load = e.what();
        }
        QVERIFY2(load.contains(QString::fromStdString(prefix + "bias")), qPrintable("load: " + load));
    }

    void tinyOmniThinkerAndSingleFile() {
        QTemporaryDir d;
        const auto config =
            xopd::test::writeTinyCheckpoint(d.path().toStdString(), data("tiny-qwen2.5-omni-thinker.config.json"));
        const auto weights = xopd::test::tinyWeights(config, xopd::test::hubLayout(config));
        const json j = inspectJson(d.path());
        QCOMPARE(j["config"]["architecture"].get<std::string>(), std::string("qwen2.5-omni-thinker"));
        QCOMPARE(j["weights"]["parameters"]["audio_tower"].get<int64_t>(), numelWithPrefix(weights, "audio_tower."));
        QCOMPARE(j["weights"]["parameters"]["projector"].get<int64_t>(), int64_t{0});
        // A single file: weights only.
        const json f = inspectJson(d.filePath("model.safetensors"));
        QCOMPARE(f["kind"].get<std::string>(), std::string("file"));
        QVERIFY(!f.contains("config"));
        QCOMPARE(f["weights"]["tensors"].get<size_t>(), weights.size());
    }

    void malformedFilesExitOne() {
        QTemporaryDir d;
        auto put = [&](const char* name, const std::string& bytes) {
            const QString p = d.filePath(name);
            std::ofstream(p.toStdString(), std::ios::binary) << bytes;
            return p;
        };
        QString p = put("empty.safetensors", "");
        expectFailure(p, {p, "0 bytes"});
        p = put("trunc.safetensors", std::string("\x05\0", 2));
        expectFailure(p, {p, "shorter than the 8-byte"});
        p = put("huge.safetensors", xopd::test::safetensorsBytes("{}", "", uint64_t{1} << 63));
        expectFailure(p, {p, "exceeds the limit"});
        p = put("past.safetensors", xopd::test::safetensorsBytes("{}", "", 999));
        expectFailure(p, {p, "past the end"});
        p = put("json.safetensors", xopd::test::safetensorsBytes("{oops", ""));
        expectFailure(p, {p, "not valid JSON"});
        p = put("overlap.safetensors", xopd::test::safetensorsBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                               std::string(12, '\0')));
        expectFailure(p, {p, "'b'", "overlap"});
        p = put("hole.safetensors", xopd::test::safetensorsBytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                                            std::string(12, '\0')));
        expectFailure(p, {p, "'b'", "hole"});
        p = put("size.safetensors", xopd::test::safetensorsBytes(R"({"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,4]}})", std::string(4, '\0')));
        expectFailure(p, {p, "'w'", "needs 6 bytes"});
        p = put("dtype.safetensors", xopd::test::safetensorsBytes(R"({"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", std::string(1, '\0')));
        expectFailure(p, {p, "'w'", "unknown dtype 'Q4'"});
        p = put("dup.safetensors", xopd::test::safetensorsBytes(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                           R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                           std::string(2, '\0')));
        expectFailure(p, {p, "'w'", "more than once"});
        p = put("neg.safetensors", xopd::test::safetensorsBytes(R"({"w":{"dtype":"U8","shape":[-2],"data_offsets":[0,2]}})", std::string(2, '\0')));
        expectFailure(p, {p, "'w'", "negative"});
        expectFailure(d.filePath("absent.safetensors"), {"absent.safetensors", "no such file"});
    }

    // inspect checks what a load checks (issue 18.6): a NaN weight and an integer weight are named
    // by tensor, by inspect and by the loader alike; a truncated tokenizer.json and an EOS id outside
    // the vocabulary fail inspect as they fail generate.
    void inspectChecksWhatLoadChecks() {
        QTemporaryDir d;
        const std::string dir = d.path().toStdString();
        const auto config = xopd::test::writeTinyCheckpoint(dir, data("tiny-qwen2.config.json"));
        auto weights = xopd::test::tinyWeights(config, xopd::test::hubLayout(config));
        const std::string victim = "model.layers.1.mlp.up_proj.weight";
        for (auto& [name, t] : weights)
            if (name == victim) t.view(-1)[3] = std::numeric_limits<float>::quiet_NaN();
        xopd::writeSafetensors(dir + "/model.safetensors", weights);
        expectFailure(d.path(), {QString::fromStdString(victim), "NaN"});
        QString load;
        try {
            xopd::model::loadModel(dir);
        } catch (const xopd::Error& e) {
            load = e.what();
        }
        QVERIFY2(load.contains(QString::fromStdString(victim)) && load.contains("NaN"), qPrintable("load: " + load));

        for (auto& [name, t] : weights)
            if (name == victim) t = torch::ones_like(t).to(torch::kInt32);
        xopd::writeSafetensors(dir + "/model.safetensors", weights);
        expectFailure(d.path(), {QString::fromStdString(victim), "I32"});

        // A tensor the config's family does not have (a Qwen3 q_norm in a qwen2 checkpoint).
        for (auto& [name, t] : weights)
            if (name == victim) t = torch::ones_like(t);
        weights.emplace_back("model.layers.0.self_attn.q_norm.weight", torch::ones({8}));
        xopd::writeSafetensors(dir + "/model.safetensors", weights);
        expectFailure(d.path(), {"model.layers.0.self_attn.q_norm.weight", "model_type"});
        QString extra;
        try {
            xopd::model::loadModel(dir);
        } catch (const xopd::Error& e) {
            extra = e.what();
        }
        QVERIFY2(extra.contains("q_norm"), qPrintable("load: " + extra));

        // A tensor outside every part the model uses: inspect warns and names it (issue 18.6).
        weights.pop_back();
        for (auto& [name, t] : weights)
            if (name == victim) t = torch::ones(t.sizes(), torch::kFloat32);  // it was left I32 above
        weights.emplace_back("stray.scale", torch::ones({2}));
        xopd::writeSafetensors(dir + "/model.safetensors", weights);
        const json w = inspectJson(d.path());
        QVERIFY2(w.contains("warnings") && w["warnings"].dump().find("'stray.scale'") != std::string::npos &&
                     w["warnings"].dump().find("not used by the model") != std::string::npos,
                 w.dump().c_str());

        xopd::test::writeTinyCheckpoint(dir, data("tiny-qwen2.config.json"));  // good weights again
        QVERIFY(QFile::copy(xopd::test::testData("text/qwen3/tokenizer.json"), d.filePath("tokenizer.json")));
        QCOMPARE(xopd::test::runCli({"inspect", d.path()}).exitCode, 0);
        auto cfg = xopd::readJsonFile(dir + "/config.json");
        cfg["eos_token_id"] = 99999999;
        xopd::writeJsonFileAtomic(dir + "/config.json", cfg);
        expectFailure(d.path(), {"eos_token_id 99999999", "outside the vocabulary"});
        const auto gen = xopd::test::runCli({"generate", "--model", d.path(), "--prompt", "hi", "--max-new-tokens", "2"});
        QVERIFY2(gen.exitCode == 1 && gen.err.contains("eos_token_id 99999999 is outside the vocabulary"),
                 qPrintable("generate: " + gen.err));  // the same check as inspect
        cfg.erase("eos_token_id");
        xopd::writeJsonFileAtomic(dir + "/config.json", cfg);
        QFile tok(d.filePath("tokenizer.json"));
        QVERIFY(tok.resize(tok.size() / 2));  // truncated
        expectFailure(d.path(), {"tokenizer.json"});
    }

    void brokenFoldersExitOne() {
        QTemporaryDir d;
        const std::string dir = d.path().toStdString();
        xopd::test::writeTinyCheckpoint(dir, data("tiny-qwen2.config.json"), false, /*max_shard_bytes=*/8000);
        QVERIFY(QFile::exists(d.filePath("model.safetensors.index.json")));
        // Index naming a tensor absent from its shard.
        auto index = xopd::readJsonFile(dir + "/model.safetensors.index.json");
        const json original = index;
        const std::string shard = index["weight_map"].begin().value().get<std::string>();
        index["weight_map"]["model.ghost.weight"] = shard;
        xopd::writeJsonFileAtomic(dir + "/model.safetensors.index.json", index);
        expectFailure(d.path(), {"model.safetensors.index.json", "'model.ghost.weight'", QString::fromStdString(shard)});
        xopd::writeJsonFileAtomic(dir + "/model.safetensors.index.json", original);
        QCOMPARE(xopd::test::runCli({"inspect", d.path()}).exitCode, 0);
        // Missing shard.
        QVERIFY(QFile::rename(d.filePath(QString::fromStdString(shard)), d.filePath("moved")));
        expectFailure(d.path(), {QString::fromStdString(shard), "missing"});
        QVERIFY(QFile::rename(d.filePath("moved"), d.filePath(QString::fromStdString(shard))));
        // A config whose shapes do not match the weights.
        auto cfg = xopd::readJsonFile(dir + "/config.json");
        cfg["intermediate_size"] = 40;
        xopd::writeJsonFileAtomic(dir + "/config.json", cfg);
        expectFailure(d.path(), {"mlp.gate_proj.weight", "[37, 32]", "[40, 32]"});
        // Unsupported model_type, sliding window, no config.
        cfg["intermediate_size"] = 37;
        cfg["use_sliding_window"] = true;
        xopd::writeJsonFileAtomic(dir + "/config.json", cfg);
        expectFailure(d.path(), {"config.json", "use_sliding_window"});
        cfg["model_type"] = "llama";
        xopd::writeJsonFileAtomic(dir + "/config.json", cfg);
        expectFailure(d.path(), {"config.json", "'llama'", "qwen2_audio"});
        QFile::remove(d.filePath("config.json"));
        expectFailure(d.path(), {"config.json", "missing"});
    }

    void chatTemplateKinds() {
        QCOMPARE(xopd::chatTemplateKind("<|im_start|>system"), std::string("chatml"));
        QCOMPARE(xopd::chatTemplateKind("Audio {{ n }}: <|audio_bos|><|AUDIO|><|audio_eos|><|im_start|>"),
                 std::string("qwen2-audio"));
        QCOMPARE(xopd::chatTemplateKind("<|vision_bos|><|IMAGE|> <|audio_bos|><|AUDIO|>"), std::string("qwen2.5-omni"));
        QCOMPARE(xopd::chatTemplateKind("[INST] {{ m }} [/INST]"), std::string("other"));
    }
};

QTEST_APPLESS_MAIN(TestCliInspect)
#include "test_cli_inspect.moc"
