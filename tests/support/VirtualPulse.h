#pragma once
// A virtual loudspeaker that keeps real time, for device tests on machines without a sound card
// (header-only; lesson 16). It starts a private PulseAudio daemon (its own HOME and
// XDG_RUNTIME_DIR under a temporary folder) with one null sink, points ALSA's default pcm at it
// through ALSA's `pulse` plugin (~/.asoundrc), and records the sink's monitor with parec: what the
// "speaker" played, sample for sample, paced by the sink's clock as a sound card would be (ALSA's
// `null` pcm, in VirtualAlsa.h, drains as fast as it is fed).
//
// Use: construct it before anything in the process starts PortAudio (ALSA reads its configuration
// once), e.g. in initTestCase(); ok() says whether the daemon answers (error() says why not).
// Needs the Debian packages pulseaudio, pulseaudio-utils (parec, pactl) and libasound2-plugins
// (packaging/setup-debian.sh installs them). The sink runs at `rate` Hz, mono, S16: a clip of that
// rate goes through without resampling, so its 16-bit values come out as they went in.

#include <QByteArray>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QTemporaryDir>
#include <QThread>

#include <cstdint>
#include <cstring>
#include <vector>

namespace xopd::test {

class VirtualPulse {
public:
    explicit VirtualPulse(int rate = 16000) : rate_(rate) {
        if (!dir_.isValid()) { fail("cannot make a temporary folder"); return; }
        for (const char* tool : {"pulseaudio", "parec", "pactl"})
            if (QStandardPaths::findExecutable(tool).isEmpty())
                { fail(QString("'%1' is not installed (packages pulseaudio, pulseaudio-utils)").arg(tool)); return; }
        const QString home = dir_.filePath("home"), runtime = dir_.filePath("runtime");
        QDir().mkpath(home);
        QDir().mkpath(runtime);
        QFile::setPermissions(runtime, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        QFile rc(QDir(home).filePath(".asoundrc"));
        if (!rc.open(QIODevice::WriteOnly) || rc.write("pcm.!default { type pulse }\nctl.!default { type pulse }\n") <= 0)
            { fail("cannot write .asoundrc"); return; }
        rc.close();
        qputenv("HOME", home.toUtf8());
        qputenv("XDG_RUNTIME_DIR", runtime.toUtf8());
        qputenv("PULSE_SERVER", ("unix:" + runtime + "/pulse/native").toUtf8());
        qputenv("JACK_NO_START_SERVER", "1");
        daemon_.setProcessChannelMode(QProcess::MergedChannels);
        daemon_.setStandardOutputFile(dir_.filePath("pulseaudio.log"));
        daemon_.start("pulseaudio", {"-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                                     "--log-target=stderr", "-L",
                                     QString("module-null-sink sink_name=xopd_out format=s16le rate=%1 channels=1").arg(rate),
                                     "-L", "module-native-protocol-unix"});
        if (!daemon_.waitForStarted(5000)) { fail("pulseaudio does not start"); return; }
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 15000) {
            QProcess info;
            info.start("pactl", {"list", "short", "sinks"});
            if (info.waitForFinished(5000) && info.exitCode() == 0 && info.readAllStandardOutput().contains("xopd_out")) {
                ok_ = true;
                return;
            }
            if (daemon_.state() != QProcess::Running) break;
            QThread::msleep(100);
        }
        QFile log(dir_.filePath("pulseaudio.log"));
        log.open(QIODevice::ReadOnly);
        fail("pulseaudio does not answer: " + QString::fromUtf8(log.readAll().right(600)));
    }

    ~VirtualPulse() {
        if (capture_.state() != QProcess::NotRunning) {
            capture_.terminate();
            capture_.waitForFinished(3000);
        }
        if (daemon_.state() != QProcess::NotRunning) {
            daemon_.terminate();
            if (!daemon_.waitForFinished(5000)) daemon_.kill();
        }
    }
    VirtualPulse(const VirtualPulse&) = delete;
    VirtualPulse& operator=(const VirtualPulse&) = delete;

    bool ok() const { return ok_; }
    /// parec's messages of the last capture (empty when it said nothing).
    QString captureLog() const { return lastCaptureLog_; }
    QString error() const { return error_; }
    int rate() const { return rate_; }

    /// Starts recording what the sink plays (a new recording each time).
    bool startCapture() {
        QFile::remove(dir_.filePath("out.raw"));
        capture_.setStandardOutputFile(dir_.filePath("out.raw"));
        capture_.start("parec", {"-d", "xopd_out.monitor", "--format=s16le", QString("--rate=%1").arg(rate_),
                                 "--channels=1", "--raw", "--latency-msec=20"});
        if (!capture_.waitForStarted(5000)) return false;
        // Connected and recording before the test plays: the first samples are in the file.
        QElapsedTimer wait;
        wait.start();
        while (QFileInfo(dir_.filePath("out.raw")).size() == 0 && wait.elapsed() < 10000 &&
               capture_.state() == QProcess::Running)
            QThread::msleep(20);
        captureClock_.start();
        return capture_.state() == QProcess::Running && QFileInfo(dir_.filePath("out.raw")).size() > 0;
    }

    /// Stops recording; what the sink played since startCapture(), as floats s / 32768.
    std::vector<float> stopCapture() {
        // The monitor runs on the sink's clock, but parec (and the daemon) may lag behind on a busy
        // machine: wait until the file holds what the sink played until now (plus 0.3 s for the
        // sink's last buffers), at most 10 s more.
        const double want = (captureClock_.elapsed() / 1000.0 + 0.3) * rate_ * 2;
        QElapsedTimer wait;
        wait.start();
        while (QFileInfo(dir_.filePath("out.raw")).size() < qint64(want) && wait.elapsed() < 10000)
            QThread::msleep(20);
        capture_.terminate();
        capture_.waitForFinished(5000);
        lastCaptureLog_ = QString::fromUtf8(capture_.readAllStandardError()).trimmed();
        QFile f(dir_.filePath("out.raw"));
        std::vector<float> out;
        if (!f.open(QIODevice::ReadOnly)) return out;
        const QByteArray b = f.readAll();
        out.reserve(size_t(b.size() / 2));
        for (int i = 0; i + 1 < b.size(); i += 2) {
            int16_t s;
            std::memcpy(&s, b.constData() + i, 2);
            out.push_back(float(s) / 32768.0f);
        }
        return out;
    }

private:
    void fail(const QString& why) {
        ok_ = false;
        error_ = why;
    }

    QTemporaryDir dir_;
    int rate_;
    bool ok_ = false;
    QString error_;
    QString lastCaptureLog_;
    QProcess daemon_;
    QProcess capture_;
    QElapsedTimer captureClock_;
};

}  // namespace xopd::test
