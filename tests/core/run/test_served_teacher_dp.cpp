// A served teacher that goes away under data parallel (README "A teacher over HTTP"): 2 ranks of
// `xopd distill --teacher-url` under `python3 -m torch.distributed.run --no_python` (a tiny Omni
// student, a tiny Qwen2 teacher served by `xopd serve` on 127.0.0.1):
//  - the server stopped mid-run: both ranks learn it at the same step (an allreduced flag after the
//    scoring phase), rewind it, and the job stops with a checkpoint at the previous step boundary,
//    the paused event naming the URL; with the server back on the same port `--resume` finishes
//    the run: every step once, per-step loss and grad norm those of an uninterrupted 2-rank run
//    within kLossTol (relative; fp32: the server batches the ranks' requests as they come), and
//    PRAGMA integrity_check ok;
//  - only rank 1 cannot reach the teacher (its --teacher-url names a closed port, rank 0's is
//    answered): both ranks end the same way (stopped, exit 1, checkpoint at step 0) well within
//    --dist-timeout, rank 0's reason naming rank 1 — never a hang, never one rank failing alone.
// Skipped when python3 has no torch.distributed (packaging/setup-debian.sh installs python3-torch).
#include "core/common/Error.h"
#include "core/model/runtime/TinyModels.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunFolder.h"
#include "core/run/RunStore.h"
#include "tests/support/ServeProcess.h"
#include "tests/support/TestSupport.h"
#include "tests/support/ToneManifest.h"
#include "tests/support/TorchrunLaunch.h"

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

using namespace xopd;
using nlohmann::json;

namespace {

const int kSteps = 4;
const double kLossTol = 1e-4;  ///< relative, per-step loss and grad norm
const int kDistTimeout_s = 30;  ///< --dist-timeout of the ranks; a teacher's retries take at most ~5 s here

/// The launcher's args for 2 ranks running `xopd ARGS`.
QStringList torchrunArgs(const QString& log_dir, const QStringList& args) { return test::torchrunArgs(2, log_dir, args); }

const QStringList kEnv{"XOPD_THREADS=1", "OMP_NUM_THREADS=1"};

double scalar(const StepMetrics& m, const std::string& k) {
    auto it = m.scalars.find(k);
    return it == m.scalars.end() ? std::nan("") : it->second;
}

/// The message of the run's first "paused" state event ("" when none).
std::string pausedReason(const QString& run) {
    run::RunReader reader(run.toStdString());
    for (const auto& e : reader.eventsSince(0))
        if (e.kind == run::event_kind::kState && e.name == "paused") return e.message;
    return {};
}

}  // namespace

class TestServedTeacherDp : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString teacher_, config_, reference_;
    int port_ = 0;
    std::string url_;

private slots:
    void initTestCase() {
        if (test::launcherPython().isEmpty()) QSKIP("python3 -m torch.distributed.run is not available (Debian: python3-torch)");
        QVERIFY(dir_.isValid());
        const QString student =
            QString::fromStdString(model::buildTinyChatModel(dir_.filePath("student").toStdString(), model::ModelKind::Qwen25OmniThinker));
        model::RandomWeightOptions wo;
        wo.seed = 5;
        teacher_ = QString::fromStdString(model::buildTinyChatModel(dir_.filePath("teacher").toStdString(), model::ModelKind::Qwen2Text, wo));
        const QString manifest = test::writeToneManifest(dir_.path(), 8, /*reference=*/false);
        port_ = test::freeLoopbackPort();
        url_ = "http://127.0.0.1:" + std::to_string(port_);
        const json j = {
            {"student", {{"kind", "hf"}, {"path", student.toStdString()}}},
            {"teacher", {{"kind", "hf"}, {"path", teacher_.toStdString()}, {"url", url_}, {"retries", 1}, {"timeout_s", 2.0}}},
            {"data", {{"manifest", manifest.toStdString()}}},
            {"rollout", {{"rollouts_per_prompt", 2}, {"max_new_tokens", 5}}},
            {"loss", {{"method", "x-opd"}, {"lambda", 0.5}, {"mask_special_tokens", false}}},
            // 4 prompts per step in 2 sampling groups: one per rank. No periodic checkpoints: the
            // one the stop writes holds the data order and generator after the rewound step.
            {"train", {{"batch_size", 4}, {"lr", 1e-3}, {"max_steps", kSteps}, {"checkpoint_every", 0}, {"seed", 3},
                       {"dp_sample_group", 2}, {"trainable", "backbone"}}},
        };
        config_ = dir_.filePath("run.json");
        std::ofstream(config_.toStdString()) << j.dump(2);
        // The uninterrupted reference: 2 ranks, the server up throughout.
        test::ServeProcess server;
        QVERIFY2(server.start({"--model", teacher_, "--port", QString::number(port_)}), qPrintable(server.output()));
        reference_ = dir_.filePath("runs/reference");
        QElapsedTimer t;
        t.start();
        const auto r = test::runProgram(test::launcherPython(), torchrunArgs(dir_.filePath("logs-ref"), {"distill", "--config", config_, "--run-dir", reference_}),
                                        300000, kEnv);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
        qInfo("uninterrupted 2-rank run: %.1f s", t.elapsed() / 1000.0);
    }

    void aStoppedServerStopsEveryRankAtOneStepAndResumeFinishes() {
        const QString run = dir_.filePath("runs/interrupted");
        auto server = std::make_unique<test::ServeProcess>();
        QVERIFY2(server->start({"--model", teacher_, "--port", QString::number(port_)}), qPrintable(server->output()));
        QProcess job;
        auto e = QProcessEnvironment::systemEnvironment();
        for (const auto& kv : kEnv) e.insert(kv.section('=', 0, 0), kv.section('=', 1));
        job.setProcessEnvironment(e);
        job.start(test::launcherPython(), torchrunArgs(dir_.filePath("logs-int"), {"distill", "--config", config_, "--run-dir", run,
                                                                             "--dist-timeout", QString::number(kDistTimeout_s)}));
        QVERIFY(job.waitForStarted());
        int64_t seen = 0;
        for (int i = 0; i < 12000 && seen < 2 && job.state() == QProcess::Running; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (!QFile::exists(run + "/metrics.sqlite")) continue;
            try {
                seen = run::RunReader(run.toStdString()).lastStep();
            } catch (const Error&) {
            }
        }
        QVERIFY2(seen >= 2 && job.state() == QProcess::Running, "the job ended before the server could be stopped");
        server.reset();  // SIGTERM: the port is closed from now on
        QVERIFY2(job.waitForFinished(120000), "the job did not end after the teacher went away");
        const QString out = QString::fromUtf8(job.readAllStandardOutput()), err = QString::fromUtf8(job.readAllStandardError());
        QVERIFY2(job.exitCode() != 0, qPrintable(out + err));
        QVERIFY2(!err.contains("collective") && !err.contains("Timed out"), qPrintable(err));
        const std::string reason = pausedReason(run);
        qInfo("stopped after %lld steps: %s", (long long)run::RunReader(run.toStdString()).lastStep(), reason.c_str());
        // Rank 0's own error names the URL; so does its message when only rank 1's request failed
        // (the server went between the two), which says where rank 0's were answered.
        QVERIFY2(reason.find("unreachable") != std::string::npos && reason.find("'" + url_ + "'") != std::string::npos, reason.c_str());
        QVERIFY2(out.contains("run paused (") && out.contains(QString::fromStdString(url_)), qPrintable(out + err));
        const int64_t stoppedAt = run::RunReader(run.toStdString()).lastStep();
        QVERIFY(stoppedAt >= 2 && stoppedAt < kSteps);
        QCOMPARE(QString::fromStdString(run::latestCheckpointName(run.toStdString())),
                 QString::fromStdString(run::checkpointName(stoppedAt)));

        // The server back where run.json says: the job resumes and finishes, every step once.
        test::ServeProcess back;
        QVERIFY2(back.start({"--model", teacher_, "--port", QString::number(port_)}), qPrintable(back.output()));
        const auto r = test::runProgram(test::launcherPython(), torchrunArgs(dir_.filePath("logs-res"), {"distill", "--resume", "--run-dir", run}),
                                        300000, kEnv);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
        run::RunReader ra(run.toStdString()), rb(reference_.toStdString());
        QCOMPARE(QString::fromStdString(ra.integrityCheck()), QString("ok"));
        const auto sa = ra.stepsSince(0), sb = rb.stepsSince(0);
        QCOMPARE(int(sa.size()), kSteps);
        QCOMPARE(int(sb.size()), kSteps);
        double worst = 0;
        for (int i = 0; i < kSteps; ++i) {
            QCOMPARE(sa[size_t(i)].step, int64_t(i + 1));
            for (const char* k : {"loss", "grad_norm"}) {
                const double x = scalar(sa[size_t(i)], k), y = scalar(sb[size_t(i)], k);
                const double d = std::abs(x - y) / std::max(1.0, std::abs(y));
                worst = std::max(worst, d);
                qInfo("step %d %s: resumed %.9g, uninterrupted %.9g", i + 1, k, x, y);
                QVERIFY2(d <= kLossTol, qPrintable(QString("step %1 %2: %3 vs %4").arg(i + 1).arg(k).arg(x, 0, 'g', 9).arg(y, 0, 'g', 9)));
            }
            QCOMPARE(sa[size_t(i)].json.at("dp/batch"), sb[size_t(i)].json.at("dp/batch"));
        }
        qInfo("largest relative difference of loss / grad_norm over %d steps: %.3g", kSteps, worst);
    }

    void oneRankWithoutTheTeacherStopsBothRanks() {
        test::ServeProcess server;
        QVERIFY2(server.start({"--model", teacher_, "--port", QString::number(port_)}), qPrintable(server.output()));
        const QString run = dir_.filePath("runs/one-rank-cut-off");
        const std::string closed = "http://127.0.0.1:" + std::to_string(test::freeLoopbackPort());
        const int port = test::freeLoopbackPort();
        // Launched by hand (rank 0 hosts the store), so that each rank gets its own --teacher-url.
        QProcess rank[2];
        for (int r = 0; r < 2; ++r)
            QVERIFY(test::startRank(rank[r], r, 2, port,
                                    {"distill", "--config", config_, "--run-dir", run, "--dist-timeout", QString::number(kDistTimeout_s),
                                     "--teacher-url", QString::fromStdString(r == 0 ? url_ : closed)}));
        QElapsedTimer clock;
        clock.start();
        for (auto& p : rank) QVERIFY2(p.waitForFinished(120000), "a rank did not end");
        const QString out0 = QString::fromUtf8(rank[0].readAllStandardOutput() + rank[0].readAllStandardError());
        const QString out1 = QString::fromUtf8(rank[1].readAllStandardOutput() + rank[1].readAllStandardError());
        qInfo("both ranks ended after %.1f s with %d and %d", clock.elapsed() / 1000.0, rank[0].exitCode(), rank[1].exitCode());
        QCOMPARE(rank[0].exitStatus(), QProcess::NormalExit);
        QCOMPARE(rank[1].exitStatus(), QProcess::NormalExit);
        QCOMPARE(rank[0].exitCode(), 1);
        QCOMPARE(rank[1].exitCode(), 1);
        QVERIFY2(!out0.contains("failed") && !out1.contains("failed"), qPrintable(out0 + "\n---\n" + out1));
        const std::string reason = pausedReason(run);
        QVERIFY2(reason.find("unreachable from rank 1 of 2") != std::string::npos, qPrintable(out0 + QString::fromStdString(reason)));
        QVERIFY2(out0.contains("run paused (the served teacher was unreachable from rank 1 of 2"), qPrintable(out0));
        run::RunReader reader(run.toStdString());
        QCOMPARE(reader.lastStep(), int64_t(0));
        QCOMPARE(QString::fromStdString(reader.integrityCheck()), QString("ok"));
    }
};

QTEST_APPLESS_MAIN(TestServedTeacherDp)
#include "test_served_teacher_dp.moc"
