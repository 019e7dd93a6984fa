#include "widgets/main/DemoKitBuildProcess.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

namespace xopd::widgets {

namespace {

QString stageText(const QString& stage, int done, int total) {
    if (stage == "speech") return QString("speaking the questions: clip %1 of %2").arg(done).arg(total);
    if (stage == "features") return QString("log-mel features: clip %1 of %2").arg(done).arg(total);
    if (stage == "teacher") return QString("training the teacher: step %1 of %2").arg(done).arg(total);
    if (stage == "large-teacher") return QString("training the larger teacher: step %1 of %2").arg(done).arg(total);
    if (stage == "tower") return QString("student stage 1, the audio tower: step %1 of %2").arg(done).arg(total);
    if (stage == "alignment") return QString("student stage 2, alignment: step %1 of %2").arg(done).arg(total);
    if (stage == "tokenizer") return "learning the tokenizer";
    if (stage == "measuring") return "measuring both models on the held-out voices";
    return "writing the kit";
}

}  // namespace

DemoKitBuildProcess::DemoKitBuildProcess(QObject* parent) : QObject(parent) {
    process_.setProcessChannelMode(QProcess::MergedChannels);
    connect(&process_, &QProcess::readyReadStandardOutput, this, &DemoKitBuildProcess::readLines);
    connect(&process_, &QProcess::finished, this, &DemoKitBuildProcess::onFinished);
    connect(&process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart) emit failed(QString("could not start %1: %2").arg(process_.program(), process_.errorString()));
    });
}

DemoKitBuildProcess::~DemoKitBuildProcess() {
    if (!running()) return;
    disconnect(&process_, nullptr, this, nullptr);
    process_.terminate();
    if (!process_.waitForFinished(10000)) {
        process_.kill();
        process_.waitForFinished(5000);
    }
}

QString DemoKitBuildProcess::cliPath() {
    const QString env = qEnvironmentVariable("XOPD_CLI");
    if (!env.isEmpty()) return QFileInfo(env).isExecutable() ? env : QString();
    const QDir here(QCoreApplication::applicationDirPath());
    for (const QString& candidate : {here.filePath("xopd"), here.filePath("../cli/xopd")})
        if (QFileInfo(candidate).isExecutable()) return QFileInfo(candidate).canonicalFilePath();
    return {};
}

bool DemoKitBuildProcess::start(const QString& folder, const QStringList& extraArgs) {
    if (running()) {
        emit failed("a demo kit build is already running");
        return false;
    }
    const QString cli = cliPath();
    if (cli.isEmpty()) {
        emit failed(QString("the xopd command is not found beside %1 (nor in XOPD_CLI): build it (make build), or "
                            "run `xopd demo-kit build` in a terminal")
                        .arg(QCoreApplication::applicationDirPath()));
        return false;
    }
    folder_ = folder;
    lastError_.clear();
    pending_.clear();
    cancelRequested_ = false;
    process_.start(cli, QStringList{"demo-kit", "build", "--out", folder, "--progress-lines"} + extraArgs);
    return true;
}

void DemoKitBuildProcess::cancel() {
    if (!running() || cancelRequested_) return;
    cancelRequested_ = true;
    process_.terminate();  // SIGTERM: the build stops at its next step and removes its folder
}

void DemoKitBuildProcess::readLines() {
    pending_ += process_.readAllStandardOutput();
    int nl;
    while ((nl = pending_.indexOf('\n')) >= 0) {
        const QString text = QString::fromUtf8(pending_.left(nl)).trimmed();
        pending_.remove(0, nl + 1);
        if (text.isEmpty()) continue;
        const QStringList f = text.split(' ');
        if (f.size() == 5 && f[0] == "progress") {
            emit progress(f[1].toDouble(), stageText(f[2], f[3].toInt(), f[4].toInt()));
            continue;
        }
        if (text.startsWith("xopd: ")) lastError_ = text.mid(6);
        emit line(text);
    }
}

void DemoKitBuildProcess::onFinished(int exitCode, QProcess::ExitStatus status) {
    readLines();
    if (status == QProcess::NormalExit && exitCode == 0) {
        emit built(folder_);
    } else if (cancelRequested_) {
        emit cancelled();
    } else {
        emit failed(lastError_.isEmpty() ? QString("`xopd demo-kit build` stopped (exit status %1)").arg(exitCode) : lastError_);
    }
}

}  // namespace xopd::widgets
