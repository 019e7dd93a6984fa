// The Qwen3 families through the same CLI as the other pairs (issue 12): tiny Qwen3 and Qwen3-MoE
// folders with a working tokenizer are inspected, generate text, and teach a tiny Qwen2.5-Omni
// thinker student in an X-OPD run end to end on the CPU; a Qwen3-MoE student's run stores its
// expert-load statistics, which add up to the tokens it trained on.
#include "core/audio/AudioFile.h"
#include "core/common/Json.h"
#include "core/model/checkpoint/SafetensorsFile.h"
#include "core/model/checkpoint/WeightStore.h"
#include "core/model/runtime/TinyModels.h"
#include "core/run/RunStore.h"
#include "tests/support/TestHelpers.h"
#include "tests/support/TestSupport.h"
#include "tests/support/ToneManifest.h"

#include <QDirIterator>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace xopd;
using nlohmann::json;

class TestModelFamiliesCli : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString omni_, omni3_, qwen3_, moe_, manifest_;

    QString writeRunConfig(const QString& name, const QString& student, const QString& teacher, double lambda) {
        const json j = {
            {"student", {{"kind", "hf"}, {"path", student.toStdString()}}},
            {"teacher", {{"kind", "hf"}, {"path", teacher.toStdString()}}},
            {"data", {{"manifest", manifest_.toStdString()}}},
            {"rollout", {{"rollouts_per_prompt", 2}, {"max_new_tokens", 6}}},
            {"loss", {{"method", "x-opd"}, {"lambda", lambda}}},
            {"train", {{"batch_size", 2}, {"lr", 1e-3}, {"max_steps", 2}, {"checkpoint_every", 0}, {"seed", 3},
                       {"trainable", "backbone"}}},
        };
        const QString path = dir_.filePath(name + ".json");
        std::ofstream(path.toStdString()) << j.dump(2);
        return path;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        omni_ = QString::fromStdString(model::buildTinyChatModel(dir_.filePath("omni").toStdString(), model::ModelKind::Qwen25OmniThinker));
        // The MoE folders are sharded as save_pretrained writes large checkpoints (shards + index).
        omni3_ = QString::fromStdString(model::buildTinyChatModel(dir_.filePath("qwen3-omni").toStdString(),
                                                                  model::ModelKind::Qwen3OmniThinker, {}, 64 * 1024));
        qwen3_ = QString::fromStdString(model::buildTinyChatModel(dir_.filePath("qwen3").toStdString(), model::ModelKind::Qwen3Text));
        moe_ = QString::fromStdString(model::buildTinyChatModel(dir_.filePath("qwen3-moe").toStdString(),
                                                                model::ModelKind::Qwen3MoeText, {}, 64 * 1024));
        manifest_ = test::writeToneManifest(dir_.path(), 4, /*reference=*/true);
    }

    void inspectReadsEveryFamily_data() {
        QTest::addColumn<QString>("which");
        QTest::newRow("qwen3") << "qwen3";
        QTest::newRow("qwen3-moe") << "qwen3-moe";
        QTest::newRow("qwen3-omni") << "qwen3-omni";
    }
    void inspectReadsEveryFamily() {
        QFETCH(QString, which);
        const auto r = test::runCli({"inspect", dir_.filePath(which), "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const json j = json::parse(r.out.toStdString());
        QCOMPARE(j["checks"].get<std::string>(), std::string("ok"));
        const std::string type = which == "qwen3" ? "qwen3" : which == "qwen3-moe" ? "qwen3_moe" : "qwen3_omni_moe";
        QCOMPARE(j["config"]["model_type"].get<std::string>(), type);
        // The count from the config equals the tensors stored.
        QCOMPARE(j["parameters_from_config"]["total"].get<int64_t>(), j["weights"]["parameters"]["total"].get<int64_t>());
        if (which != "qwen3") {  // sharded with an index, as save_pretrained writes them
            QCOMPARE(j["weights"]["format"].get<std::string>(), std::string("sharded"));
            QVERIFY(j["weights"]["shards"].size() > 1);
        }
        if (which == "qwen3-moe") {
            QCOMPARE(j["config"]["text"]["moe"]["sparse_layers"].get<int64_t>(), int64_t(3));
            QVERIFY(j["parameters_from_config"]["active"].get<int64_t>() < j["parameters_from_config"]["total"].get<int64_t>());
        }
    }

    void generateText_data() {
        QTest::addColumn<QString>("which");
        QTest::newRow("qwen3") << "qwen3";
        QTest::newRow("qwen3-moe") << "qwen3-moe";
    }
    void generateText() {
        QFETCH(QString, which);
        const auto r = test::runCli({"generate", "--model", dir_.filePath(which), "--prompt", "the thing", "--max-new-tokens",
                                     "5", "--temperature", "0", "--show-ids"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(!r.out.trimmed().isEmpty(), "no output");
        // Greedy decoding is deterministic: the same ids twice.
        const auto again = test::runCli({"generate", "--model", dir_.filePath(which), "--prompt", "the thing",
                                         "--max-new-tokens", "5", "--temperature", "0", "--show-ids"});
        QCOMPARE(again.out, r.out);
    }

    // A Qwen3-Omni thinker hears a clip: its chat template (detected from model_type) places
    // <|audio_start|><|audio_pad|>×13<|audio_end|> for 1 s of audio; with --raw the prompt places it.
    void generateWithAudioOnQwen3Omni() {
        const QString wav = dir_.filePath("audio/q0.wav");
        const auto r = test::runCli({"generate", "--model", omni3_, "--audio", wav, "--prompt", "the", "--max-new-tokens",
                                     "4", "--temperature", "0"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains("1 audio clips"), qPrintable(r.err));
        const auto raw = test::runCli({"generate", "--model", omni3_, "--audio", wav, "--raw", "--prompt",
                                       "<|im_start|>user\n<|audio_start|><|audio_pad|><|audio_end|>the<|im_end|>\n"
                                       "<|im_start|>assistant\n",
                                       "--max-new-tokens", "4", "--temperature", "0"});
        QVERIFY2(raw.exitCode == 0, qPrintable(raw.err));
        QCOMPARE(raw.out, r.out);  // the same prompt, written by hand
        const auto two = test::runCli({"generate", "--model", omni3_, "--audio", wav, "--raw", "--prompt",
                                       "<|audio_pad|><|audio_pad|>", "--max-new-tokens", "2"});
        QVERIFY(two.exitCode != 0);
        QVERIFY2(two.err.contains("2 <|audio_pad|> placeholder(s) but 1 audio clip"), qPrintable(two.err));
    }

    // `xopd eval` scores a Qwen3-Omni student (spoken and typed prompts) and a Qwen3-MoE model.
    void evalOnQwen3Folders_data() {
        QTest::addColumn<QString>("which");
        QTest::newRow("qwen3-omni") << "qwen3-omni";
        QTest::newRow("qwen3-moe") << "qwen3-moe";
    }
    void evalOnQwen3Folders() {
        QFETCH(QString, which);
        const auto r = test::runCli({"eval", "--model", dir_.filePath(which), "--prompts", manifest_, "--split", "train",
                                     "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
        const json j = json::parse(r.out.toStdString());
        const bool speech = which == "qwen3-omni";
        QCOMPARE(j["rows"][0]["count"].get<int>(), 4);
        QVERIFY(j["rows"][0]["text"].is_number());
        QCOMPARE(j["rows"][0]["speech"].is_number(), speech);  // a text model has no speech score
        QCOMPARE(int(j["predictions"].size()), speech ? 8 : 4);
        for (const auto& p : j["predictions"]) QVERIFY(!p["answer"].get<std::string>().empty());
    }

    // X-OPD end to end: an Omni thinker student hears the prompts, a Qwen3 / Qwen3-MoE teacher reads
    // the transcripts; two steps run, losses are finite, a checkpoint is written.
    void distillOmniStudentWithQwen3Teachers_data() {
        QTest::addColumn<QString>("teacher");
        QTest::newRow("qwen3-teacher") << "qwen3";
        QTest::newRow("qwen3-moe-teacher") << "qwen3-moe";
        QTest::newRow("qwen3-omni-student-qwen3-moe-teacher") << "qwen3-moe+omni3";  // the paper's pair
    }
    void distillOmniStudentWithQwen3Teachers() {
        QFETCH(QString, teacher);
        const bool omni3 = teacher.endsWith("+omni3");
        if (omni3) teacher.chop(6);
        const QString run = dir_.filePath("run-omni-" + teacher + (omni3 ? "-omni3" : ""));
        const auto r = test::runCli({"distill", "--config",
                                     writeRunConfig("omni-" + teacher + (omni3 ? "-omni3" : ""), omni3 ? omni3_ : omni_,
                                                    dir_.filePath(teacher), 0.5),
                                     "--run-dir", run},
                                    600000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
        run::RunReader reader(run.toStdString());
        const auto steps = reader.stepsSince(0);
        QCOMPARE(int(steps.size()), 2);
        for (const auto& s : steps) {
            QVERIFY(std::isfinite(s.scalars.at("loss")));
            QVERIFY(s.scalars.count("speech/adv_mean"));  // the cross-modal stream ran
            // A Qwen3-Omni student is a MoE: its routing is recorded; the Qwen2.5-Omni one has none.
            QCOMPARE(bool(s.scalars.count("moe/router_entropy")), omni3);
        }
        QVERIFY(QDir(run + "/checkpoints").entryList(QDir::Dirs | QDir::NoDotAndDotDot).size() >= 1);
    }

    // A Qwen3-MoE student (text stream only: it has no ears) stores per-step expert-load statistics;
    // its routers stay frozen; the tokens it routed add up to k per real token and sparse layer.
    void moeStudentRecordsExpertLoad() {
        const QString run = dir_.filePath("run-moe-student");
        const auto r = test::runCli({"distill", "--config", writeRunConfig("moe-student", moe_, qwen3_, 1.0), "--run-dir", run},
                                    600000);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
        run::RunReader reader(run.toStdString());
        const auto steps = reader.stepsSince(0);
        QCOMPARE(int(steps.size()), 2);
        for (const auto& s : steps) {
            QString keys;
            for (const auto& [k, v] : s.scalars) keys += QString::fromStdString(k) + " ";
            QVERIFY2(s.scalars.count("moe/router_entropy"), qPrintable("scalars: " + keys));
            const double entropy = s.scalars.at("moe/router_entropy");
            QVERIFY2(entropy > 0 && entropy <= std::log(8.0) + 1e-6, qPrintable(QString::number(entropy)));
            QVERIFY(s.scalars.at("moe/load_max_over_mean") >= 1.0);
            QVERIFY(s.json.count("moe/tokens_per_expert"));
            const json counts = json::parse(s.json.at("moe/tokens_per_expert"));
            QCOMPARE(int(counts.size()), 3);  // sparse layers 0, 2, 3 (layer 1 is dense)
            QVERIFY(!counts.contains("1"));
            int64_t per_layer = -1;
            for (const auto& [layer, c] : counts.items()) {
                QCOMPARE(int(c.size()), 8);
                int64_t sum = 0;
                for (int64_t n : c) sum += n;
                QCOMPARE(sum % 2, int64_t(0));  // each token goes to k = 2 experts
                if (per_layer < 0) per_layer = sum;
                QCOMPARE(sum, per_layer);       // every sparse layer sees the same tokens
            }
            QVERIFY(per_layer > 0);
        }
        // Routers frozen: the saved checkpoint's routers equal the initial ones, while the rest trained.
        QDirIterator it(run + "/checkpoints", {"model.safetensors"}, QDir::Files, QDirIterator::Subdirectories);
        QVERIFY2(it.hasNext(), "no model.safetensors in the run's checkpoints");
        const auto trained = SafetensorsFile::open(it.next().toStdString());
        const auto initial_store = WeightStore::open(dir_.filePath("qwen3-moe").toStdString());
        for (const char* router : {"model.layers.0.mlp.gate.weight", "model.layers.3.mlp.gate.weight"})
            QVERIFY2(torch::equal(trained->tensor(router), initial_store.get(router)), router);
        QVERIFY(!torch::equal(trained->tensor("model.layers.0.mlp.experts.0.down_proj.weight"),
                              initial_store.get("model.layers.0.mlp.experts.0.down_proj.weight")) ||
                !torch::equal(trained->tensor("model.layers.0.self_attn.q_proj.weight"),
                              initial_store.get("model.layers.0.self_attn.q_proj.weight")));
    }
};

QTEST_GUILESS_MAIN(TestModelFamiliesCli)
#include "test_model_families_cli.moc"
