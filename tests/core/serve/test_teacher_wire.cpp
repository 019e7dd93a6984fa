// The served teacher's wire codec (core/serve/TeacherWire.h) against recorded answers of vLLM
// (prompt_logprobs), OpenAI's legacy echo + logprobs and SGLang's /generate
// (tests/data/teacher-server, written from their documented formats): all three decode to the same
// table; every malformed answer is an error naming the field; the requests are the documented ones;
// and the server-side request parser (CompletionRequest.h) refuses every malformed request with a
// 4xx status and a message.
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/serve/CompletionRequest.h"
#include "core/serve/TeacherWire.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

using namespace xopd;
using namespace xopd::serve;
using nlohmann::json;

namespace {

const std::vector<int64_t> kIds{9707, 11, 847, 829, 374};

json recorded(const char* name) { return readJsonFile(test::testData(QString("teacher-server/") + name).toStdString()); }

QString errorOf(TeacherApi api, const json& body, const std::vector<int64_t>& ids = kIds, int64_t topk = 2) {
    try {
        decodeScoreResponse(api, body, ids, 1, topk, "http://t:8000");
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

QString requestErrorOf(const std::string& body, int* status = nullptr) {
    RequestLimits lim;
    lim.model = "tiny";
    lim.vocab_size = 100;
    lim.max_model_len = 8;
    lim.max_logprobs = 5;
    lim.max_prompts = 2;
    try {
        parseCompletionRequest(body, lim);
    } catch (const RequestError& e) {
        if (status) *status = e.status();
        return e.what();
    }
    return {};
}

}  // namespace

class TestTeacherWire : public QObject {
    Q_OBJECT
private slots:
    void threeServersSayTheSame_data() {
        QTest::addColumn<int>("api");
        QTest::addColumn<QString>("file");
        QTest::newRow("vllm") << int(TeacherApi::Vllm) << "vllm-prompt-logprobs.json";
        QTest::newRow("openai-echo") << int(TeacherApi::OpenAiEcho) << "openai-echo-logprobs.json";
        QTest::newRow("sglang") << int(TeacherApi::Sglang) << "sglang-generate.json";
    }
    void threeServersSayTheSame() {
        QFETCH(int, api);
        QFETCH(QString, file);
        const auto p = decodeScoreResponse(TeacherApi(api), recorded(file.toUtf8().constData()), kIds, 1, 2, "http://t:8000");
        // tests/data/teacher-server/README.md: the table every format encodes (exact binary fractions).
        const std::vector<double> lp{-2.1875, -3.5, -0.03125, -0.0078125};
        const std::vector<std::vector<std::pair<int64_t, double>>> top{
            {{0, -1.25}, {13, -1.75}}, {{358, -1.0}, {279, -1.5}}, {{829, -0.03125}, {374, -4.25}}, {{374, -0.0078125}, {1035, -5.5}}};
        QCOMPARE(p.size(), size_t(4));
        for (size_t i = 0; i < 4; ++i) {
            QCOMPARE(p[i].logprob, lp[i]);
            QCOMPARE(p[i].topk, top[i]);
        }
        // From a later position (the response of a teacher prompt of 3 tokens), without alternatives.
        const auto tail = decodeScoreResponse(TeacherApi(api), recorded(file.toUtf8().constData()), kIds, 3, 0, "http://t:8000");
        QCOMPARE(tail.size(), size_t(2));
        QCOMPARE(tail[0].logprob, -0.03125);
        QVERIFY(tail[0].topk.empty());
    }

    void tokenTextsForTheProbe() {
        const auto v = decodeTokenTexts(TeacherApi::Vllm, recorded("vllm-prompt-logprobs.json"), kIds, "u");
        QCOMPARE(v, (std::vector<std::string>{"", ",", " my", " name", " is"}));
        const auto s = decodeTokenTexts(TeacherApi::Sglang, recorded("sglang-generate.json"), kIds, "u");
        QCOMPARE(s, (std::vector<std::string>{"Hello", ",", " my", " name", " is"}));
        // Tokens spelled as ids carry no text to compare.
        const auto e = decodeTokenTexts(TeacherApi::OpenAiEcho, recorded("openai-echo-logprobs.json"), kIds, "u");
        QCOMPARE(e, std::vector<std::string>(5));
    }

    void modelCards() {
        for (const char* f : {"vllm-models.json", "sglang-models.json"}) {
            const auto c = decodeModelCard(TeacherApi::Vllm, recorded(f), "", "u");
            QCOMPARE(c.id, std::string("Qwen/Qwen2.5-7B-Instruct"));
            QCOMPARE(c.max_model_len, int64_t(32768));
            QVERIFY(c.tokenizer_sha256.empty());
        }
        try {
            decodeModelCard(TeacherApi::Vllm, recorded("vllm-models.json"), "other", "http://t:8000");
            QFAIL("a model the server does not serve was accepted");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("serves no model named 'other' (it serves: Qwen/Qwen2.5-7B-Instruct)"), e.what());
        }
    }

    // Answers to another prompt, another tokenizer or a broken server are errors naming the field.
    void malformedAnswersAreErrors() {
        auto v = recorded("vllm-prompt-logprobs.json");
        auto shortList = v;
        shortList["choices"][0]["prompt_logprobs"].erase(4);
        QVERIFY(errorOf(TeacherApi::Vllm, shortList).contains("has 4 entries for a 5-token prompt"));
        auto otherToken = v;
        otherToken["choices"][0]["prompt_logprobs"][2].erase("847");
        QVERIFY(errorOf(TeacherApi::Vllm, otherToken).contains("prompt_logprobs[2]': has no entry for the prompt's token 847"));
        auto text = v;
        text["choices"][0]["prompt_logprobs"][3]["829"]["logprob"] = "-0.03";
        QVERIFY(errorOf(TeacherApi::Vllm, text).contains("expected a number"));
        auto positive = v;
        positive["choices"][0]["prompt_logprobs"][3]["829"]["logprob"] = 0.5;
        QVERIFY(errorOf(TeacherApi::Vllm, positive).contains("not a log-probability"));
        auto noPl = v;
        noPl["choices"][0].erase("prompt_logprobs");
        QVERIFY(errorOf(TeacherApi::Vllm, noPl).contains("'choices[0].prompt_logprobs': missing"));
        QVERIFY(errorOf(TeacherApi::Vllm, json::array()).contains("'choices': missing"));
        QVERIFY(errorOf(TeacherApi::Vllm, json{{"choices", json::array()}}).contains("non-empty array"));

        auto s = recorded("sglang-generate.json");
        auto wrongId = s;
        wrongId["meta_info"]["input_token_logprobs"][2][1] = 848;
        QVERIFY(errorOf(TeacherApi::Sglang, wrongId).contains("is token 848, the prompt has 847"));
        auto nullLp = s;
        nullLp["meta_info"]["input_token_logprobs"][3][0] = nullptr;
        QVERIFY(errorOf(TeacherApi::Sglang, nullLp).contains("input_token_logprobs[3][0]': expected a number"));
        auto noTop = s;
        noTop["meta_info"].erase("input_top_logprobs");
        QVERIFY(errorOf(TeacherApi::Sglang, noTop).contains("meta_info.input_top_logprobs': missing"));
        QVERIFY(errorOf(TeacherApi::Sglang, noTop, kIds, 0).isEmpty());  // not needed without top-k

        auto e = recorded("openai-echo-logprobs.json");
        auto textKeys = e;
        textKeys["choices"][0]["logprobs"]["top_logprobs"][1] = json{{",", -2.1875}, {"!", -1.25}};
        QVERIFY(errorOf(TeacherApi::OpenAiEcho, textKeys).contains("return_tokens_as_token_ids"));
        QVERIFY(errorOf(TeacherApi::OpenAiEcho, textKeys, kIds, 0).isEmpty());
        auto otherEcho = e;
        otherEcho["choices"][0]["logprobs"]["tokens"][1] = "token_id:12";
        QVERIFY(errorOf(TeacherApi::OpenAiEcho, otherEcho).contains("is token_id:12, the prompt has 11"));
        auto noEcho = e;
        noEcho["choices"][0]["logprobs"]["token_logprobs"] = json::array({-0.4375});
        QVERIFY(errorOf(TeacherApi::OpenAiEcho, noEcho).contains("echo the prompt"));
    }

    void requestsAreTheDocumentedOnes() {
        const std::vector<int64_t> ids{1, 2, 3};
        QCOMPARE(encodeScoreRequest(TeacherApi::Vllm, ids, 5, "m"),
                 json::parse(R"({"model":"m","prompt":[1,2,3],"max_tokens":1,"temperature":0,"prompt_logprobs":5})"));
        QCOMPARE(encodeScoreRequest(TeacherApi::OpenAiEcho, ids, 0, ""),
                 json::parse(R"({"prompt":[1,2,3],"max_tokens":1,"temperature":0,"echo":true,"logprobs":1,"return_tokens_as_token_ids":true})"));
        QCOMPARE(encodeScoreRequest(TeacherApi::Sglang, ids, 2, "ignored"),
                 json::parse(R"({"input_ids":[1,2,3],"sampling_params":{"max_new_tokens":1,"temperature":0},"return_logprob":true,)"
                             R"("logprob_start_len":0,"top_logprobs_num":2,"return_text_in_logprobs":true})"));
        QCOMPARE(scoreRequestPath(TeacherApi::Sglang), std::string("/generate"));
        QCOMPARE(scoreRequestPath(TeacherApi::Vllm), std::string("/v1/completions"));
        QCOMPARE(parseTeacherApi("openai-echo"), TeacherApi::OpenAiEcho);
        QCOMPARE(parseTeacherApi("tgi"), TeacherApi::Invalid);
    }

    void urls() {
        auto u = parseTeacherUrl("http://gpu7:8000/v1/");
        QCOMPARE(u.origin, std::string("http://gpu7:8000"));
        QCOMPARE(u.prefix, std::string(""));
        u = parseTeacherUrl("https://proxy.example/teacher/v1");
        QCOMPARE(u.origin, std::string("https://proxy.example"));
        QCOMPARE(u.prefix, std::string("/teacher"));
        for (const char* bad : {"gpu7:8000", "ftp://x", "http://", "http://user:key@host:1"}) {
            try {
                parseTeacherUrl(bad);
                QFAIL(bad);
            } catch (const Error& e) {
                QVERIFY2(QString(e.what()).contains(bad), e.what());
            }
        }
    }

    void errorMessagesOfServers() {
        QCOMPARE(errorMessageOf(R"({"error":{"message":"bad id","type":"x","code":400}})"), std::string("bad id"));
        QCOMPARE(errorMessageOf(R"({"object":"error","message":"vllm says","code":400})"), std::string("vllm says"));
        QCOMPARE(errorMessageOf(R"({"detail":"Not Found"})"), std::string("Not Found"));
        QCOMPARE(errorMessageOf("plain text"), std::string("plain text"));
    }

    // The server's request parser: every malformed request is a 4xx with a message.
    void malformedRequestsAre4xx_data() {
        QTest::addColumn<QString>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("message");
        QTest::newRow("not json") << "{\"prompt\": [1," << 400 << "not JSON";
        QTest::newRow("not an object") << "[1,2]" << 400 << "must be a JSON object";
        // Found by fuzz_teacher_wire: a number beyond double is nlohmann's out_of_range, not a parse_error.
        QTest::newRow("number overflow") << R"({"prompt":[1,38888888888888888888E88888888888]})" << 400 << "not JSON";
        QTest::newRow("no prompt") << "{}" << 400 << "'prompt': missing";
        QTest::newRow("text prompt") << R"({"prompt":"hello"})" << 400 << "text prompts are not served";
        QTest::newRow("empty prompt") << R"({"prompt":[]})" << 400 << "is empty";
        QTest::newRow("float id") << R"({"prompt":[1,2.5]})" << 400 << "'prompt[1]': expected a token id";
        QTest::newRow("id out of range") << R"({"prompt":[1,100]})" << 400 << "token id 100 outside the vocabulary [0, 100)";
        QTest::newRow("negative id") << R"({"prompt":[[1],[-1]]})" << 400 << "'prompt[1][0]'";
        QTest::newRow("too long") << R"({"prompt":[1,2,3,4,5,6,7,8,9]})" << 400 << "9 tokens, more than the model's 8";
        QTest::newRow("too many prompts") << R"({"prompt":[[1],[2],[3]]})" << 400 << "3 prompts, more than 2";
        QTest::newRow("max_tokens beyond") << R"({"prompt":[1,2,3],"max_tokens":6})" << 400 << "'max_tokens': 6 is outside [0, 5]";
        QTest::newRow("max_tokens text") << R"({"prompt":[1],"max_tokens":"3"})" << 400 << "expected an integer";
        QTest::newRow("logprobs too many") << R"({"prompt":[1],"prompt_logprobs":6})" << 400 << "'prompt_logprobs': 6 is outside [0, 5]";
        QTest::newRow("temperature") << R"({"prompt":[1],"temperature":-1})" << 400 << "'temperature'";
        QTest::newRow("top_p 0") << R"({"prompt":[1],"top_p":0})" << 400 << "must be in (0, 1]";
        QTest::newRow("n") << R"({"prompt":[1],"n":2})" << 400 << "'n'";
        QTest::newRow("stream") << R"({"prompt":[1],"stream":true})" << 400 << "streaming is not served";
        QTest::newRow("echo text") << R"({"prompt":[1],"echo":"yes"})" << 400 << "expected true or false";
        QTest::newRow("other model") << R"({"model":"big","prompt":[1]})" << 404 << "the model 'big' does not exist";
    }
    void malformedRequestsAre4xx() {
        QFETCH(QString, body);
        QFETCH(int, status);
        QFETCH(QString, message);
        int got = 0;
        const QString err = requestErrorOf(body.toStdString(), &got);
        QVERIFY2(err.contains(message), qPrintable(err));
        QCOMPARE(got, status);
    }

    void wellFormedRequestsParse() {
        QVERIFY(requestErrorOf(R"({"model":"tiny","prompt":[[1,2],[3]],"max_tokens":0,"prompt_logprobs":5,"top_k":-1,"seed":3,"extra":1})").isEmpty());
        RequestLimits lim;
        lim.model = "tiny";
        lim.vocab_size = 100;
        lim.max_model_len = 8;
        const auto r = parseCompletionRequest(R"({"prompt":[1,2,3],"echo":true,"logprobs":2,"max_tokens":1,"temperature":0})", lim);
        QCOMPARE(r.prompts, (std::vector<std::vector<int64_t>>{{1, 2, 3}}));
        QCOMPARE(r.topkNeeded(), int64_t(2));
        QVERIFY(r.echo);
        QCOMPARE(r.max_tokens, int64_t(1));
        // Leaving max_tokens out: OpenAI's 16, cut to the room the model has.
        QCOMPARE(parseCompletionRequest(R"({"prompt":[1,2,3]})", lim).max_tokens, int64_t(5));
    }

    // What the server answers is what the client reads (the same table, both shapes).
    void serverAnswersDecode() {
        CompletionRequest req;
        req.prompts = {kIds};
        req.prompt_logprobs = 2;
        req.max_tokens = 1;
        PromptScores sc;
        sc.logprob = {0, -2.1875, -3.5, -0.03125, -0.0078125};
        sc.rank = {0, 3, 5, 1, 1};
        sc.topk = {{}, {{0, -1.25}, {13, -1.75}}, {{358, -1.0}, {279, -1.5}}, {{829, -0.03125}, {374, -4.25}}, {{374, -0.0078125}, {1035, -5.5}}};
        Generated g;
        g.tokens = {3757};
        g.logprobs = {-0.4375};
        auto decode = [](const std::vector<int64_t>& v) {
            std::string s;
            for (auto id : v) s += "<" + std::to_string(id) + ">";
            return s;
        };
        const auto body = encodeCompletionResponse(req, "tiny", {sc}, {g}, decode, "cmpl-1", 5);
        const auto p = decodeScoreResponse(TeacherApi::Vllm, body, kIds, 1, 2, "u");
        QCOMPARE(p[0].logprob, -2.1875);
        QCOMPARE(p[1].topk, (std::vector<std::pair<int64_t, double>>{{358, -1.0}, {279, -1.5}}));
        QCOMPARE(body["choices"][0]["prompt_logprobs"][2]["847"]["rank"].get<int64_t>(), int64_t(5));
        req.prompt_logprobs = -1;
        req.echo = true;
        req.logprobs = 2;
        req.tokens_as_ids = true;
        const auto echo = encodeCompletionResponse(req, "tiny", {sc}, {g}, decode, "cmpl-2", 5);
        const auto e = decodeScoreResponse(TeacherApi::OpenAiEcho, echo, kIds, 1, 2, "u");
        QCOMPARE(e[3].logprob, -0.0078125);
        QCOMPARE(e[0].topk, (std::vector<std::pair<int64_t, double>>{{0, -1.25}, {13, -1.75}}));
        QCOMPARE(echo["choices"][0]["text"].get<std::string>(), std::string("<9707><11><847><829><374><3757>"));
        QCOMPARE(echo["usage"]["total_tokens"].get<int64_t>(), int64_t(6));
    }
};

QTEST_APPLESS_MAIN(TestTeacherWire)
#include "test_teacher_wire.moc"
