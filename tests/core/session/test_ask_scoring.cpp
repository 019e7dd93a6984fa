// One scoring path: the tokens a training step logged, re-scored by the Ask screen's service
// (AskService::scoreResponse), show the same numbers as the run's token records: both models'
// log-probs at the loss temperature, the shaped advantage, the entropy, which tokens are masked, the
// top-k alternatives and (speech rows) the modality gap. The config uses a loss temperature other
// than 1 and extra masked ids, so a scorer with its own temperature or masking fails here.
#include "core/common/Error.h"
#include "core/session/AskService.h"
#include "core/distill/RunModels.h"
#include "core/distill/Trainer.h"

#include <QtTest/QtTest>

#include <cmath>

using namespace xopd::distill;
using xopd::session::AskService;

namespace {

/// Logged values are float32 from forwards of different batch shapes: equal to float rounding.
constexpr float kTolerance = 1e-4f;

bool close(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::abs(a - b) <= kTolerance; }

DistillConfig scoringConfig() {
    auto c = toyDistillConfig();  // toy teacher and student
    c.rollout.max_new_tokens = 10;
    c.train.log_token_samples = 4;
    c.train.log_topk = 4;
    c.loss.loss_temperature = 0.8;
    c.loss.extra_mask_ids = {3, 4, 5, 6};
    c.loss.advantage_clip = 2.0;
    return c;
}

}  // namespace

class TestAskScoring : public QObject {
    Q_OBJECT

private slots:
    void askScoresRunTokensAsTheTrainerDid() {
        const auto config = scoringConfig();
        auto models = makeRunModels(config);
        Trainer trainer(config, models->student, models->teacher, models->prompts);
        const StepOutput step = trainer.step();  // records are scored before the update
        QVERIFY(!step.tokens.empty());

        AskService ask(config);  // loads the same toy models afresh
        ask.load();
        std::map<std::string, xopd::data::PromptItem> prompts;
        for (const auto& p : ask.prompts()) prompts[p.id] = p;

        int compared = 0, masked = 0, speech_rows = 0;
        for (const auto& logged : step.tokens) {
            QVERIFY2(prompts.count(logged.prompt_id), logged.prompt_id.c_str());
            std::vector<int32_t> ids;
            for (const auto& t : logged.tokens) ids.push_back(t.token_id);
            const auto rescored = ask.scoreResponse(prompts[logged.prompt_id], logged.stream, ids, config.train.log_topk);
            QCOMPARE(rescored.tokens.size(), logged.tokens.size());
            speech_rows += logged.stream == "speech";
            for (size_t i = 0; i < ids.size(); ++i) {
                const auto& a = logged.tokens[i];
                const auto& b = rescored.tokens[i];
                const QString where = QString("%1 row, token %2 (id %3)").arg(logged.stream.c_str()).arg(i).arg(a.token_id);
                QCOMPARE(b.token_id, a.token_id);
                QCOMPARE(b.text, a.text);
                QVERIFY2(b.masked == a.masked, qPrintable(where));
                QVERIFY2(close(b.student_logprob, a.student_logprob), qPrintable(where + " student log-prob"));
                QVERIFY2(close(b.teacher_logprob, a.teacher_logprob), qPrintable(where + " teacher log-prob"));
                QVERIFY2(close(b.advantage, a.advantage), qPrintable(where + " advantage"));
                QVERIFY2(close(b.entropy, a.entropy), qPrintable(where + " entropy"));
                if (logged.stream == "speech")  // the run logs the modality gap of speech rows only
                    QVERIFY2(close(b.student_other_logprob, a.student_other_logprob), qPrintable(where + " other modality"));
                QCOMPARE(b.student_topk.size(), a.student_topk.size());
                QCOMPARE(b.teacher_topk.size(), a.teacher_topk.size());
                for (size_t k = 0; k < a.student_topk.size(); ++k) {
                    QCOMPARE(b.student_topk[k].first, a.student_topk[k].first);
                    QVERIFY2(close(b.student_topk[k].second, a.student_topk[k].second), qPrintable(where + " student top-k"));
                }
                for (size_t k = 0; k < a.teacher_topk.size(); ++k) {
                    QCOMPARE(b.teacher_topk[k].first, a.teacher_topk[k].first);
                    QVERIFY2(close(b.teacher_topk[k].second, a.teacher_topk[k].second), qPrintable(where + " teacher top-k"));
                }
                masked += a.masked;
                ++compared;
            }
        }
        QVERIFY(compared >= 8);
        QVERIFY(speech_rows >= 1);
        QVERIFY2(masked >= 1, "no masked token among the logged ones: the masking path went untested");
    }

    void unknownStreamIsRefused() {
        AskService ask(scoringConfig());
        bool thrown = false;
        try {
            ask.scoreResponse({}, "video", {1, 2});
        } catch (const xopd::Error& e) {
            thrown = QString(e.what()).contains("'video'");
        }
        QVERIFY(thrown);
    }
};

QTEST_APPLESS_MAIN(TestAskScoring)
#include "test_ask_scoring.moc"
