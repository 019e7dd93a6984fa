// The launch contract of peers.md §6.2: torchrun before Slurm before Open MPI, a one-task Slurm or
// MPI step is the single process, malformed values and a missing rendezvous address are errors
// naming the variable.
#include "core/common/Error.h"
#include "core/dist/LaunchEnv.h"

#include <QtTest/QtTest>

#include <map>

using namespace xopd;
using namespace xopd::dist;

namespace {

LaunchEnv parse(const std::map<std::string, std::string>& vars) {
    return parseLaunchEnv([&](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    });
}

QString errorOf(const std::map<std::string, std::string>& vars) {
    try {
        parse(vars);
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

}  // namespace

class TestLaunchEnv : public QObject {
    Q_OBJECT

private slots:
    void nothingSetIsTheSingleProcess() {
        const auto e = parse({{"MASTER_ADDR", "10.0.0.1"}, {"LOCAL_RANK", "3"}});
        QVERIFY(!e.distributed());
        QVERIFY(e.launcher == Launcher::None);
        QCOMPARE(e.rank, int64_t(0));
        QCOMPARE(e.world_size, int64_t(1));
    }

    void torchrunWithAgentStore() {
        const auto e = parse({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "127.0.0.1"},
                              {"MASTER_PORT", "29511"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                              {"TORCHELASTIC_RESTART_COUNT", "2"}});
        QVERIFY(e.distributed());
        QVERIFY(e.launcher == Launcher::Torchrun);
        QCOMPARE(e.rank, int64_t(1));
        QCOMPARE(e.local_rank, int64_t(1));
        QCOMPARE(e.world_size, int64_t(2));
        QCOMPARE(e.master_port, int64_t(29511));
        QVERIFY(e.agent_store);
        QCOMPARE(e.restart_count, int64_t(2));
        QCOMPARE(QString::fromStdString(e.describe()), QString("rank 1/2 (torchrun, local rank 1)"));
    }

    void torchrunOfOneRankIsAJob() {
        // The reference of an N-rank run (DataParallel.h): torchrun --nproc_per_node 1.
        const auto e = parse({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "1234"}});
        QVERIFY(e.distributed());
        QVERIFY(!e.agent_store);
    }

    void precedenceTorchrunSlurmOpenMpi() {
        std::map<std::string, std::string> v{{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"},
                                             {"OMPI_COMM_WORLD_RANK", "5"}, {"OMPI_COMM_WORLD_SIZE", "8"},
                                             {"OMPI_COMM_WORLD_LOCAL_RANK", "2"}, {"MASTER_ADDR", "node1"},
                                             {"MASTER_PORT", "29500"}};
        auto e = parse(v);
        QVERIFY(e.launcher == Launcher::Slurm);
        QCOMPARE(e.rank, int64_t(3));
        QCOMPARE(e.local_rank, int64_t(1));
        QCOMPARE(e.world_size, int64_t(4));
        v["RANK"] = "6";
        v["WORLD_SIZE"] = "7";
        e = parse(v);
        QVERIFY(e.launcher == Launcher::Torchrun);
        QCOMPARE(e.rank, int64_t(6));
        QCOMPARE(e.local_rank, int64_t(0));  // LOCAL_RANK unset: not taken from Slurm
        v.erase("RANK");
        v.erase("WORLD_SIZE");
        v.erase("SLURM_PROCID");
        e = parse(v);
        QVERIFY(e.launcher == Launcher::OpenMpi);
        QCOMPARE(e.rank, int64_t(5));
        QCOMPARE(e.world_size, int64_t(8));
        QCOMPARE(e.local_rank, int64_t(2));
    }

    void oneTaskSlurmOrMpiStepIsTheSingleProcess() {
        QVERIFY(!parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"SLURM_LOCALID", "0"}}).distributed());
        QVERIFY(!parse({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "1"}}).distributed());
    }

    void malformedValuesNameTheVariable() {
        QVERIFY(errorOf({{"RANK", "one"}, {"WORLD_SIZE", "2"}}).contains("RANK='one' is not an integer"));
        QVERIFY(errorOf({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}})
                    .contains("RANK=2 is outside the world of 2"));
        QVERIFY(errorOf({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "0"}}).contains("SLURM_NTASKS=0 must be at least 1"));
        QVERIFY(errorOf({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
                    .contains("MASTER_PORT=70000 is not a TCP port"));
        const auto missing = errorOf({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}});
        QVERIFY2(missing.contains("needs MASTER_ADDR and MASTER_PORT"), qPrintable(missing));
        QVERIFY(missing.contains("rank 1/2 (slurm"));
    }
};

QTEST_APPLESS_MAIN(TestLaunchEnv)
#include "test_launch_env.moc"
