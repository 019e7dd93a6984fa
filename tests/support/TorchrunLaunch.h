#pragma once
// Data-parallel `xopd distill` jobs for the tests: Debian's torch launcher (`python3 -m
// torch.distributed.run --no_python`) and ranks started by hand with torchrun's variables (rank 0
// then hosts the store; a test can give each rank its own arguments or kill one). Header-only; Qt
// Core only.

#include "tests/support/TestSupport.h"

#include <QProcess>
#include <QProcessEnvironment>

#include <map>

namespace xopd::test {

/// A python3 whose torch has the launcher ($XOPD_PYTHON, /usr/bin/python3, python3), or "".
inline QString launcherPython() {
    static const QString found = [] {
        QStringList candidates;
        if (qEnvironmentVariableIsSet("XOPD_PYTHON")) candidates << qEnvironmentVariable("XOPD_PYTHON");
        candidates << "/usr/bin/python3" << "python3";
        for (const auto& c : candidates)
            if (runProgram(c, {"-c", "import torch.distributed.run"}).exitCode == 0) return c;
        return QString();
    }();
    return found;
}

/// The launcher's args for `ranks` ranks (and `extra` launcher flags) running `xopd ARGS`. The
/// -r/-t/--log_dir flags are what Debian 12's torch 1.13 launcher needs on Python 3.11 (README
/// "Scaling out").
inline QStringList torchrunArgs(int ranks, const QString& log_dir, const QStringList& args, const QStringList& extra = {}) {
    return QStringList{"-m", "torch.distributed.run", "--no_python", "--nproc_per_node", QString::number(ranks),
                       "--master_port", QString::number(freeLoopbackPort()), "-r", "1", "-t", "1", "--log_dir",
                       log_dir} +
           extra + QStringList{cliPath()} + args;
}

/// Starts `xopd ARGS` as rank `rank` of `world` with torchrun's variables, the store on
/// 127.0.0.1:`master_port` (hosted by rank 0), one thread. False when it did not start.
inline bool startRank(QProcess& process, int rank, int world, int master_port, const QStringList& args) {
    auto e = QProcessEnvironment::systemEnvironment();
    for (const auto& [k, v] : std::map<QString, QString>{{"RANK", QString::number(rank)}, {"LOCAL_RANK", QString::number(rank)},
                                                         {"WORLD_SIZE", QString::number(world)}, {"MASTER_ADDR", "127.0.0.1"},
                                                         {"MASTER_PORT", QString::number(master_port)}, {"XOPD_THREADS", "1"}})
        e.insert(k, v);
    process.setProcessEnvironment(e);
    process.start(cliPath(), args);
    return process.waitForStarted();
}

}  // namespace xopd::test
