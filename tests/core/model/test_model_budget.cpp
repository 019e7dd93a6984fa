// What a model costs (core/model/checkpoint/ModelBudget.h): parameter counts of the real Qwen3,
// Qwen3-MoE and Qwen3-Omni configs against an independent reference (tests/reference/model/
// param_count.py, written from the transformers modules), the same through `xopd inspect --json`;
// on tiny models of every family the count equals the tensors actually stored and the KV-cache
// bytes equal a real cache's.
#include "core/common/Json.h"
#include "core/model/checkpoint/InspectSummary.h"
#include "core/model/checkpoint/ModelBudget.h"
#include "core/model/checkpoint/WeightStore.h"
#include "core/model/runtime/SpeechLm.h"
#include "core/model/runtime/TinyModels.h"
#include "tests/support/TestHelpers.h"
#include "tests/support/TestSupport.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <functional>

using namespace xopd;
using namespace xopd::model;
using nlohmann::json;

class TestModelBudget : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void realConfigsMatchReference_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<double>("total_b");   // the model card's figure, billions
        QTest::addColumn<double>("active_b");
        QTest::newRow("qwen3-30b-a3b") << "Qwen3-30B-A3B" << 30.5 << 3.3;
        QTest::newRow("qwen3-30b-a3b-instruct-2507") << "Qwen3-30B-A3B-Instruct-2507" << 30.5 << 3.3;
        QTest::newRow("qwen3-235b-a22b-instruct-2507") << "Qwen3-235B-A22B-Instruct-2507" << 235.0 << 22.0;
        QTest::newRow("qwen3-8b") << "Qwen3-8B" << 8.2 << 8.2;
        // Thinker text + audio encoder (vision, talker and code2wav are not the thinker's LLM).
        QTest::newRow("qwen3-omni-30b-a3b-instruct") << "Qwen3-Omni-30B-A3B-Instruct" << 31.2 << 3.3;
    }
    void realConfigsMatchReference() {
        QFETCH(QString, name);
        QFETCH(double, total_b);
        QFETCH(double, active_b);
        const QString config = xopd::test::testData("model-configs/" + name + "/config.json");
        const ParameterCounts p = parameterCountsOf(loadModelConfig(config.toStdString()));

        const auto ref = xopd::test::runProgram(
            "python3", {xopd::test::sourceDir() + "/tests/reference/model/param_count.py", config});
        QVERIFY2(ref.exitCode == 0, qPrintable(ref.err));
        const json r = json::parse(ref.out.toStdString());
        QCOMPARE(p.total, r["total"].get<int64_t>());
        QCOMPARE(p.active, r["active"].get<int64_t>());
        QCOMPARE(p.embedding, r["embedding"].get<int64_t>());
        // Plausible against the model card (±1.5 %).
        QVERIFY2(std::abs(p.total / 1e9 - total_b) < 0.015 * total_b, qPrintable(QString::number(p.total)));
        QVERIFY2(std::abs(p.active / 1e9 - active_b) < 0.015 * active_b + 0.05, qPrintable(QString::number(p.active)));

        // `xopd inspect` of the folder (config only) reports the same numbers.
        const auto cli = xopd::test::runCli({"inspect", QFileInfo(config).path(), "--json"});
        QVERIFY2(cli.exitCode == 0, qPrintable(cli.err));
        const json j = json::parse(cli.out.toStdString());
        QCOMPARE(j["kind"].get<std::string>(), std::string("config"));
        QCOMPARE(j["parameters_from_config"]["total"].get<int64_t>(), p.total);
        QCOMPARE(j["parameters_from_config"]["active"].get<int64_t>(), p.active);
    }

    // The memory report of a real pair through the CLI: what it adds up, and LoRA vs full training.
    void pairMemoryReport() {
        const QString student = xopd::test::testData("model-configs/Qwen3-30B-A3B-Instruct-2507");
        const QString teacher = xopd::test::testData("model-configs/Qwen3-235B-A22B-Instruct-2507");
        const auto cli = xopd::test::runCli({"inspect", student, "--teacher", teacher, "--batch", "4", "--length", "2048",
                                             "--training", "full", "--json"});
        QVERIFY2(cli.exitCode == 0, qPrintable(cli.err));
        const json m = json::parse(cli.out.toStdString())["memory"];
        const json& s = m["student"];
        const int64_t total = s["parameters"]["total"].get<int64_t>();
        QCOMPARE(s["weights"].get<int64_t>(), total * 2);                  // bf16
        const int64_t routers = s["parameters"]["router"].get<int64_t>();
        QCOMPARE(s["trainable_parameters"].get<int64_t>(), total - routers);  // routers frozen
        QCOMPARE(s["optimizer"].get<int64_t>(), (total - routers) * 8);      // two fp32 moments
        // KV cache: 2 × 48 layers × 4 kv heads × 128 × 4 × 2048 tokens × 2 bytes.
        QCOMPARE(s["kv_cache"].get<int64_t>(), int64_t(2) * 48 * 4 * 128 * 4 * 2048 * 2);
        QCOMPARE(m["teacher"]["optimizer"].get<int64_t>(), int64_t(0));
        QCOMPARE(m["total"].get<int64_t>(), s["total"].get<int64_t>() + m["teacher"]["total"].get<int64_t>());
    }

    // Tiny models: the count from the config equals the elements stored in the folder, the fp32
    // weight bytes equal the tensor data, and the KV cache estimate equals a real cache's bytes.
    void tinyModelsMatchStorage_data() {
        QTest::addColumn<int>("kind");
        QTest::newRow("qwen2") << int(ModelKind::Qwen2Text);
        QTest::newRow("qwen3") << int(ModelKind::Qwen3Text);
        QTest::newRow("qwen3-moe") << int(ModelKind::Qwen3MoeText);
        QTest::newRow("qwen2-audio") << int(ModelKind::Qwen2Audio);
        QTest::newRow("qwen2.5-omni-thinker") << int(ModelKind::Qwen25OmniThinker);
        QTest::newRow("qwen3-omni-thinker") << int(ModelKind::Qwen3OmniThinker);
    }
    void tinyModelsMatchStorage() {
        QFETCH(int, kind);
        const ModelRuntimeConfig c = tinyConfig(ModelKind(kind));
        const std::string folder = dir_.filePath(QString("tiny-%1").arg(kind)).toStdString();
        writeModelFolder(folder, c, randomWeights(c));
        const ModelConfig config = loadModelConfig(folder);
        const WeightStore store = WeightStore::open(folder);
        const ParameterCounts p = parameterCountsOf(config);
        QCOMPARE(p.total, store.parameterCount());
        MemoryOptions o;
        o.weight_bytes = 4;
        o.batch = 3;
        o.sequence_length = 7;
        const MemoryNeed m = memoryNeedOf(config, o);
        QCOMPARE(m.weights, int64_t(store.dataBytes()));

        SpeechLm lm = loadModel(folder);
        torch::NoGradGuard no_grad;
        KvCache cache = lm.decoder().makeCache(o.sequence_length);
        DecoderInput in;
        in.input_ids = torch::randint(0, c.text.vocab_size, {o.batch, o.sequence_length}, torch::kInt64);
        in.cache = &cache;
        lm.decoder().forward(in);
        QCOMPARE(m.kv_cache, cache.bytes());
        if (ModelKind(kind) == ModelKind::Qwen3MoeText) {
            QVERIFY(p.experts > 0 && p.router > 0 && p.active < p.total);
            // Active: 3 sparse layers × (8 − 2) unused experts × 3 × 12 × 32 parameters each.
            QCOMPARE(p.total - p.active, int64_t(3) * 6 * 3 * 12 * 32);
        }
    }

    // A Qwen3-MoE folder missing one expert's tensor, or whose config asks for more experts per
    // token than it has, is refused naming the folder and the tensor or key.
    void malformedMoeFolders() {
        const ModelRuntimeConfig c = tinyConfig(ModelKind::Qwen3MoeText);
        TensorMap w = randomWeights(c);
        w.erase("model.layers.2.mlp.experts.5.up_proj.weight");
        const std::string folder = dir_.filePath("moe-missing-expert").toStdString();
        writeModelFolder(folder, c, w);
        for (auto load : {std::function<void()>([&] { loadModel(folder); }),
                          std::function<void()>([&] { inspectCheckpoint(folder); })}) {
            try {
                load();
                QFAIL("a folder without an expert tensor was accepted");
            } catch (const xopd::Error& e) {
                QVERIFY2(QString(e.what()).contains("model.layers.2.mlp.experts.5.up_proj.weight") &&
                             QString(e.what()).contains(QString::fromStdString(folder)),
                         e.what());
            }
        }
        const std::string wrong = dir_.filePath("moe-topk").toStdString();
        writeModelFolder(wrong, c, randomWeights(c));
        json cfg = xopd::readJsonFile(wrong + "/config.json");
        cfg["num_experts_per_tok"] = 9;
        xopd::writeJsonFileAtomic(wrong + "/config.json", cfg);
        try {
            loadModel(wrong);
            QFAIL("num_experts_per_tok > num_experts was accepted");
        } catch (const xopd::Error& e) {
            QVERIFY2(QString(e.what()).contains("config.json") && QString(e.what()).contains("num_experts_per_tok 9"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestModelBudget)
#include "test_model_budget.moc"
