#pragma once
// A virtual microphone that keeps real time (CONVENTIONS.md lesson 16), for device tests on machines
// without a sound card (header-only; any test may include it). Unlike VirtualAlsa.h's `file` device,
// which skips captured audio after its first buffer, it records any length.
//
// It starts Debian's `pulseaudio` as a private server (-n: no default script; its own
// XDG_RUNTIME_DIR and HOME in a temporary folder, so the machine's sound setup is never touched)
// with module-pipe-source (s16le, mono, `rate`) as the default source, module-null-sink as the
// default sink, and writes HOME/.asoundrc with `pcm.!default { type pulse }` / `ctl.!default
// { type pulse }` (ALSA's pulse plugin, Debian's libasound2-plugins): PortAudio's default input is
// then the pipe. A feeder thread writes the pipe at the sample rate by the clock: silence, and
// what say() queued when its turn comes. The source reads the pipe only while someone records, so
// the pipe is kept small (one page) and silence that does not fit is dropped; queued speech is never
// dropped, only delayed until the pipe takes it.
//
// Use: construct it before anything in the process starts PortAudio (ALSA reads its configuration
// once), e.g. in initTestCase(); it sets HOME, XDG_RUNTIME_DIR and JACK_NO_START_SERVER for the rest
// of the process (child processes such as `xopd record` inherit them). available() is false when
// pulseaudio is not installed (skip the test then); ok() is false when it could not be started
// (error() says why). The destructor stops the feeder and the server.

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QTemporaryDir>
#include <QThread>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace xopd::test {

class VirtualMic {
public:
    /// Whether Debian's pulseaudio is installed.
    static bool available() { return !QStandardPaths::findExecutable("pulseaudio").isEmpty(); }

    explicit VirtualMic(int rate = 16000) : rate_(rate) {
        if (!available() || !dir_.isValid()) {
            error_ = "pulseaudio is not installed";
            return;
        }
        const QDir d(dir_.path());
        d.mkpath("run");
        d.mkpath("home");
        QFile::setPermissions(d.filePath("run"), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
        fifo_ = d.filePath("mic.fifo");
        QFile script(d.filePath("mic.pa"));
        if (!script.open(QIODevice::WriteOnly)) {
            error_ = "cannot write " + script.fileName();
            return;
        }
        script.write(QString("load-module module-native-protocol-unix\n"
                             "load-module module-pipe-source source_name=xopd_mic file=%1 format=s16le rate=%2 channels=1\n"
                             "load-module module-null-sink sink_name=xopd_out rate=%2 channels=1\n"
                             "set-default-source xopd_mic\n"
                             "set-default-sink xopd_out\n")
                         .arg(fifo_)
                         .arg(rate)
                         .toUtf8());
        script.close();
        QFile rc(d.filePath("home/.asoundrc"));
        if (!rc.open(QIODevice::WriteOnly)) {
            error_ = "cannot write " + rc.fileName();
            return;
        }
        rc.write("pcm.!default { type pulse }\nctl.!default { type pulse }\n");
        rc.close();

        qputenv("HOME", d.filePath("home").toUtf8());
        qputenv("XDG_RUNTIME_DIR", d.filePath("run").toUtf8());
        qputenv("JACK_NO_START_SERVER", "1");
        qunsetenv("PULSE_SERVER");
        server_.setStandardOutputFile(QProcess::nullDevice());
        server_.setStandardErrorFile(QProcess::nullDevice());
        server_.start("pulseaudio", {"-n", "-F", script.fileName(), "--daemonize=no", "--exit-idle-time=-1",
                                     "--use-pid-file=no", "--log-target=file:" + d.filePath("pulseaudio.log")});
        if (!server_.waitForStarted(10000)) {
            error_ = "pulseaudio did not start: " + server_.errorString();
            return;
        }
        // Ready when its socket and the pipe exist.
        const QString socket = d.filePath("run/pulse/native");
        for (int i = 0; i < 400 && !(QFileInfo::exists(socket) && QFileInfo::exists(fifo_)); ++i) {
            if (server_.state() != QProcess::Running) break;
            QThread::msleep(25);
        }
        if (!QFileInfo::exists(socket) || !QFileInfo::exists(fifo_)) {
            error_ = "pulseaudio did not come up; its log: " + log();
            return;
        }
        // The source holds the pipe open for reading, so a non-blocking open for writing succeeds.
        fd_ = ::open(fifo_.toLocal8Bit().constData(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd_ < 0) {
            error_ = "cannot open " + fifo_ + ": " + QString::fromLocal8Bit(std::strerror(errno));
            return;
        }
        ::fcntl(fd_, F_SETPIPE_SZ, 4096);
        running_ = true;
        feeder_ = std::thread([this] { feed(); });
        ok_ = true;
    }

    ~VirtualMic() {
        running_ = false;
        if (feeder_.joinable()) feeder_.join();
        if (fd_ >= 0) ::close(fd_);
        if (server_.state() != QProcess::NotRunning) {
            server_.terminate();
            if (!server_.waitForFinished(5000)) {
                server_.kill();
                server_.waitForFinished(2000);
            }
        }
    }
    VirtualMic(const VirtualMic&) = delete;
    VirtualMic& operator=(const VirtualMic&) = delete;

    bool ok() const { return ok_; }
    QString error() const { return error_; }
    int rate() const { return rate_; }

    /// Queues a clip (values in [-1, 1], at rate()) for the microphone; returns it as the device
    /// delivers it (16-bit quantised, as floats s / 32768).
    std::vector<float> say(const std::vector<float>& clip) {
        std::vector<float> known;
        known.reserve(clip.size());
        std::lock_guard<std::mutex> lock(mutex_);
        for (float v : clip) {
            const auto s = int16_t(std::lround(std::clamp(double(v), -1.0, 32767.0 / 32768.0) * 32768.0));
            queue_.push_back(s);
            known.push_back(float(s) / 32768.0f);
        }
        return known;
    }
    /// Whether everything say() queued has gone into the pipe.
    bool spoken() {
        std::lock_guard<std::mutex> lock(mutex_);
        return queue_.empty();
    }
    /// Where `fed` lies in `recorded` and how equal it is there: the lag of the best normalised
    /// cross-correlation and its value, computed by tests/reference/audio/best_lag_correlation.py
    /// (numpy, float64; /usr/bin/python3). error is set when the script could not run.
    struct Match {
        long lag = -1;
        double correlation = 0.0;
        QString error;
    };
    static Match bestLag(const std::vector<float>& fed, const std::vector<float>& recorded) {
        Match m;
        QTemporaryDir tmp;
        const QString a = tmp.filePath("fed.f32"), b = tmp.filePath("recorded.f32");
        for (const auto& [path, x] : {std::pair{a, &fed}, std::pair{b, &recorded}}) {
            QFile f(path);
            if (!f.open(QIODevice::WriteOnly) ||
                f.write(reinterpret_cast<const char*>(x->data()), qint64(x->size() * sizeof(float))) != qint64(x->size() * sizeof(float))) {
                m.error = "cannot write " + path;
                return m;
            }
        }
        QProcess p;
        p.start("/usr/bin/python3", {qEnvironmentVariable("XOPD_SOURCE_DIR") + "/tests/reference/audio/best_lag_correlation.py", a, b});
        if (!p.waitForFinished(120000) || p.exitCode() != 0) {
            m.error = "best_lag_correlation.py failed: " + QString::fromUtf8(p.readAllStandardError());
            return m;
        }
        const QJsonObject o = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        m.lag = long(o.value("lag").toDouble(-1));
        m.correlation = o.value("correlation").toDouble(0.0);
        return m;
    }

    /// The server's log (for failure messages).
    QString log() const {
        QFile f(QDir(dir_.path()).filePath("pulseaudio.log"));
        return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
    }

private:
    // Every 5 ms: the frames the clock says are due, from the queue, else silence. At most one
    // PIPE_BUF (4096 bytes) per write: such a write to a pipe is all or nothing.
    void feed() {
        using clock = std::chrono::steady_clock;
        const auto start = clock::now();
        int64_t written = 0;  // frames handed over (or dropped silence) since start
        std::vector<int16_t> chunk;
        while (running_) {
            const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
            const int64_t due = std::min<int64_t>(int64_t(elapsed * rate_) - written, 2048);
            if (due > 0) {
                chunk.clear();
                bool speech = false;
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    speech = !queue_.empty();
                    while (int64_t(chunk.size()) < due && !queue_.empty()) {
                        chunk.push_back(queue_.front());
                        queue_.pop_front();
                    }
                }
                if (!speech) chunk.assign(size_t(due), 0);
                const ssize_t w = ::write(fd_, chunk.data(), chunk.size() * sizeof(int16_t));
                if (w > 0 || !speech) {
                    written += int64_t(chunk.size());  // silence that does not fit is dropped
                } else {
                    // The pipe is full: the speech goes back, in order, and waits for the next turn.
                    std::lock_guard<std::mutex> lock(mutex_);
                    queue_.insert(queue_.begin(), chunk.begin(), chunk.end());
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }

    QTemporaryDir dir_;
    int rate_;
    bool ok_ = false;
    QString error_;
    QString fifo_;
    QProcess server_;
    int fd_ = -1;
    std::atomic<bool> running_{false};
    std::thread feeder_;
    std::mutex mutex_;
    std::deque<int16_t> queue_;
};

}  // namespace xopd::test
