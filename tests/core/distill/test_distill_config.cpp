// DistillConfig: documented defaults, JSON round-trip, and clear errors naming file and field.
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/distill/DistillConfig.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

#include <fstream>

using namespace xopd::distill;

class TestDistillConfig : public QObject {
    Q_OBJECT

private slots:
    void defaultsFollowThePaper() {
        const auto c = defaultDistillConfig(Method::XOpd);
        QCOMPARE(c.loss.lambda, 0.5);
        QCOMPARE(c.rollout.rollouts_per_prompt, int64_t(4));
        QCOMPARE(c.train.lr, 2e-6);
        QCOMPARE(c.train.batch_size, int64_t(256));
        QVERIFY(c.loss.divergence == Divergence::SampledK1);
        QVERIFY(c.train.trainable == Trainable::Backbone);
        QVERIFY(!c.train.train_audio_tower && !c.train.train_projector);
        const auto g = defaultDistillConfig(Method::Gkd);
        QVERIFY(g.loss.divergence == Divergence::ForwardKl);
        QCOMPARE(g.loss.lambda, 0.0);
        QCOMPARE(g.loss.gkd_lambda, 0.5);
        QCOMPARE(QString::fromStdString(divergenceLabel(Divergence::ForwardKl, 0)), QString("forward KL (teacher || student)"));
        QVERIFY(QString::fromStdString(divergenceLabel(Divergence::Jsd, 0.5)).contains("reverse KL (beta=1)"));
    }

    void jsonRoundTrip() {
        auto c = defaultDistillConfig(Method::Gkd);
        c.loss.divergence = Divergence::Jsd;
        c.loss.jsd_beta = 0.9;
        c.loss.extra_mask_ids = {5, 7};
        c.train.lora_targets = {"q_proj"};
        c.train.seed = 17;
        c.rollout.top_p = 0.9;
        const auto j = toJson(c);
        const auto back = distillConfigFromJson(j, "mem");
        QCOMPARE(toJson(back).dump(), j.dump());
        QCOMPARE(back.loss.jsd_beta, 0.9);
        QCOMPARE(back.train.seed, uint64_t(17));
    }

    void overlayStartsFromTheMethodDefaults() {
        const auto c = distillConfigFromJson(nlohmann::json::parse(R"({"loss": {"method": "gkd"}, "train": {"lr": 1e-5}})"), "x.json");
        QVERIFY(c.loss.divergence == Divergence::ForwardKl);
        QCOMPARE(c.train.lr, 1e-5);
        QCOMPARE(c.rollout.rollouts_per_prompt, int64_t(4));
    }

    void malformedConfigsNameFileAndField_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expect");
        QTest::newRow("bad json") << "{\"loss\": " << "not valid JSON";
        QTest::newRow("unknown top-level") << R"({"losss": {}})" << "unknown field 'losss'";
        QTest::newRow("unknown field") << R"({"loss": {"lamda": 0.3}})" << "unknown field 'loss.lamda'";
        QTest::newRow("wrong type") << R"({"loss": {"lambda": "half"}})" << "field 'loss.lambda': expected a number";
        QTest::newRow("out of range") << R"({"loss": {"lambda": 1.5}})" << "field 'loss.lambda': must be in [0, 1]";
        QTest::newRow("bad enum") << R"({"loss": {"method": "ppo"}})" << "field 'loss.method': unknown value 'ppo'";
        QTest::newRow("section not object") << R"({"train": 3})" << "field 'train': expected an object";
        QTest::newRow("x-opd with a KL") << R"({"loss": {"divergence": "forward_kl"}})" << "field 'loss.divergence'";
        QTest::newRow("negative steps") << R"({"train": {"max_steps": -1}})" << "field 'train.max_steps'";
        QTest::newRow("bad device") << R"({"train": {"device": "tpu"}})" << "field 'train.device'";
        QTest::newRow("sequences not multiple") << R"({"train": {"batch_unit": "sequences", "batch_size": 6}})" << "field 'train.batch_size'";
        QTest::newRow("hf without path") << R"({"student": {"kind": "hf"}, "teacher": {"kind": "hf", "path": "/t"}})" << "field 'student.path'";
        QTest::newRow("lora rank") << R"({"train": {"trainable": "lora", "lora_rank": 0}})" << "field 'train.lora_rank'";
    }
    void malformedConfigsNameFileAndField() {
        QFETCH(QString, text);
        QFETCH(QString, expect);
        QTemporaryDir dir;
        const std::string path = dir.filePath("bad-run.json").toStdString();
        std::ofstream(path) << text.toStdString();
        try {
            readDistillConfig(path);
            QFAIL("expected an error");
        } catch (const xopd::Error& e) {
            const QString msg = e.what();
            QVERIFY2(msg.contains("bad-run.json"), qPrintable(msg));
            QVERIFY2(msg.contains(expect), qPrintable(msg));
        }
    }

    void missingFileIsNamed() {
        try {
            readDistillConfig("/nonexistent/run.json");
            QFAIL("expected an error");
        } catch (const xopd::Error& e) {
            QVERIFY2(QString(e.what()).contains("/nonexistent/run.json"), e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TestDistillConfig)
#include "test_distill_config.moc"
