// The `xopd distill` CLI as a real child process: a run killed with SIGKILL mid-run and resumed
// with --resume recomputes the lost steps identically (same data order, same RNG state): its
// metrics equal those of an uninterrupted run with the same seed, and metrics.sqlite passes
// PRAGMA integrity_check. Malformed configs fail with the file and field named.
#include "core/common/Error.h"
#include "core/common/TorchRuntime.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunStore.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

#include <csignal>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

using namespace xopd;

namespace {

const int kSteps = 40;

void writeConfig(const QString& path) {
    nlohmann::json j = {
        {"student", {{"kind", "toy"}}},
        {"teacher", {{"kind", "toy"}}},
        {"data", {{"toy_prompts", 24}}},
        {"rollout", {{"rollouts_per_prompt", 2}, {"max_new_tokens", 32}}},
        {"loss", {{"method", "x-opd"}, {"lambda", 0.5}}},
        {"train", {{"batch_size", 6}, {"lr", 0.01}, {"max_steps", kSteps}, {"checkpoint_every", 4}, {"seed", 7}}},
    };
    std::ofstream(path.toStdString()) << j.dump(2);
}

QStringList env() { return {"XOPD_THREADS=1"}; }

bool comparable(const std::string& key) { return key.rfind("time/", 0) != 0 && key != "tokens_per_s"; }

/// Starts `xopd ARGS` as a child and waits until its run folder has `steps` steps (false if the
/// child ended first or it took over a minute).
bool startRunAndWaitForSteps(QProcess& p, const QStringList& args, const QString& run_dir, int64_t steps) {
    auto e = QProcessEnvironment::systemEnvironment();
    e.insert("XOPD_THREADS", "1");
    p.setProcessEnvironment(e);
    p.start(test::cliPath(), args);
    if (!p.waitForStarted()) return false;
    for (int i = 0; i < 6000; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (p.state() != QProcess::Running) return false;
        if (!QFile::exists(run_dir + "/metrics.sqlite")) continue;
        try {
            if (run::RunReader(run_dir.toStdString()).lastStep() >= steps) return true;
        } catch (const Error&) {
        }
    }
    return false;
}

}  // namespace

class TestDistillCli : public QObject {
    Q_OBJECT

private slots:
    void killedRunResumesIdentically() {
        QTemporaryDir tmp;
        const QString cfg = tmp.filePath("run.json");
        writeConfig(cfg);
        const QString a = tmp.filePath("runs/uninterrupted"), b = tmp.filePath("runs/killed");

        auto ra = test::runProgram(test::cliPath(), {"distill", "--config", cfg, "--run-dir", a}, 300000, env());
        QVERIFY2(ra.exitCode == 0, qPrintable(ra.err + ra.out));
        QVERIFY(ra.out.contains("step " + QString::number(kSteps) + "/" + QString::number(kSteps)));

        QProcess p;
        auto e = QProcessEnvironment::systemEnvironment();
        e.insert("XOPD_THREADS", "1");
        p.setProcessEnvironment(e);
        p.start(test::cliPath(), {"distill", "--config", cfg, "--run-dir", b});
        QVERIFY(p.waitForStarted());
        int64_t seen = 0;
        for (int i = 0; i < 6000 && seen < 7; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            if (!QFile::exists(b + "/metrics.sqlite")) continue;
            try {
                run::RunReader r(b.toStdString());
                seen = r.lastStep();
            } catch (const Error&) {
            }
        }
        QVERIFY2(p.state() == QProcess::Running, "the run ended before it could be killed");
        p.kill();  // SIGKILL
        p.waitForFinished();
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);
        int64_t atKill = 0;
        {
            run::RunReader r(b.toStdString());
            atKill = r.lastStep();
            QCOMPARE(QString::fromStdString(r.integrityCheck()), QString("ok"));
        }
        QVERIFY2(atKill >= 7 && atKill < kSteps, qPrintable(QString("killed at step %1").arg(atKill)));
        const auto list = test::runProgram(test::cliPath(), {"runs", "list", tmp.filePath("runs")});
        QVERIFY2(list.out.contains("interrupted"), qPrintable(list.out));

        auto rb = test::runProgram(test::cliPath(), {"distill", "--resume", "--run-dir", b}, 300000, env());
        QVERIFY2(rb.exitCode == 0, qPrintable(rb.err + rb.out));

        run::RunReader ref(a.toStdString()), got(b.toStdString());
        QCOMPARE(QString::fromStdString(got.integrityCheck()), QString("ok"));
        const auto sa = ref.stepsSince(0), sb = got.stepsSince(0);
        QCOMPARE(int(sa.size()), kSteps);
        QCOMPARE(int(sb.size()), kSteps);
        int compared = 0;
        for (size_t i = 0; i < sa.size(); ++i) {
            QCOMPARE(sb[i].step, sa[i].step);
            for (const auto& [k, v] : sa[i].scalars) {
                if (!comparable(k)) continue;
                QVERIFY2(sb[i].scalars.count(k), k.c_str());
                QVERIFY2(sb[i].scalars.at(k) == v, qPrintable(QString("step %1 %2: %3 vs %4").arg(sa[i].step).arg(QString::fromStdString(k))
                                                                  .arg(sb[i].scalars.at(k), 0, 'g', 17).arg(v, 0, 'g', 17)));
                ++compared;
            }
        }
        QVERIFY(compared > kSteps * 20);
        // Same data order: the prompts of every step match.
        const auto pa = ref.samplesSince(0), pb = got.samplesSince(0);
        QCOMPARE(pa.size(), pb.size());
        for (size_t i = 0; i < pa.size(); ++i) {
            QCOMPARE(pb[i].prompt_id, pa[i].prompt_id);
            QCOMPARE(pb[i].response_text, pa[i].response_text);
        }
        bool sawResume = false;
        for (const auto& ev : got.eventsSince(0)) sawResume |= ev.kind == "resume";
        QVERIFY(sawResume);

        const auto list2 = test::runProgram(test::cliPath(), {"runs", "list", tmp.filePath("runs")});
        QCOMPARE(list2.exitCode, 0);
        QVERIFY2(list2.out.contains("killed") && list2.out.contains("uninterrupted") && list2.out.contains("finished"), qPrintable(list2.out));
    }

    // SIGTERM and SIGHUP (Slurm, systemd) stop like Ctrl-C: at a step boundary, with a checkpoint,
    // and an exit status of 128 + the signal that says the run did not finish.
    void stopSignalsStopAtAStepBoundary_data() {
        QTest::addColumn<int>("signo");
        QTest::newRow("SIGTERM") << int(SIGTERM);
        QTest::newRow("SIGHUP") << int(SIGHUP);
        QTest::newRow("SIGINT") << int(SIGINT);
    }
    void stopSignalsStopAtAStepBoundary() {
        QFETCH(int, signo);
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        QProcess p;
        QVERIFY(startRunAndWaitForSteps(p, {"distill", "--toy", "--max-steps", "100000", "--run-dir", dir}, dir, 2));
        ::kill(pid_t(p.processId()), signo);
        QVERIFY(p.waitForFinished(120000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);  // it stopped itself; the signal did not kill it
        QCOMPARE(p.exitCode(), 128 + signo);
        QVERIFY2(QString(p.readAllStandardOutput()).contains("did not finish"), "no word that the run did not finish");
        run::RunReader r(dir.toStdString());
        const int64_t steps = r.lastStep();
        QVERIFY(steps >= 2);
        QString state;
        for (const auto& e : r.eventsSince(0))
            if (e.kind == "state") state = QString::fromStdString(e.name);
        QCOMPARE(state, QString("stopped"));
        QCOMPARE(QString::fromStdString(run::latestCheckpointName(dir.toStdString())),
                 QString::fromStdString(run::checkpointName(steps)));  // checkpointed at the last step
    }

    // Two writers of one run folder: the second `--resume` is refused, naming the folder and the
    // first one's pid; the first run goes on undisturbed.
    void aSecondResumeIsRefused() {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("run");
        QProcess p;
        QVERIFY(startRunAndWaitForSteps(p, {"distill", "--toy", "--max-steps", "100000", "--run-dir", dir}, dir, 1));
        const auto second = test::runCli({"distill", "--resume", "--run-dir", dir, "--max-steps", "3"});
        QCOMPARE(second.exitCode, 1);
        QVERIFY2(second.err.contains(dir) && second.err.contains("in use by process " + QString::number(p.processId())),
                 qPrintable(second.err));
        QCOMPARE(p.state(), QProcess::Running);
        ::kill(pid_t(p.processId()), SIGTERM);
        QVERIFY(p.waitForFinished(120000));
        QCOMPARE(p.exitCode(), 128 + SIGTERM);
    }

    void malformedConfigFailsClearly() {
        QTemporaryDir tmp;
        const QString cfg = tmp.filePath("broken.json");
        std::ofstream(cfg.toStdString()) << R"({"loss": {"lambda": -0.5}})";
        const auto r = test::runCli({"distill", "--config", cfg, "--run-dir", tmp.filePath("r")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("broken.json") && r.err.contains("loss.lambda"), qPrintable(r.err));
        QVERIFY(!QFile::exists(tmp.filePath("r/run.json")));
        const auto r2 = test::runCli({"distill", "--resume", "--run-dir", tmp.filePath("nothing")});
        QCOMPARE(r2.exitCode, 1);
        QVERIFY2(r2.err.contains("not a run folder"), qPrintable(r2.err));
    }

    // --demo without a kit: the kit's problem said once, and no run folder left behind (a run that
    // cannot load its models is refused before its folder is made).
    void aMissingDemoKitIsRefusedBeforeTheRunFolder() {
        QTemporaryDir tmp;
        const QString kit = tmp.filePath("no-kit-here");
        const auto r = test::runProgram(test::cliPath(), {"distill", "--demo", "--run-dir", tmp.filePath("runs/demo")},
                                        60000, {"XOPD_DEMO_KIT=" + kit});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains(kit + "/kit.json") && r.err.contains("xopd demo-kit build"), qPrintable(r.err));
        QVERIFY2(r.err.count("kit.json") == 1 && r.out.count("kit.json") == 0, qPrintable(r.out + r.err));
        QVERIFY(!QFileInfo::exists(tmp.filePath("runs/demo")));
    }

    // "train": {"device": "cuda"} without CUDA: one line naming the problem, no C++ backtrace
    // (issue 18.8).
    void cudaWithoutCudaIsOneClearLine() {
        if (xopd::cudaAvailable()) QSKIP("CUDA is available here");
        QTemporaryDir tmp;
        const QString cfg = tmp.filePath("cuda.json");
        std::ofstream(cfg.toStdString()) << R"({"student": {"kind": "toy"}, "teacher": {"kind": "toy"},
                                               "train": {"device": "cuda", "max_steps": 2}})";
        const auto r = test::runCli({"distill", "--config", cfg, "--run-dir", tmp.filePath("r")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("CUDA is not available in this build/machine"), qPrintable(r.err));
        QVERIFY2(!r.err.contains("Exception raised from") && !r.err.contains("frame #"), qPrintable(r.err));
    }
};

QTEST_APPLESS_MAIN(TestDistillCli)
#include "test_distill_cli.moc"
