// The paper's pair, Qwen3-Omni-30B-A3B-Instruct (student) and Qwen3-30B-A3B-Instruct-2507 (teacher),
// through the compatibility gate from their real config.json files and the real Qwen3 tokenizer:
// 152064 vs 151936 embedding rows, the Omni-only audio tokens (151669-151675) and every padded row
// masked, the rest shared with the same strings.
#include "core/distill/RunEstimate.h"
#include "core/model/checkpoint/ModelBudget.h"
#include "core/model/checkpoint/ModelConfig.h"
#include "core/model/runtime/RuntimeConfig.h"
#include "core/model/runtime/VocabAlignment.h"
#include "core/text/Tokenizer.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <memory>

using namespace xopd;
using namespace xopd::model;

class TestPaperPair : public QObject {
    Q_OBJECT

private slots:
    void compatibilityOfTheRealPair() {
        const auto student_cfg = runtimeConfigFrom(
            loadModelConfig(test::testData("model-configs/Qwen3-Omni-30B-A3B-Instruct/config.json").toStdString()));
        const auto teacher_cfg = runtimeConfigFrom(
            loadModelConfig(test::testData("model-configs/Qwen3-30B-A3B-Instruct-2507/config.json").toStdString()));
        QCOMPARE(student_cfg.kind, ModelKind::Qwen3OmniThinker);
        QCOMPARE(teacher_cfg.kind, ModelKind::Qwen3MoeText);
        // The Qwen3 tokenizer (151669 tokens, up to </think>); the Omni tokenizer is the same plus
        // <|audio_start|> … <|audio_pad|> (151669-151675, docs/models/qwen3-omni.md §1).
        auto tok = std::make_shared<text::Tokenizer>(
            text::Tokenizer::fromFile(test::testData("text/qwen3/tokenizer.json").toStdString()));
        QCOMPARE(tok->size(), 151669);
        VocabSide teacher = vocabSide("Qwen3-30B-A3B-Instruct-2507", teacher_cfg);
        VocabSide student = vocabSide("Qwen3-Omni-30B-A3B-Instruct", student_cfg);
        teacher.tokenizer_size = 151669;
        student.tokenizer_size = 151676;
        teacher.token_text = [tok](int64_t id) { return tok->idToToken(int32_t(id)); };
        student.token_text = [tok](int64_t id) { return id < 151669 ? tok->idToToken(int32_t(id)) : std::string("<omni>"); };
        const CompatibilityReport r = checkCompatibility(teacher, student);
        qInfo("%s", r.text().c_str());
        QVERIFY2(r.compatible, r.text().c_str());
        QVERIFY(r.alignment.qwen_rule);
        QCOMPARE(r.alignment.sharedCount(), int64_t(151643 + 3));
        const auto masked = r.alignment.maskedIds(152064);
        for (int64_t id : {151669, 151670, 151675, 151676, 152063})  // audio specials, padded rows
            QVERIFY2(std::binary_search(masked.begin(), masked.end(), id), qPrintable(QString::number(id)));
        for (int64_t id : {0, 151642, 151643, 151645})  // regular and the shared specials
            QVERIFY2(!std::binary_search(masked.begin(), masked.end(), id), qPrintable(QString::number(id)));
        QCOMPARE(int64_t(masked.size()), int64_t(152064 - 151646));
        QVERIFY2(QString::fromStdString(r.text()).contains("152064") && QString::fromStdString(r.text()).contains("151936"),
                 r.text().c_str());
    }

    // The set-up screen's and the run's memory estimate use the same per-part estimate as
    // `xopd inspect --memory` when the models are Hugging Face folders (here: the real configs).
    void runEstimateUsesTheModelShapes() {
        distill::DistillConfig c;
        c.student.kind = c.teacher.kind = distill::ModelSourceKind::Hf;
        c.student.path = test::testData("model-configs/Qwen3-Omni-30B-A3B-Instruct").toStdString();
        c.teacher.path = test::testData("model-configs/Qwen3-30B-A3B-Instruct-2507").toStdString();
        c.train.trainable = distill::Trainable::Lora;
        c.train.dtype = distill::TrainDtype::BFloat16;
        c.train.batch_size = 4;
        c.rollout.rollouts_per_prompt = 2;
        c.rollout.max_new_tokens = 512;
        const auto shapes = distill::modelShapesOf(c);
        QVERIFY(shapes.student && shapes.teacher);
        const auto e = distill::estimateRun(c, 0, 0, shapes);
        MemoryOptions o;
        o.training = Training::Lora;
        o.weight_bytes = 2;
        o.lora_rank = c.train.lora_rank;
        o.lora_targets = c.train.lora_targets;
        o.sequence_length = distill::kEstimatePromptTokens + 512;
        o.batch = int64_t(std::ceil(e.tokens_per_step / (0.5 * 512)));  // the sequences of one micro-batch
        const double gib = 1024.0 * 1024.0 * 1024.0;
        QCOMPARE(e.memory_gib, double(memoryNeedOf(*shapes.student, o).total()) / gib);
        o.training = Training::Frozen;
        QCOMPARE(e.teacher_memory_gib, double(memoryNeedOf(*shapes.teacher, o).total()) / gib);
        QVERIFY(e.memory_gib > 50 && e.teacher_memory_gib > 50);  // 30B models in bf16: weights alone ~57 GiB
        QVERIFY(QString::fromStdString(e.text).contains("from the models' configs"));
    }
};

QTEST_GUILESS_MAIN(TestPaperPair)
#include "test_paper_pair.moc"
