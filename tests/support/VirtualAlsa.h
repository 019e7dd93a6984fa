#pragma once
// A virtual ALSA sound card for device tests on machines without one (header-only; any test may
// include it). It writes an ~/.asoundrc into a temporary HOME whose default pcm is a `plug`
// (S16_LE, `rate` Hz, mono) over a `file` pcm with slave "null": capture reads `infile` (the
// "microphone" hears a known recording) and playback writes `file` (what the "speaker" got), both
// raw S16_LE. Used by the core audio tests and the widget tests.
//
// Use: construct it before anything starts PortAudio in the process (ALSA reads its configuration
// once), e.g. in initTestCase(). The null pcm is not paced in real time: capture delivers the whole
// infile (then silence) as fast as the reader asks, and playback drains as fast as it is fed, so a
// played clip should fit the player's 1 s prefill to come out without inserted silence.
//
// Capture caveat: the file plugin copies `infile` into the mmap area in mmap_begin for every frame
// it maps, and with a free-running slave PortAudio maps more than it then consumes, so after the
// first ALSA buffer the "microphone" skips audio (a property of this virtual device, not of the
// recorder). The helper therefore sets PA_ALSA_PERIODSIZE=8192: the first buffer then holds
// kIntactCaptureFrames frames, and a recording of at most that length comes out sample-exact.
// Past the end of a shorter infile, capture delivers whatever the mmap area held (stale memory, not
// silence): a test that looks at more than the recording should make it kIntactCaptureFrames long.

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QString>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace xopd::test {

class VirtualAlsa {
public:
    /// Frames of capture that arrive intact (three periods of PA_ALSA_PERIODSIZE).
    static constexpr size_t kIntactCaptureFrames = 3 * 8192;

    /// Creates the device; `recording` is what capture will read (values in [-1, 1], quantised
    /// to 16 bit). Sets HOME (and JACK_NO_START_SERVER) for the rest of the process.
    explicit VirtualAlsa(const std::vector<float>& recording, int rate = 16000) : rate_(rate) {
        if (!dir_.isValid()) return;
        inRaw_ = dir_.filePath("in.raw");
        outRaw_ = dir_.filePath("out.raw");
        ok_ = setRecording(recording);
        QFile rc(dir_.filePath(".asoundrc"));
        ok_ = ok_ && rc.open(QIODevice::WriteOnly);
        const QString text = QString(
                                 "pcm.!default {\n  type plug\n  slave { pcm \"xopdfile\"; format S16_LE; rate %1; channels 1 }\n}\n"
                                 "pcm.xopdfile {\n  type file\n  slave.pcm \"null\"\n  file \"%2\"\n  infile \"%3\"\n  format \"raw\"\n}\n")
                                 .arg(rate)
                                 .arg(outRaw_, inRaw_);
        ok_ = ok_ && rc.write(text.toUtf8()) > 0;
        rc.close();
        qputenv("HOME", dir_.path().toUtf8());
        qputenv("JACK_NO_START_SERVER", "1");
        qputenv("PA_ALSA_PERIODSIZE", "8192");
    }

    bool ok() const { return ok_; }

    /// Replaces what the "microphone" hears from the next capture stream on (the file plugin opens
    /// infile when a stream opens); known() becomes it. False when it cannot be written or is
    /// longer than kIntactCaptureFrames.
    bool setRecording(const std::vector<float>& recording) {
        QByteArray raw;
        raw.reserve(int(recording.size() * 2));
        known_.clear();
        for (float v : recording) {
            const auto s = int16_t(std::lround(std::clamp(double(v), -1.0, 32767.0 / 32768.0) * 32768.0));
            known_.push_back(float(s) / 32768.0f);
            raw.append(reinterpret_cast<const char*>(&s), 2);
        }
        QFile in(inRaw_);
        const bool wrote = in.open(QIODevice::WriteOnly) && in.write(raw) == raw.size();
        return wrote && recording.size() <= kIntactCaptureFrames;
    }
    int rate() const { return rate_; }
    /// The recording as the device delivers it (16-bit quantised, as floats s / 32768).
    const std::vector<float>& known() const { return known_; }
    QString outputFile() const { return outRaw_; }
    /// Forgets what was played so far (the file pcm truncates on open, too).
    void clearOutput() const { QFile::remove(outRaw_); }

    /// What playback wrote, as floats s / 32768.
    std::vector<float> played() const {
        QFile f(outRaw_);
        std::vector<float> out;
        if (!f.open(QIODevice::ReadOnly)) return out;
        const QByteArray b = f.readAll();
        for (int i = 0; i + 1 < b.size(); i += 2) {
            int16_t s;
            std::memcpy(&s, b.constData() + i, 2);
            out.push_back(float(s) / 32768.0f);
        }
        return out;
    }

    /// Offset at which the first `probe` samples of `needle` appear in `hay` (within `tol`), or −1.
    static long find(const std::vector<float>& hay, const std::vector<float>& needle, size_t probe = 256,
                     float tol = 1e-6f) {
        const size_t n = std::min(probe, needle.size());
        for (size_t off = 0; off + n <= hay.size(); ++off) {
            bool same = true;
            for (size_t i = 0; i < n && same; ++i) same = std::fabs(hay[off + i] - needle[i]) <= tol;
            if (same) return long(off);
        }
        return -1;
    }

private:
    QTemporaryDir dir_;
    int rate_;
    bool ok_ = false;
    QString inRaw_, outRaw_;
    std::vector<float> known_;
};

}  // namespace xopd::test
