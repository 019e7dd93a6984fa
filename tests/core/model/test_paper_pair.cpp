// The paper's pair, Qwen3-Omni-30B-A3B-Instruct (student) and Qwen3-30B-A3B-Instruct-2507 (teacher),
// through the compatibility gate from their real config.json files and the real Qwen3 tokenizer:
// 152064 vs 151936 embedding rows, the Omni-only audio tokens (151669-151675) and every padded row
// masked, the rest shared with the same strings.
#include "core/model/checkpoint/ModelConfig.h"
#include "core/model/runtime/RuntimeConfig.h"
#include "core/model/runtime/VocabAlignment.h"
#include "core/text/Tokenizer.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

#include <algorithm>
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
};

QTEST_GUILESS_MAIN(TestPaperPair)
#include "test_paper_pair.moc"
