#pragma once
// Helpers shared by the tests: paths from the CTest environment, temporary folders, running the
// CLI as a child process, and small signal generators.

#include <QString>
#include <QStringList>

#include <string>
#include <vector>

namespace xopd::test {

/// Source tree root ($XOPD_SOURCE_DIR, set by CTest).
QString sourceDir();
/// Build tree root ($XOPD_BINARY_DIR).
QString binaryDir();
/// Path of the built `xopd` CLI ($XOPD_CLI).
QString cliPath();
/// Path under tests/data in the source tree.
QString testData(const QString& relative);

/// Result of running a child process.
struct ProcessResult {
    int exitCode = -1;
    QString out;
    QString err;
};

/// Runs the `xopd` CLI with args and waits up to timeout_ms. Fails the test on a time-out.
ProcessResult runCli(const QStringList& args, int timeout_ms = 120000);

/// Runs any program with args.
ProcessResult runProgram(const QString& program, const QStringList& args, int timeout_ms = 120000,
                         const QStringList& extra_env = {});

/// A sine tone: amplitude * sin(2π f t), `seconds` long at `rate` Hz.
std::vector<float> sineTone(double frequency_hz, double seconds, int rate, double amplitude = 0.5);

/// A TCP port free on 127.0.0.1 right now (the kernel's pick), for rendezvous in data-parallel tests.
int freeLoopbackPort();

}  // namespace xopd::test
