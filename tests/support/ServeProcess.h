#pragma once
// `xopd serve` as a child process for the tests: started with the given arguments (on an
// ephemeral port unless --port is among them), ready once it prints "listening on http://HOST:PORT",
// stopped with SIGTERM when the object dies. Header-only; Qt Core only.

#include "tests/support/TestSupport.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>

#include <csignal>

namespace xopd::test {

class ServeProcess {
public:
    ~ServeProcess() { stop(); }

    /// Starts `xopd serve ARGS` with extra environment entries ("NAME=value"). False (with the
    /// output kept) when it exits or says nothing within timeout_ms.
    bool start(QStringList args, const QStringList& env = {}, int timeout_ms = 60000) {
        if (!args.contains("--port")) args << "--port" << "0";
        auto e = QProcessEnvironment::systemEnvironment();
        for (const auto& kv : env) e.insert(kv.section('=', 0, 0), kv.section('=', 1));
        p_.setProcessEnvironment(e);
        p_.setProcessChannelMode(QProcess::SeparateChannels);
        p_.start(cliPath(), QStringList{"serve"} + args);
        if (!p_.waitForStarted(10000)) return false;
        const QRegularExpression ready("listening on http://([^:]+|\\[[^\\]]+\\]):(\\d+)");
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeout_ms) {
            p_.waitForReadyRead(200);
            out_ += QString::fromUtf8(p_.readAllStandardOutput());
            err_ += QString::fromUtf8(p_.readAllStandardError());
            const auto m = ready.match(out_);
            if (m.hasMatch()) {
                port_ = m.captured(2).toInt();
                return true;
            }
            if (p_.state() == QProcess::NotRunning) return false;
        }
        return false;
    }

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    QString output() { return out_ + QString::fromUtf8(p_.readAllStandardOutput()) + err_ + QString::fromUtf8(p_.readAllStandardError()); }

    /// SIGTERM, then the exit code (-1 when it had to be killed).
    int stop() {
        if (p_.state() == QProcess::NotRunning) return p_.exitCode();
        ::kill(pid_t(p_.processId()), SIGTERM);
        if (!p_.waitForFinished(15000)) {
            p_.kill();
            p_.waitForFinished(5000);
            return -1;
        }
        return p_.exitStatus() == QProcess::NormalExit ? p_.exitCode() : -1;
    }

private:
    QProcess p_;
    QString out_, err_;
    int port_ = 0;
};

}  // namespace xopd::test
