// Answer matching (SQuAD-style normalisation), accuracy, the paper's relative drop and Avg. Drop
// (checked against numbers recomputed by hand from method.md §11), and the report table.
#include "core/common/Error.h"
#include "core/eval/AnswerMatch.h"
#include "core/eval/EvalReport.h"
#include "core/eval/Scores.h"

#include <QtTest/QtTest>

using namespace xopd::eval;

class TestEvalScores : public QObject {
    Q_OBJECT

private slots:
    void normalisation() {
        QCOMPARE(normalizeAnswer("  The  Answer, is: SEVEN!  "), std::string("answer is seven"));
        QCOMPARE(normalizeAnswer("an apple"), std::string("apple"));
        QCOMPARE(normalizeAnswer("theme"), std::string("theme"));  // "the" only as a whole word
    }

    void exactAndContains() {
        QVERIFY(answerMatches("Seven.", "seven", MatchMode::Exact));
        QVERIFY(!answerMatches("it is seven", "seven", MatchMode::Exact));
        QVERIFY(answerMatches("it is seven", "seven", MatchMode::Contains));
        QVERIFY(!answerMatches("seventeen", "seven", MatchMode::Contains));
        QVERIFY(answerMatches("the red apple, surely", "red apple", MatchMode::Contains));
        QVERIFY(!answerMatches("anything", "", MatchMode::Contains));
        QVERIFY(!answerMatches("", "the", MatchMode::Exact));  // reference normalises to empty
        QCOMPARE(parseMatchMode("contains"), MatchMode::Contains);
        QVERIFY_THROWS_EXCEPTION(xopd::Error, parseMatchMode("fuzzy"));
    }

    void accuracyAndDrops() {
        QCOMPARE(accuracyPercent(3, 4), 75.0);
        QVERIFY_THROWS_EXCEPTION(xopd::Error, accuracyPercent(0, 0));
        // drop = 100 (base - s) / base: base 80, score 60 -> 25 %.
        QCOMPARE(relativeDrop(80.0, 60.0), 25.0);
        QCOMPARE(relativeDrop(80.0, 88.0), -10.0);
        QVERIFY_THROWS_EXCEPTION(xopd::Error, relativeDrop(0.0, 1.0));
        // Two benchmarks: drops 25 % and 10 % -> Avg. Drop 17.5 %.
        QCOMPARE(averageDrop({80.0, 50.0}, {60.0, 45.0}), 17.5);
        QVERIFY_THROWS_EXCEPTION(xopd::Error, averageDrop({80.0}, {60.0, 45.0}));
    }

    void tableAndJson() {
        std::vector<EvalRow> rows{{"teacher", "kit/teacher", {std::nullopt, 100.0, 40}},
                                  {"student", "kit/student", {50.0, 95.0, 40}}};
        const std::string table = markdownTable(rows, 100.0);
        QVERIFY2(table.find("| student |") != std::string::npos, table.c_str());
        QVERIFY2(table.find("50.0") != std::string::npos, table.c_str());
        QVERIFY2(table.find("–") != std::string::npos, table.c_str());  // teacher has no S score
        const auto j = reportJson(rows, 100.0);
        QCOMPARE(j["rows"][1]["speech_drop"].get<double>(), 50.0);
        QCOMPARE(j["rows"][1]["text_drop"].get<double>(), 5.0);
        QVERIFY(j["rows"][0]["speech"].is_null());
        QVERIFY(markdownTable(rows, std::nullopt).find("ΔS") == std::string::npos);
    }
};

QTEST_APPLESS_MAIN(TestEvalScores)
#include "test_eval_scores.moc"
