// `xopd serve` on a tiny Qwen2 text model, on an ephemeral loopback port: the health and model
// endpoints; /v1/completions' prompt_logprobs equal the in-process teacher's log-probs
// (SpeechLmPolicy::responseLogits, the path a run without a server takes) within 1e-4 nats, with
// the same ranks and top-k; concurrent requests get the answers they get alone (they are batched
// together); the legacy echo + logprobs form says the same; malformed requests get 4xx with a
// message and the server stays up; bound beyond loopback it needs the Bearer key (401 without or
// with a wrong one) and refuses to start without one.
#include "core/distill/SpeechLmPolicy.h"
#include "core/model/runtime/ModelInputs.h"
#include "core/model/runtime/TinyModels.h"
#include "core/serve/TeacherWire.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Tokenizer.h"
#include "tests/support/ServeProcess.h"
#include "tests/support/TestSupport.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <thread>

using namespace xopd;
using nlohmann::json;

class TestTeacherServer : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string model_;
    test::ServeProcess server_;
    std::unique_ptr<httplib::Client> http_;

    json post(const json& body, int expect = 200) {
        auto res = http_->Post("/v1/completions", body.dump(), "application/json");
        if (!res) {
            QTest::qFail(qPrintable("no answer: " + QString::fromStdString(httplib::to_string(res.error()))), __FILE__, __LINE__);
            return {};
        }
        if (res->status != expect) qWarning("%s", res->body.c_str());
        if (res->status != expect) QTest::qFail(qPrintable(QString("status %1").arg(res->status)), __FILE__, __LINE__);
        return json::parse(res->body);
    }

    /// Teacher prompt ids of a transcript and the in-process teacher's log-probs of `response` after it.
    std::pair<std::vector<int64_t>, torch::Tensor> inProcess(const std::string& transcript, const std::vector<int64_t>& response) {
        const auto tok = text::Tokenizer::fromFile(model_);
        const auto prompt = model::userTurnPromptIds(tok, text::detectChatTemplateInFolder(model_), transcript, 0);
        distill::SpeechLmPolicyOptions o;
        o.folder = model_;
        distill::SpeechLmPolicy teacher(o);
        distill::PromptItem item;
        item.id = "p";
        item.transcript = transcript;
        torch::NoGradGuard g;
        const auto tokens = torch::tensor(response, torch::kLong).unsqueeze(0);
        const auto mask = torch::ones_like(tokens, torch::kBool);
        const auto full = teacher.responseLogits({item}, {0}, distill::Stream::Text, tokens, mask)[0];  // [L, V] log-probs
        return {prompt, full.log_softmax(-1)};
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        model::RandomWeightOptions wo;
        wo.seed = 5;
        model_ = model::buildTinyChatModel(dir_.filePath("teacher").toStdString(), model::ModelKind::Qwen2Text, wo);
        QVERIFY2(server_.start({"--model", QString::fromStdString(model_), "--served-model-name", "tiny-teacher",
                                "--max-body-bytes", "4096", "--batch-window-ms", "20"}),
                 qPrintable(server_.output()));
        http_ = std::make_unique<httplib::Client>(server_.url());
        http_->set_read_timeout(60, 0);
    }

    void healthAndModelCard() {
        auto h = http_->Get("/health");
        QVERIFY(h);
        QCOMPARE(h->status, 200);
        auto m = http_->Get("/v1/models");
        QVERIFY(m);
        QCOMPARE(m->status, 200);
        const auto card = serve::decodeModelCard(serve::TeacherApi::Vllm, json::parse(m->body), "tiny-teacher", server_.url());
        QCOMPARE(card.id, std::string("tiny-teacher"));
        QVERIFY(card.max_model_len > 0);
        QCOMPARE(card.vocab_size, model::TinyVocab::kRows);
        QCOMPARE(card.tokenizer_sha256, serve::tokenizerSha256(model_));
    }

    // The served log-probs are the in-process teacher's: same model, same forward pass shape.
    void promptLogprobsEqualTheInProcessTeacher() {
        const std::vector<int64_t> response{258, 259, 72, 101, 262};
        const auto [prompt, ref] = inProcess("the thing 3", response);
        std::vector<int64_t> ids(prompt);
        ids.insert(ids.end(), response.begin(), response.end());
        const auto body = post({{"model", "tiny-teacher"}, {"prompt", ids}, {"max_tokens", 1}, {"temperature", 0}, {"prompt_logprobs", 3}});
        const auto got = serve::decodeScoreResponse(serve::TeacherApi::Vllm, body, ids, int64_t(prompt.size()), 3, server_.url());
        QCOMPARE(got.size(), response.size());
        double worst = 0.0;
        for (size_t t = 0; t < response.size(); ++t) {
            const auto row = ref[int64_t(t)];
            const double want = row[response[t]].item<double>();
            worst = std::max(worst, std::abs(got[t].logprob - want));
            const auto [vals, idx] = row.topk(3);
            for (int64_t r = 0; r < 3; ++r) {
                QCOMPARE(got[t].topk[size_t(r)].first, idx[r].item<int64_t>());
                QVERIFY(std::abs(got[t].topk[size_t(r)].second - vals[r].item<double>()) < 1e-4);
            }
            const int64_t rank = row.gt(row[response[t]]).sum().item<int64_t>() + 1;
            const auto& e = body["choices"][0]["prompt_logprobs"][prompt.size() + t][std::to_string(response[t])];
            QCOMPARE(e["rank"].get<int64_t>(), rank);
            QVERIFY(e["decoded_token"].is_string());
        }
        qInfo("largest |served - in-process| log-prob: %.3g nats", worst);
        QVERIFY2(worst < 1e-4, qPrintable(QString::number(worst)));
        QVERIFY(body["choices"][0]["prompt_logprobs"][0].is_null());
        QCOMPARE(body["usage"]["prompt_tokens"].get<int64_t>(), int64_t(ids.size()));
    }

    // The same numbers in OpenAI's legacy echo + logprobs form; and the greedy next token of the
    // scoring pass is the one generation picks.
    void echoFormAndGreedyToken() {
        std::vector<int64_t> ids{261, 84, 104, 101, 262, 198, 261};
        const json req = {{"prompt", ids}, {"max_tokens", 1}, {"temperature", 0}, {"prompt_logprobs", 2}};
        const auto a = post(req);
        const auto b = post({{"prompt", ids}, {"max_tokens", 1}, {"temperature", 0}, {"echo", true}, {"logprobs", 2},
                             {"return_tokens_as_token_ids", true}});
        const auto va = serve::decodeScoreResponse(serve::TeacherApi::Vllm, a, ids, 1, 2, "u");
        const auto vb = serve::decodeScoreResponse(serve::TeacherApi::OpenAiEcho, b, ids, 1, 2, "u");
        for (size_t i = 0; i < va.size(); ++i) {
            QCOMPARE(va[i].logprob, vb[i].logprob);
            QCOMPARE(va[i].topk, vb[i].topk);
        }
        const auto& lp = b["choices"][0]["logprobs"];
        QCOMPARE(lp["tokens"].size(), ids.size() + 1);
        const std::string greedy = lp["tokens"][ids.size()].get<std::string>();
        // Two greedy tokens go through generation (KV cache), not the scoring pass: the first must agree.
        const auto g = post({{"prompt", ids}, {"max_tokens", 2}, {"temperature", 0}, {"logprobs", 0}, {"return_tokens_as_token_ids", true}});
        QCOMPARE(g["choices"][0]["logprobs"]["tokens"][0].get<std::string>(), greedy);
        QVERIFY(std::abs(g["choices"][0]["logprobs"]["token_logprobs"][0].get<double>() - lp["token_logprobs"][ids.size()].get<double>()) < 1e-4);
    }

    // Eight requests at once: each gets the answer it gets alone (one padded batch on the server).
    void concurrentRequestsAnswerAsAlone() {
        std::vector<std::vector<int64_t>> prompts;
        for (int i = 0; i < 8; ++i) {
            std::vector<int64_t> p{261};
            for (int j = 0; j <= i; ++j) p.push_back(97 + (i * 7 + j * 3) % 26);
            prompts.push_back(p);
        }
        std::vector<std::vector<serve::PositionLogprob>> alone, together(8);
        for (const auto& p : prompts)
            alone.push_back(serve::decodeScoreResponse(serve::TeacherApi::Vllm, post({{"prompt", p}, {"max_tokens", 0}, {"prompt_logprobs", 2}}),
                                                       p, 1, 2, "u"));
        std::vector<std::thread> threads;
        std::vector<std::string> bodies(8);
        for (int i = 0; i < 8; ++i)
            threads.emplace_back([&, i] {
                httplib::Client c(server_.url());
                c.set_read_timeout(60, 0);
                auto r = c.Post("/v1/completions", json{{"prompt", prompts[size_t(i)]}, {"max_tokens", 0}, {"prompt_logprobs", 2}}.dump(),
                                "application/json");
                if (r && r->status == 200) bodies[size_t(i)] = r->body;
            });
        for (auto& t : threads) t.join();
        double worst = 0.0;
        for (size_t i = 0; i < 8; ++i) {
            QVERIFY2(!bodies[i].empty(), "a concurrent request failed");
            together[i] = serve::decodeScoreResponse(serve::TeacherApi::Vllm, json::parse(bodies[i]), prompts[i], 1, 2, "u");
            for (size_t t = 0; t < alone[i].size(); ++t) {
                worst = std::max(worst, std::abs(alone[i][t].logprob - together[i][t].logprob));
                QCOMPARE(alone[i][t].topk.front().first, together[i][t].topk.front().first);
            }
        }
        QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
        // Two prompts in one request: two choices.
        const auto two = post({{"prompt", {prompts[0], prompts[3]}}, {"max_tokens", 0}, {"prompt_logprobs", 0}});
        QCOMPARE(two["choices"].size(), size_t(2));
        QCOMPARE(two["choices"][1]["index"].get<int>(), 1);
    }

    void malformedRequestsGet4xx_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("message");
        QTest::newRow("not json") << "/v1/completions" << QByteArray("{\"prompt\": [1,") << 400 << "not JSON";
        QTest::newRow("text prompt") << "/v1/completions" << QByteArray(R"({"prompt":"hi"})") << 400 << "send token ids";
        QTest::newRow("id beyond vocab") << "/v1/completions" << QByteArray(R"({"prompt":[1,99999]})") << 400 << "outside the vocabulary";
        QTest::newRow("logprobs > 20") << "/v1/completions" << QByteArray(R"({"prompt":[1],"prompt_logprobs":21})") << 400 << "outside [0, 20]";
        QTest::newRow("negative max_tokens") << "/v1/completions" << QByteArray(R"({"prompt":[1],"max_tokens":-1})") << 400 << "max_tokens";
        QTest::newRow("other model") << "/v1/completions" << QByteArray(R"({"model":"gpt-4","prompt":[1]})") << 404 << "does not exist";
        QTest::newRow("too large") << "/v1/completions" << QByteArray(R"({"prompt":[)") + QByteArray(5000, '1') + "]}" << 413 << "larger than 4096 bytes";
        QTest::newRow("no such endpoint") << "/v1/chat/completions" << QByteArray("{}") << 404 << "no such endpoint";
    }
    void malformedRequestsGet4xx() {
        QFETCH(QString, path);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, message);
        auto res = http_->Post(path.toStdString(), body.toStdString(), "application/json");
        QVERIFY(res);
        QCOMPARE(res->status, status);
        const auto j = json::parse(res->body, nullptr, false);
        QVERIFY2(j.is_object() && j.contains("error"), res->body.c_str());
        QVERIFY2(QString::fromStdString(j["error"]["message"].get<std::string>()).contains(message), res->body.c_str());
        QCOMPARE(j["error"]["code"].get<int>(), status);
        auto h = http_->Get("/health");  // still serving
        QVERIFY(h && h->status == 200);
    }

    // Beyond loopback: a key is required to start, and every request but /health needs it.
    void keyRequiredBeyondLoopback() {
        const auto refused = test::runCli({"serve", "--model", QString::fromStdString(model_), "--host", "0.0.0.0", "--port", "0"});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("refusing to serve on '0.0.0.0' without a key"), qPrintable(refused.err));
        const auto unset = test::runCli({"serve", "--model", QString::fromStdString(model_), "--api-key-env", "XOPD_TEST_NO_SUCH_VAR"});
        QCOMPARE(unset.exitCode, 1);
        QVERIFY2(unset.err.contains("'XOPD_TEST_NO_SUCH_VAR', which is not set"), qPrintable(unset.err));

        test::ServeProcess keyed;
        QVERIFY2(keyed.start({"--model", QString::fromStdString(model_), "--host", "0.0.0.0", "--api-key-env", "XOPD_TEST_KEY"},
                             {"XOPD_TEST_KEY=s3cret-key"}),
                 qPrintable(keyed.output()));
        QVERIFY(keyed.output().contains("Bearer key required"));
        QVERIFY(!keyed.output().contains("s3cret-key"));  // never printed
        httplib::Client c(keyed.url());
        auto none = c.Get("/v1/models");
        QVERIFY(none);
        QCOMPARE(none->status, 401);
        QVERIFY(QString::fromStdString(none->body).contains("missing 'Authorization: Bearer <key>' header"));
        httplib::Client wrong(keyed.url());
        wrong.set_bearer_token_auth("s3cret-kez");
        auto w = wrong.Post("/v1/completions", R"({"prompt":[1],"max_tokens":0})", "application/json");
        QVERIFY(w);
        QCOMPARE(w->status, 401);
        QVERIFY(QString::fromStdString(w->body).contains("wrong API key"));
        auto health = c.Get("/health");
        QVERIFY(health && health->status == 200);
        httplib::Client right(keyed.url());
        right.set_bearer_token_auth("s3cret-key");
        auto ok = right.Post("/v1/completions", R"({"prompt":[1,2],"max_tokens":0,"prompt_logprobs":1})", "application/json");
        QVERIFY(ok);
        QCOMPARE(ok->status, 200);
        QCOMPARE(keyed.stop(), 0);  // SIGTERM stops it cleanly
    }

    void cleanupTestCase() { QCOMPARE(server_.stop(), 0); }
};

QTEST_APPLESS_MAIN(TestTeacherServer)
#include "test_teacher_server.moc"
