#include "tests/support/TestSupport.h"

#include <QDir>
#include <QProcess>
#include <QProcessEnvironment>
#include <QtTest/QtTest>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>

namespace xopd::test {

int freeLoopbackPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    if (fd >= 0) ::close(fd);
    return ok ? ntohs(a.sin_port) : 0;
}

QString sourceDir() { return qEnvironmentVariable("XOPD_SOURCE_DIR", QStringLiteral(".")); }
QString binaryDir() { return qEnvironmentVariable("XOPD_BINARY_DIR", QStringLiteral(".")); }
QString cliPath() { return qEnvironmentVariable("XOPD_CLI", QStringLiteral("xopd")); }
QString testData(const QString& relative) { return sourceDir() + "/tests/data/" + relative; }

ProcessResult runProgram(const QString& program, const QStringList& args, int timeout_ms,
                         const QStringList& extra_env) {
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    for (const QString& kv : extra_env) {
        const int eq = kv.indexOf('=');
        env.insert(kv.left(eq), kv.mid(eq + 1));
    }
    p.setProcessEnvironment(env);
    p.start(program, args);
    ProcessResult r;
    if (!p.waitForStarted(10000)) {
        r.err = "could not start " + program;
        return r;
    }
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out: " + program + " " + args.join(' ');
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

ProcessResult runCli(const QStringList& args, int timeout_ms) {
    return runProgram(cliPath(), args, timeout_ms);
}

std::vector<float> sineTone(double frequency_hz, double seconds, int rate, double amplitude) {
    const auto n = static_cast<size_t>(std::llround(seconds * rate));
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i)
        x[i] = static_cast<float>(amplitude * std::sin(2.0 * M_PI * frequency_hz * double(i) / rate));
    return x;
}

}  // namespace xopd::test
