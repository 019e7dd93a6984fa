// The Ask service streams its three answers token by token (AskRequest::on_text): each part's text
// grows one token at a time, in generation order (student on the audio, student on the transcript,
// teacher), the last text of each part is the final answer, and streaming changes no answer (the
// same seed with and without the callback gives the same texts).
#include "core/distill/DistillConfig.h"
#include "core/session/AskService.h"

#include <QtTest/QtTest>

#include <map>
#include <string>
#include <vector>

using namespace xopd;
using session::AskPart;

class TestAskStreaming : public QObject {
    Q_OBJECT
private slots:
    void answersGrowTokenByToken() {
        auto config = distill::toyDistillConfig();
        session::AskService ask(config);
        ask.load();
        session::AskRequest q;
        q.prompt = ask.prompts().at(0);
        q.max_new_tokens = 12;
        q.temperature = 1.0;  // the toy models then answer with several tokens
        q.seed = 5;
        const session::AskAnswer plain = ask.ask(q);

        std::map<AskPart, std::vector<std::string>> seen;
        std::vector<AskPart> order;
        q.on_text = [&](AskPart part, const std::string& text) {
            seen[part].push_back(text);
            if (order.empty() || order.back() != part) order.push_back(part);
        };
        const session::AskAnswer streamed = ask.ask(q);
        QCOMPARE(streamed.student_answer, plain.student_answer);
        QCOMPARE(streamed.student_text_answer, plain.student_text_answer);
        QCOMPARE(streamed.teacher_answer, plain.teacher_answer);

        const std::map<AskPart, std::string> finals{{AskPart::StudentSpeech, plain.student_answer},
                                                    {AskPart::StudentText, plain.student_text_answer},
                                                    {AskPart::Teacher, plain.teacher_answer}};
        int grown = 0;
        for (const auto& [part, answer] : finals) {
            const auto& texts = seen[part];
            if (answer.empty()) {
                QVERIFY(texts.empty());
                continue;
            }
            QVERIFY(!texts.empty());
            QCOMPARE(texts.back(), answer);
            for (size_t i = 1; i < texts.size(); ++i) {
                QVERIFY(texts[i].size() > texts[i - 1].size());
                QCOMPARE(texts[i].substr(0, texts[i - 1].size()), texts[i - 1]);
            }
            grown += texts.size() > 1;
        }
        QVERIFY2(grown >= 1, "no answer had more than one token: streaming went untested");
        // Generated one after the other: the student on the audio, on the transcript, then the teacher.
        std::vector<AskPart> want;
        for (AskPart p : {AskPart::StudentSpeech, AskPart::StudentText, AskPart::Teacher})
            if (!seen[p].empty()) want.push_back(p);
        QCOMPARE(order, want);
    }
};

QTEST_APPLESS_MAIN(TestAskStreaming)
#include "test_ask_streaming.moc"
