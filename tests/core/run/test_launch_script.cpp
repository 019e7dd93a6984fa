// Launch scripts (core/run/LaunchScript.h, `xopd launch-script`), run for real:
//  - every variant passes `bash -n`; shellQuote survives bash for strings with spaces, quotes, $,
//    backslashes and backticks;
//  - the torchrun script, run as written with Debian's launcher (/usr/bin/torchrun = python3 -m
//    torch.distributed.run, torch 1.13), trains a 2-rank toy run in a folder whose name has spaces,
//    quotes and `$(…)`; run.json holds exactly the config given; a second start resumes it;
//  - the sbatch script, run with a fake `srun` (starts SLURM_NTASKS tasks here, each with its
//    SLURM_PROCID / SLURM_LOCALID / SLURM_NTASKS) and `scontrol` on PATH, trains the same run as 2
//    Slurm ranks (the env contract end to end: MASTER_ADDR from scontrol, MASTER_PORT);
//  - with a teacher server, a recording stand-in for xopd shows the exact argv: `serve` first with
//    the model, host, port and key variable, then every rank's `distill --config … --teacher-url
//    … --teacher-api-key-env …`, whose config file plus those flags give back the run's config
//    exactly; the server is stopped when the script ends; without the key the script refuses;
//  - bad options are refused with the reason; `xopd launch-script` writes the same text, mode 0755.
// Skipped (the real runs) when Debian's torchrun is missing (packaging/setup-debian.sh installs python3-torch).
#include "core/common/Error.h"
#include "core/distill/DistillConfig.h"
#include "core/run/LaunchScript.h"
#include "core/run/RunStore.h"
#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <fstream>

using namespace xopd;

namespace {

/// A folder name no unquoted script survives.
const QString kNastyName = QStringLiteral("it's a \"run\" $(touch pwned) `x` \\ $HOME");

const char* kFakeSrun = R"(#!/bin/bash
# Fake srun: runs the command as SLURM_NTASKS tasks on this machine, as srun does on one node.
while [[ $# -gt 0 && $1 == -* ]]; do shift; done
n=${SLURM_NTASKS:?}
pids=()
for ((i = 0; i < n; ++i)); do
    SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NODEID=0 "$@" &
    pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=$?; done
exit $rc
)";

const char* kFakeScontrol = R"(#!/bin/bash
# Fake scontrol: the allocation's hosts, this machine first.
[ "$1 $2" = "show hostnames" ] && [ "$3" = "$SLURM_JOB_NODELIST" ] || { echo "scontrol: unexpected $*" >&2; exit 2; }
printf '127.0.0.1\nnode-two\n'
)";

/// Stands in for xopd: records each invocation's argv (NUL-separated) in $FAKE_LOG; `serve` listens
/// on its --port (127.0.0.1) until killed.
const char* kFakeXopd = R"(#!/bin/bash
if [ "$1" = serve ]; then
    printf '%s\0' "$@" > "$FAKE_LOG/serve.args"
    echo $$ > "$FAKE_LOG/serve.pid"
    port=$(printf '%s\n' "$@" | sed -n '/^--port$/{n;p}')
    exec /usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(600)' "$port"
fi
rank=${RANK:-${SLURM_PROCID:-x}}
printf '%s\0' "$@" > "$FAKE_LOG/distill-$rank.args"
printf '%s' "${TEACHER_KEY:-}" > "$FAKE_LOG/key-$rank"
)";

void writeExecutable(const QString& path, const char* text) {
    std::ofstream(path.toStdString()) << text;
    QVERIFY(::chmod(path.toLocal8Bit().constData(), 0755) == 0);
}

QStringList readArgs(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {"<missing " + path + ">"};
    QStringList out;
    for (const QByteArray& a : f.readAll().split('\0')) out << QString::fromUtf8(a);
    out.removeLast();  // after the last NUL
    return out;
}

/// The config a rank builds from `xopd distill ARGS` (--config FILE and the teacher flags).
nlohmann::json configFromArgs(const QStringList& args) {
    distill::DistillConfig c = distill::readDistillConfig(args.at(args.indexOf("--config") + 1).toStdString());
    if (const int i = args.indexOf("--teacher-url"); i >= 0) {
        c.served_teacher.url = args.at(i + 1).toStdString();
        c.served_teacher.api = "vllm";
        const int k = args.indexOf("--teacher-api-key-env");
        c.served_teacher.api_key_env = k >= 0 ? args.at(k + 1).toStdString() : "";
    }
    return distill::toJson(c);
}

distill::DistillConfig toyRun(int steps) {
    distill::DistillConfig c = distill::toyDistillConfig(distill::Method::XOpd);
    c.train.max_steps = steps;
    c.train.checkpoint_every = 2;
    c.train.seed = 11;
    c.rollout.max_new_tokens = 8;
    c.loss.lambda = 0.3;  // not a default: the config must travel, not be rebuilt
    return c;
}

QString torchrunPath() { return QFileInfo::exists("/usr/bin/torchrun") ? QString("/usr/bin/torchrun") : QString(); }

}  // namespace

class TestLaunchScript : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    QString bin_;  ///< fake srun and scontrol

    test::ProcessResult runScript(const QString& script, const QStringList& env, int timeout_ms = 180000) {
        QStringList e = env;
        e << "XOPD_THREADS=1" << "OMP_NUM_THREADS=1";
        return test::runProgram("/bin/bash", {script}, timeout_ms, e);
    }

    QString write(const QString& name, const distill::DistillConfig& c, const run::LaunchScriptOptions& o) {
        const QString path = tmp_.filePath(name);
        run::writeLaunchScript(path.toStdString(), run::launchScript(c, o));
        return path;
    }

private slots:
    void initTestCase() {
        QVERIFY(tmp_.isValid());
        bin_ = tmp_.filePath("bin");
        QVERIFY(QDir().mkpath(bin_));
        writeExecutable(bin_ + "/srun", kFakeSrun);
        writeExecutable(bin_ + "/scontrol", kFakeScontrol);
        writeExecutable(tmp_.filePath("fake-xopd"), kFakeXopd);
    }

    void shellQuoteSurvivesBash() {
        const QStringList values = {"plain/path-1.2", "", "a b", "it's", "\"q\"", "$HOME", "`id`", "$(id)", "a\\b", "x\ny",
                                    "'", "''", kNastyName, QString::fromUtf8("caf\xc3\xa9 \xe2\x9c\x93")};
        QString cmd = "printf '%s\\0'";
        for (const QString& v : values) cmd += " " + QString::fromStdString(run::shellQuote(v.toStdString()));
        const auto r = test::runProgram("/bin/bash", {"-c", cmd});
        QCOMPARE(r.exitCode, 0);
        QStringList got = r.out.split(QChar(0));
        got.removeLast();
        QCOMPARE(got, values);
        QCOMPARE(QString::fromStdString(run::shellQuote("/shared/runs/r1")), QString("/shared/runs/r1"));
    }

    void everyVariantParses() {
        const auto c = toyRun(4);
        auto demo = distill::demoDistillConfig(distill::Method::XOpd);
        demo.teacher.path = demo.student.path = "/kits/demo kit";
        int n = 0;
        for (auto kind : {run::LaunchKind::Torchrun, run::LaunchKind::Sbatch})
            for (bool server : {false, true}) {
                run::LaunchScriptOptions o;
                o.kind = kind;
                o.run_dir = tmp_.filePath("parse/" + kNastyName).toStdString();
                o.nodes = kind == run::LaunchKind::Sbatch ? 2 : 1;
                o.gpus_per_node = kind == run::LaunchKind::Sbatch ? 4 : 0;
                o.procs_per_node = 2;
                o.time_limit = "24:00:00";
                if (server) {
                    o.teacher.model_dir = "/models/the teacher's folder";
                    o.teacher.api_key_env = "TEACHER_KEY";
                }
                const QString path = write(QString("parse-%1.sh").arg(n++), server ? demo : c, o);
                QFileInfo info(path);
                QVERIFY(info.permissions() & QFileDevice::ExeOwner);
                QVERIFY(info.permissions() & QFileDevice::ExeOther);
                const auto r = test::runProgram("/bin/bash", {"-n", path});
                QVERIFY2(r.exitCode == 0, qPrintable(path + ": " + r.err));
                QFile f(path);
                QVERIFY(f.open(QIODevice::ReadOnly));
                const QString text = QString::fromUtf8(f.readAll());
                QVERIFY(text.startsWith("#!/bin/bash\n"));
                if (kind == run::LaunchKind::Sbatch) {
                    QVERIFY2(text.contains("#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=2\n#SBATCH --gpus-per-node=4\n"
                                           "#SBATCH --time=24:00:00\n"),
                             qPrintable(text));
                    QVERIFY(text.contains("srun --kill-on-bad-exit=1 \"$XOPD\" \"${ARGS[@]}\""));
                } else {
                    QVERIFY(text.contains("--nproc_per_node 2 --master_port 29500 --max_restarts 0 -r 1 -t 1 --log_dir"));
                    QVERIFY(text.contains("#   python3 -m torch.distributed.run --no_python --nproc_per_node 2"));
                }
                QCOMPARE(text.contains("serve --model '/models/the teacher'\\''s folder'"), server);
            }
    }

    void badOptionsAreRefused() {
        const auto c = toyRun(4);
        auto refused = [&](run::LaunchScriptOptions o, const char* what, const distill::DistillConfig* config = nullptr) {
            try {
                run::launchScript(config ? *config : c, o);
            } catch (const Error& e) {
                QVERIFY2(QString(e.what()).contains(what), e.what());
                return;
            }
            QFAIL(qPrintable(QString("accepted; expected an error with '%1'").arg(what)));
        };
        run::LaunchScriptOptions o;
        o.run_dir = "/shared/r1";
        refused([&] { auto x = o; x.run_dir = "runs/r1"; return x; }(), "not an absolute path");
        refused([&] { auto x = o; x.run_dir = ""; return x; }(), "no run folder");
        refused([&] { auto x = o; x.nodes = 2; return x; }(), "one machine");
        refused([&] { auto x = o; x.procs_per_node = 8; return x; }(), "too few for 8 ranks");
        refused([&] { auto x = o; x.teacher.model_dir = "/m"; x.teacher.host = "0.0.0.0"; return x; }(), "needs a key");
        refused([&] { auto x = o; x.teacher.model_dir = "/m"; x.teacher.api_key_env = "A-B"; return x; }(), "not an environment variable");
        refused([&] { auto x = o; x.teacher.model_dir = "/m"; x.teacher.port = 29500; return x; }(), "rendezvous port");
        refused([&] { auto x = o; x.time_limit = "1 day"; return x; }(), "time limit");
        auto sbatch = o;
        sbatch.kind = run::LaunchKind::Sbatch;
        sbatch.teacher.model_dir = "/m";
        refused(sbatch, "needs a key");  // sbatch binds 0.0.0.0 by default
        // The toy teacher cannot be served: the config's own check says so.
        auto served = o;
        served.teacher.model_dir = "/m";
        refused(served, "teacher");
    }

    void torchrunScriptTrainsWithDebiansLauncher() {
        if (torchrunPath().isEmpty()) QSKIP("/usr/bin/torchrun is missing (Debian: python3-torch)");
        const auto c = toyRun(4);
        run::LaunchScriptOptions o;
        o.run_dir = tmp_.filePath("torchrun/" + kNastyName).toStdString();
        o.master_port = test::freeLoopbackPort();
        o.dist_timeout_s = 60;
        const QString script = write("torchrun.sh", c, o);
        const QStringList env = {"XOPD=" + test::cliPath(), "TORCHRUN=" + torchrunPath()};
        auto r = runScript(script, env);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
        QVERIFY2(!QFileInfo::exists(tmp_.filePath("torchrun/pwned")) && !QFileInfo::exists("pwned"), "the name was expanded");
        run::RunReader rd(o.run_dir);
        const auto steps = rd.stepsSince(0);
        QCOMPARE(int(steps.size()), 4);
        QCOMPARE(int(nlohmann::json::parse(steps.back().json.at("dp/rank_step_s")).size()), 2);
        const auto runJson = nlohmann::json::parse(std::ifstream(o.run_dir + "/run.json"));
        QCOMPARE(QString::fromStdString(runJson.at("config").dump()), QString::fromStdString(distill::toJson(c).dump()));
        QCOMPARE(QString::fromStdString(distill::toJson(distill::readDistillConfig(run::launchConfigPath(o.run_dir))).dump()),
                 QString::fromStdString(distill::toJson(c).dump()));
        // Started again, it resumes the run (finished: nothing to add) instead of refusing the
        // folder, which `--config` would ("already holds a run", exit 1).
        r = runScript(script, env);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
        QCOMPARE(int(run::RunReader(o.run_dir).stepsSince(0).size()), 4);
    }

    void sbatchScriptTrainsUnderFakeSlurm() {
        const auto c = toyRun(3);
        run::LaunchScriptOptions o;
        o.kind = run::LaunchKind::Sbatch;
        o.nodes = 1;
        o.procs_per_node = 2;
        o.run_dir = tmp_.filePath("slurm/" + kNastyName).toStdString();
        o.master_port = test::freeLoopbackPort();
        o.dist_timeout_s = 60;
        const QString script = write("job.sbatch", c, o);
        const QStringList env = {"XOPD=" + test::cliPath(), "PATH=" + bin_ + ":" + qEnvironmentVariable("PATH"),
                                 "SLURM_JOB_NODELIST=fake[1-2]", "SLURM_NTASKS=2", "SLURM_JOB_ID=42"};
        const auto r = runScript(script, env);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
        run::RunReader rd(o.run_dir);
        const auto steps = rd.stepsSince(0);
        QCOMPARE(int(steps.size()), 3);
        QCOMPARE(int(nlohmann::json::parse(steps.back().json.at("dp/rank_step_s")).size()), 2);
        QFile log(QString::fromStdString(o.run_dir) + "/log.txt");
        QVERIFY(log.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(log.readAll());
        QVERIFY2(text.contains("rank 0/2 (slurm"), qPrintable(text));
        const auto runJson = nlohmann::json::parse(std::ifstream(o.run_dir + "/run.json"));
        QCOMPARE(QString::fromStdString(runJson.at("config").dump()), QString::fromStdString(distill::toJson(c).dump()));
    }

    void teacherServerLineReachesEveryRank() {
        auto c = distill::demoDistillConfig(distill::Method::XOpd);
        c.teacher.path = c.student.path = "/kits/demo kit";
        c.train.max_steps = 7;
        const QString log = tmp_.filePath("fake-log");
        for (auto kind : {run::LaunchKind::Torchrun, run::LaunchKind::Sbatch}) {
            const bool sbatch = kind == run::LaunchKind::Sbatch;
            if (!sbatch && torchrunPath().isEmpty()) continue;
            QDir(log).removeRecursively();
            QVERIFY(QDir().mkpath(log));
            run::LaunchScriptOptions o;
            o.kind = kind;
            o.run_dir = tmp_.filePath(QString("served-%1/").arg(int(kind)) + kNastyName).toStdString();
            o.master_port = test::freeLoopbackPort();
            o.teacher.model_dir = "/models/the teacher's \"folder\"";
            o.teacher.port = test::freeLoopbackPort();
            o.teacher.api_key_env = "TEACHER_KEY";
            const QString script = write(QString("served-%1.sh").arg(int(kind)), c, o);
            QStringList env = {"XOPD=" + tmp_.filePath("fake-xopd"), "TORCHRUN=" + torchrunPath(), "FAKE_LOG=" + log,
                               "PATH=" + bin_ + ":" + qEnvironmentVariable("PATH"), "SLURM_JOB_NODELIST=fake[1-2]",
                               "SLURM_NTASKS=2"};
            // Without the key the script says what to set, before starting anything.
            auto r = runScript(script, env + QStringList{"TEACHER_KEY="});
            QCOMPARE(r.exitCode, 1);
            QVERIFY2(r.err.contains("set TEACHER_KEY to the teacher server's key"), qPrintable(r.err));
            QVERIFY(!QFileInfo::exists(log + "/serve.args"));
            r = runScript(script, env + QStringList{"TEACHER_KEY=s3cret"});
            QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
            const QString port = QString::number(o.teacher.port);
            QCOMPARE(readArgs(log + "/serve.args"),
                     (QStringList{"serve", "--model", QString::fromStdString(o.teacher.model_dir), "--host",
                                  sbatch ? "0.0.0.0" : "127.0.0.1", "--port", port, "--api-key-env", "TEACHER_KEY"}));
            const QString url = "http://127.0.0.1:" + port;  // sbatch: MASTER_ADDR, the fake scontrol's first host
            const QString config = QString::fromStdString(run::launchConfigPath(o.run_dir));
            const QString runDir = QString::fromStdString(o.run_dir);
            for (int rank = 0; rank < 2; ++rank) {
                const QStringList args = readArgs(QString("%1/distill-%2.args").arg(log).arg(rank));
                QCOMPARE(args, (QStringList{"distill", "--config", config, "--run-dir", runDir, "--dist-timeout", "600",
                                            "--teacher-url", url, "--teacher-api-key-env", "TEACHER_KEY"}));
                // The config file and the flags give back the run's config, with the served teacher.
                auto expected = c;
                expected.served_teacher.url = url.toStdString();
                expected.served_teacher.api_key_env = "TEACHER_KEY";
                QCOMPARE(QString::fromStdString(configFromArgs(args).dump()), QString::fromStdString(distill::toJson(expected).dump()));
                QFile key(QString("%1/key-%2").arg(log).arg(rank));
                QVERIFY(key.open(QIODevice::ReadOnly));
                QCOMPARE(key.readAll(), QByteArray("s3cret"));  // in the ranks' environment, not their args
            }
            // The server was stopped when the script ended.
            QFile pidFile(log + "/serve.pid");
            QVERIFY(pidFile.open(QIODevice::ReadOnly));
            const int pid = pidFile.readAll().trimmed().toInt();
            QTRY_VERIFY_WITH_TIMEOUT(::kill(pid, 0) != 0, 5000);
            QFile text(script);
            QVERIFY(text.open(QIODevice::ReadOnly));
            QVERIFY(!text.readAll().contains("s3cret"));
        }
    }

    void cliWritesTheSameScript() {
        const QString cfg = tmp_.filePath("cli-config.json");
        const auto c = toyRun(5);
        std::ofstream(cfg.toStdString()) << distill::toJson(c).dump(2);
        const QString out = tmp_.filePath("cli.sbatch"), runDir = tmp_.filePath("cli run");
        const auto r = test::runCli({"launch-script", "sbatch", "--config", cfg, "--run-dir", runDir, "--out", out, "--nodes",
                                     "2", "--nproc-per-node", "2", "--gpus-per-node", "2", "--time", "1:00:00"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err + r.out));
        run::LaunchScriptOptions o;
        o.kind = run::LaunchKind::Sbatch;
        o.run_dir = runDir.toStdString();
        o.nodes = 2;
        o.gpus_per_node = 2;
        o.time_limit = "1:00:00";
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(f.readAll()), QString::fromStdString(run::launchScript(c, o)));
        QVERIFY(QFileInfo(out).permissions() & QFileDevice::ExeUser);
        const auto bad = test::runCli({"launch-script", "torchrun", "--toy", "--run-dir", runDir, "--out", out, "--nproc-per-node", "64"});
        QCOMPARE(bad.exitCode, 1);
        QVERIFY2(bad.err.contains("too few for 64 ranks"), qPrintable(bad.err));
    }
};

QTEST_GUILESS_MAIN(TestLaunchScript)
#include "test_launch_script.moc"
