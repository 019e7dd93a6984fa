// A run whose teacher is served over HTTP (`xopd serve` + `xopd distill --teacher-url`), against
// the same run with the teacher in process: a tiny Qwen2.5-Omni thinker student, a tiny Qwen2
// teacher, four spoken prompts (tones). The first step's loss, gradient norm and teacher log-probs
// match the in-process run within 1e-4 (both use the same model code; with mask_special_tokens off
// both teachers' log-probs are over the whole vocabulary, so the difference is batching noise:
// measured below); run.json names the URL and the key's variable, never the key; an unreachable
// URL pauses the run with the reason in its events (the headless CLI then stops with a checkpoint)
// and a resume once the server is up finishes it; a tokenizer that differs from the served one
// fails the run before its first step.
#include "core/audio/AudioFile.h"
#include "core/common/Json.h"
#include "core/model/runtime/TinyModels.h"
#include "core/run/RunFolder.h"
#include "core/run/RunStore.h"
#include "tests/support/ServeProcess.h"
#include "tests/support/TestSupport.h"
#include "tests/support/ToneManifest.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace xopd;
using nlohmann::json;

class TestServedTeacherCli : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString student_, teacher_, manifest_;
    test::ServeProcess server_;

    QString writeConfig(const QString& name, const json& teacherExtra = json::object()) {
        json teacher = {{"kind", "hf"}, {"path", teacher_.toStdString()}};
        for (auto it = teacherExtra.begin(); it != teacherExtra.end(); ++it) teacher[it.key()] = it.value();
        const json j = {
            {"student", {{"kind", "hf"}, {"path", student_.toStdString()}}},
            {"teacher", teacher},
            {"data", {{"manifest", manifest_.toStdString()}}},
            {"rollout", {{"rollouts_per_prompt", 2}, {"max_new_tokens", 5}}},
            {"loss", {{"method", "x-opd"}, {"lambda", 0.5}, {"mask_special_tokens", false}}},
            {"train", {{"batch_size", 2}, {"lr", 1e-3}, {"max_steps", 1}, {"checkpoint_every", 0}, {"seed", 3}, {"log_topk", 3},
                       {"trainable", "backbone"}}},
        };
        const QString path = dir_.filePath(name + ".json");
        std::ofstream(path.toStdString()) << j.dump(2);
        return path;
    }

    static std::map<std::string, double> firstStep(const QString& run) {
        run::RunReader reader(run.toStdString());
        const auto steps = reader.stepsSince(0);
        return steps.empty() ? std::map<std::string, double>{} : steps.front().scalars;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        student_ = QString::fromStdString(model::buildTinyChatModel(dir_.filePath("student").toStdString(), model::ModelKind::Qwen25OmniThinker));
        model::RandomWeightOptions wo;
        wo.seed = 5;
        teacher_ = QString::fromStdString(model::buildTinyChatModel(dir_.filePath("teacher").toStdString(), model::ModelKind::Qwen2Text, wo));
        manifest_ = test::writeToneManifest(dir_.path(), 4, /*reference=*/false);
        QVERIFY2(server_.start({"--model", teacher_, "--api-key-env", "XOPD_TEACHER_KEY"}, {"XOPD_TEACHER_KEY=k-123"}),
                 qPrintable(server_.output()));
    }

    void firstStepMatchesTheInProcessTeacher() {
        const QString config = writeConfig("base");
        const QString local = dir_.filePath("run-local"), served = dir_.filePath("run-served");
        const auto a = test::runCli({"distill", "--config", config, "--run-dir", local}, 300000);
        QVERIFY2(a.exitCode == 0, qPrintable(a.err + a.out));
        const auto b = test::runProgram(test::cliPath(),
                                        {"distill", "--config", config, "--run-dir", served, "--teacher-url",
                                         QString::fromStdString(server_.url()), "--teacher-api-key-env", "XOPD_TEACHER_KEY"},
                                        300000, {"XOPD_TEACHER_KEY=k-123"});
        QVERIFY2(b.exitCode == 0, qPrintable(b.err + b.out));
        const auto sa = firstStep(local), sb = firstStep(served);
        QVERIFY(!sa.empty() && !sb.empty());
        double worst = 0.0;
        for (const char* k : {"loss", "grad_norm", "speech/teacher_lp_mean", "text/teacher_lp_mean", "speech/adv_mean", "text/adv_mean"}) {
            QVERIFY2(sa.count(k) && sb.count(k), k);
            const double d = std::abs(sa.at(k) - sb.at(k)) / std::max(1.0, std::abs(sa.at(k)));
            worst = std::max(worst, d);
            QVERIFY2(d < 1e-4, qPrintable(QString("%1: in-process %2, served %3").arg(k).arg(sa.at(k), 0, 'g', 10).arg(sb.at(k), 0, 'g', 10)));
        }
        qInfo("first step, served vs in-process teacher: largest relative difference %.3g", worst);
        // The token view's records: the teacher's log-probs and top-k come from the server.
        run::RunReader ra(local.toStdString()), rb(served.toStdString());
        const auto ta = ra.tokensSince(0), tb = rb.tokensSince(0);
        QCOMPARE(ta.size(), tb.size());
        QVERIFY(!ta.empty());
        for (size_t i = 0; i < ta.size(); ++i)
            for (size_t t = 0; t < ta[i].tokens.size(); ++t) {
                QVERIFY(std::abs(ta[i].tokens[t].teacher_logprob - tb[i].tokens[t].teacher_logprob) < 1e-4);
                QCOMPARE(tb[i].tokens[t].teacher_topk.size(), ta[i].tokens[t].teacher_topk.size());
                if (!ta[i].tokens[t].teacher_topk.empty())
                    QCOMPARE(tb[i].tokens[t].teacher_topk.front().first, ta[i].tokens[t].teacher_topk.front().first);
            }
        // run.json: the URL and the key's variable, never the key.
        const std::string runJson = readTextFile((served + "/run.json").toStdString());
        const json rj = json::parse(runJson);
        QCOMPARE(rj["config"]["teacher"]["url"].get<std::string>(), server_.url());
        QCOMPARE(rj["config"]["teacher"]["api_key_env"].get<std::string>(), std::string("XOPD_TEACHER_KEY"));
        QCOMPARE(rj["fingerprints"]["teacher"]["url"].get<std::string>(), server_.url());
        QVERIFY(runJson.find("k-123") == std::string::npos);
        QVERIFY(!json::parse(readTextFile((local + "/run.json").toStdString()))["config"]["teacher"].contains("url"));
        // Without the key the server refuses, and the run says why.
        const auto c = test::runCli({"distill", "--config", config, "--run-dir", dir_.filePath("run-nokey"), "--teacher-url",
                                     QString::fromStdString(server_.url())});
        QCOMPARE(c.exitCode, 1);
        QVERIFY2(c.err.contains("HTTP 401") && c.err.contains("is the key right?"), qPrintable(c.err + c.out));
    }

    void unreachableServerPausesTheRun() {
        const int port = test::freeLoopbackPort();
        const std::string url = "http://127.0.0.1:" + std::to_string(port);
        const QString config = writeConfig("unreachable", {{"url", url}, {"retries", 1}, {"timeout_s", 2.0}});
        const QString run = dir_.filePath("run-unreachable");
        const auto r = test::runCli({"distill", "--config", config, "--run-dir", run}, 120000);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.out.contains("run paused (teacher at '" + QString::fromStdString(url) + "' unreachable: 2 tries"), qPrintable(r.out + r.err));
        run::RunReader reader(run.toStdString());
        QCOMPARE(reader.lastStep(), int64_t(0));
        bool paused = false;
        for (const auto& e : reader.eventsSince(0))
            if (e.kind == run::event_kind::kState && e.name == "paused") {
                paused = true;
                QVERIFY2(QString::fromStdString(e.message).contains("unreachable"), e.message.c_str());
            }
        QVERIFY(paused);
        // The server comes up where run.json says; the run resumes and finishes its step.
        test::ServeProcess late;
        QVERIFY2(late.start({"--model", teacher_, "--port", QString::number(port)}), qPrintable(late.output()));
        const auto resumed = test::runCli({"distill", "--resume", "--run-dir", run}, 300000);
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err + resumed.out));
        run::RunReader again(run.toStdString());
        QCOMPARE(again.lastStep(), int64_t(1));
    }

    void tokenizerMismatchFailsBeforeTheFirstStep() {
        // The server's copy of the teacher has a tokenizer that swaps the ids of "a" and "b"; the
        // run's teacher folder has the original.
        const QString other = dir_.filePath("teacher-other");
        QDir().mkpath(other);
        for (const QString& f : QDir(teacher_).entryList(QDir::Files)) QVERIFY(QFile::copy(teacher_ + "/" + f, other + "/" + f));
        json tok = readJsonFile((other + "/tokenizer.json").toStdString());
        auto& vocab = tok["model"]["vocab"];
        QVERIFY(vocab.contains("a") && vocab.contains("b"));
        std::swap(vocab["a"], vocab["b"]);
        QFile::remove(other + "/tokenizer.json");
        std::ofstream((other + "/tokenizer.json").toStdString()) << tok.dump();
        test::ServeProcess swapped;
        QVERIFY2(swapped.start({"--model", other}), qPrintable(swapped.output()));
        const QString run = dir_.filePath("run-mismatch");
        const auto r = test::runCli({"distill", "--config", writeConfig("mismatch"), "--run-dir", run, "--teacher-url",
                                     QString::fromStdString(swapped.url())},
                                    120000);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("tokenizer mismatch"), qPrintable(r.err + r.out));
        run::RunReader reader(run.toStdString());
        QCOMPARE(reader.lastStep(), int64_t(0));
    }

    void cleanupTestCase() { QCOMPARE(server_.stop(), 0); }
};

QTEST_APPLESS_MAIN(TestServedTeacherCli)
#include "test_served_teacher_cli.moc"
