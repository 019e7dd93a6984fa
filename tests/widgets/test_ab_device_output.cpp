// A/B listening measured at the audio output (issue 17 point 1), through a virtual loudspeaker that
// keeps real time: PortAudio → ALSA's pulse plugin → a private PulseAudio null sink, recorded from
// its monitor (tests/support/VirtualPulse.h). Both conditions are "position clips": every sample
// says which clip it belongs to (its sign) and where in the clip it is (its magnitude), so the
// recording shows what the listener heard, sample by sample:
//   - switched many times at random moments while playing, the output is one continuous pass
//     through the clip positions, each switch a crossfade (never a cut, a gap or a jump), and it
//     plays to the end;
//   - choosing a slot while stopped, Home, Space plays the clip from its start (it was a blip);
//   - Space after the end replays;
//   - ABX cannot be answered before X was played.
// Timings are the scenario's (random waits between switches); nothing asserts how long anything
// took.
#include "tests/support/VirtualPulse.h"

#include "core/audio/AudioClip.h"
#include "core/audio/AudioDevices.h"
#include "widgets/ab/AbListeningWidget.h"
#include "widgets/audio/AudioTransport.h"

#include <QAction>
#include <QCheckBox>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QtTest/QtTest>

#include <cmath>
#include <memory>
#include <random>

using namespace xopd;
using namespace xopd::widgets;

namespace {
constexpr int kRate = 16000;
constexpr long kPeriod = 4096;  ///< positions are encoded mod kPeriod
constexpr int kStep = 4;        ///< LSBs per position step (robust to float → 16-bit rounding)
constexpr long kFadeIn = kRate * 10 / 1000;    ///< the transport's fade-in on play (10 ms)
constexpr long kCrossfade = kRate * 15 / 1000; ///< the screen's crossfade on a switch (15 ms)

/// Sample i of a position clip: sign = which clip, magnitude = (i mod kPeriod) + 1 steps.
audio::AudioClip positionClip(double seconds, int sign) {
    audio::AudioClip c{std::vector<float>(size_t(seconds * kRate)), kRate};
    for (size_t i = 0; i < c.samples.size(); ++i)
        c.samples[i] = float(sign * (long(i % kPeriod) + 1) * kStep) / 32768.0f;
    return c;
}

/// A played sample read back: which clip (+1 / −1, 0 for none) and its position mod kPeriod (−1
/// when the value is not a clip sample, e.g. inside a fade).
struct Decoded {
    int sign = 0;
    long pos = -1;
};
Decoded decode(float v) {
    const long s = std::lround(double(v) * 32768.0);
    if (s == 0) return {};
    const long q = std::labs(s);
    const long k = (q + kStep / 2) / kStep;
    if (k < 1 || k > kPeriod || std::labs(q - k * kStep) > 1) return {s > 0 ? 1 : -1, -1};
    return {s > 0 ? 1 : -1, k - 1};
}

/// What a recording holds about one pass of a clip.
struct Pass {
    long start = -1;         ///< recording index of clip frame 0
    long right = 0;          ///< samples of the pass that are the expected clip position
    long wrongOutside = 0;   ///< wrong samples not explained by the fade-in or a crossfade
    long dropouts = 0;       ///< samples of exact silence mid-pass, the clip going on after them
    long lastRight = -1;     ///< clip frame of the last right sample
    std::vector<long> transitions;  ///< widths (samples) of the clip changes (sign changes)
    QString firstProblem;
};

/// Follows the pass that starts at the first intact run of 64 samples at position 0 + fade-in
/// after recording index `from`, for at most `frames` clip frames.
Pass followPass(const std::vector<float>& rec, long from, long frames) {
    Pass p;
    for (long i = std::max(0L, from); i + 64 < long(rec.size()) && p.start < 0; ++i) {
        const Decoded d = decode(rec[size_t(i)]);
        if (d.pos < 0) continue;
        bool run = true;
        for (long k = 1; k < 64 && run; ++k) {
            const Decoded e = decode(rec[size_t(i + k)]);
            run = e.pos == (d.pos + k) % kPeriod;
        }
        if (run) p.start = i - d.pos;  // the first pass starts within the first kPeriod samples
    }
    if (p.start < 0) return p;
    // Each frame: right (the expected position, either clip) or wrong. A crossfade makes wrong
    // samples (a mix of both clips) between the last right sample of one clip and the first of the
    // other; near a period start the mix can round to the old clip's value, so the wrong samples
    // of one crossfade may come in pieces: every wrong sample within kCrossfade + 2 before a clip
    // change belongs to it.
    std::vector<std::pair<long, long>> wrongRuns;  // [first, last] frames
    std::vector<long> changes;                     // frames where the clip changed
    int lastSign = 0;
    long runStart = -1;
    for (long f = 0; f < frames && p.start + f < long(rec.size()); ++f) {
        const long i = p.start + f;
        const Decoded d = i >= 0 ? decode(rec[size_t(i)]) : Decoded{};
        if (d.pos == f % kPeriod) {
            if (runStart >= 0) wrongRuns.push_back({runStart, f - 1});
            runStart = -1;
            if (lastSign != 0 && d.sign != lastSign) changes.push_back(f);
            lastSign = d.sign;
            p.lastRight = f;
            ++p.right;
        } else if (runStart < 0) {
            runStart = f;
        }
    }
    if (runStart > 0) {  // the pass ends wrong: a dropout only if it is exact silence to the end
        const long end = std::min(frames, long(rec.size()) - p.start);
        bool silent = true;
        for (long k = runStart; k < end && silent; ++k) silent = rec[size_t(p.start + k)] == 0.0f;
        if (silent) {
            p.dropouts += frames - runStart;
            p.lastRight = frames - 1;  // (as far as positions go: nothing wrong was played)
        }
    }
    for (long c : changes) {
        long first = c;
        for (const auto& [w0, w1] : wrongRuns)
            if (w1 < c && w0 >= c - kCrossfade - 2) first = std::min(first, w0);
        p.transitions.push_back(c - first);
    }
    for (const auto& [w0, w1] : wrongRuns) {
        if (w1 < kFadeIn) continue;  // the fade-in at the start
        bool inCrossfade = false;
        for (long c : changes) inCrossfade = inCrossfade || (w1 < c && w0 >= c - kCrossfade - 2);
        if (inCrossfade) continue;
        // Exact silence, after which the clip goes on at the right position: the device dropped
        // out (on this shared machine a compile can starve the sound server), the player did not
        // stop or jump. Counted, and bounded by the test.
        bool silent = true;
        for (long k = w0; k <= w1 && silent; ++k) silent = rec[size_t(p.start + k)] == 0.0f;
        if (silent && w1 + 1 < frames && p.start + w1 + 1 < long(rec.size())) {
            p.dropouts += w1 - w0 + 1;
            continue;
        }
        p.wrongOutside += w1 - w0 + 1;
        if (p.firstProblem.isEmpty()) {
            QStringList vals;
            for (long k = std::max(0L, w0 - 2); k <= w1 + 2 && p.start + k < long(rec.size()); ++k)
                vals << QString::number(std::lround(rec[size_t(p.start + k)] * 32768.0));
            p.firstProblem = QString("%1 wrong samples at clip frames %2-%3 (recorded %4)")
                                 .arg(w1 - w0 + 1).arg(w0).arg(w1).arg(vals.mid(0, 16).join(' '));
        }
    }
    return p;
}

QAction* actionNamed(const QList<QAction*>& actions, const QString& text) {
    for (QAction* a : actions)
        if (a->text() == text) return a;
    return nullptr;
}
}  // namespace

class TestAbDeviceOutput : public QObject {
    Q_OBJECT
    std::unique_ptr<xopd::test::VirtualPulse> pulse_;
    std::unique_ptr<AbListeningWidget> w_;
    AudioTransport* transport_ = nullptr;
    QAction* space_ = nullptr;
    QAction* home_ = nullptr;
    const double seconds_ = 6.0;

    void startScreen(AbMode mode) {
        w_ = std::make_unique<AbListeningWidget>();
        w_->addCandidate("up", positionClip(seconds_, +1));
        w_->addCandidate("down", positionClip(seconds_, -1));
        for (auto* box : w_->findChildren<QCheckBox*>())
            if (box->text().startsWith("Match loudness")) box->setChecked(false);  // bit-exact output
        w_->chooseConditions("up", "down");
        QVERIFY(w_->startTest(mode, 17, 3));
        transport_ = w_->findChild<AudioTransport*>();
        space_ = actionNamed(w_->screenActions(), "Play / pause");
        home_ = actionNamed(w_->screenActions(), "Start of clip");
        QVERIFY(transport_ && space_ && home_);
    }

private slots:
    void initTestCase() {
        for (const char* tool : {"pulseaudio", "parec"})
            if (QStandardPaths::findExecutable(tool).isEmpty())
                QSKIP("pulseaudio is not installed (packaging/setup-debian.sh installs pulseaudio, pulseaudio-utils)");
        pulse_ = std::make_unique<xopd::test::VirtualPulse>(kRate);  // before PortAudio starts
        QVERIFY2(pulse_->ok(), qPrintable(pulse_->error()));
        bool output = false;
        for (const auto& d : audio::listAudioDevices()) output |= d.max_output_channels > 0;
        QVERIFY2(output, "PortAudio sees no output device on the virtual loudspeaker");
    }

    // Playing A, switching A/B at random moments (25 switches, 60–300 ms apart): one continuous
    // pass through the clip, a crossfade at every switch, nothing else wrong, to the end.
    void switchingAtRandomMomentsPlaysContinuously() {
        startScreen(AbMode::Ab);
        QVERIFY(pulse_->startCapture());
        space_->trigger();
        QVERIFY(transport_->isPlaying());
        std::mt19937 rng(20261206);
        std::uniform_int_distribution<int> wait(60, 300);
        int switches = 0;
        QTest::qWait(500);  // "pressing 2 half a second in"
        while (switches < 25 && transport_->position() < seconds_ - 0.5) {
            w_->selectSlot(1 - w_->currentSlot());
            ++switches;
            QTest::qWait(wait(rng));
        }
        QVERIFY2(switches >= 15, qPrintable(QString("only %1 switches before the end").arg(switches)));
        QTRY_VERIFY_WITH_TIMEOUT(!transport_->isPlaying(), 15000);
        const auto rec = pulse_->stopCapture();
        const long frames = long(seconds_ * kRate);
        const Pass p = followPass(rec, 0, frames);
        QVERIFY2(p.start >= 0, qPrintable(QString("no clip audio in %1 recorded samples").arg(rec.size())));
        QVERIFY2(p.wrongOutside == 0, qPrintable(p.firstProblem));
        if (p.dropouts > 0) qWarning("the device dropped out for %ld samples (machine load?)", p.dropouts);
        QVERIFY2(p.dropouts < frames / 10, qPrintable(QString("%1 samples of silence mid-clip").arg(p.dropouts)));
        QCOMPARE(p.lastRight, frames - 1);  // played to the end, at the right positions
        QCOMPARE(int(p.transitions.size()), switches);  // every switch was heard
        for (long width : p.transitions) {
            QVERIFY2(width <= kCrossfade + 2, qPrintable(QString("a switch took %1 samples").arg(width)));
            QVERIFY2(width >= kCrossfade / 2, qPrintable(QString("a switch without a crossfade (%1 samples)").arg(width)));
        }
        // Nothing but the clip's end is silent: all of it was heard, once.
        QVERIFY(p.right + p.dropouts >= frames - kFadeIn - switches * (kCrossfade + 2));
    }

    // Stopped: choose a slot, Home, Space: the slot's clip plays from its start, on and on (three
    // tries); then played to its end, Space replays it.
    void homeSpaceAndSpaceAfterTheEndPlayFromTheStart() {
        startScreen(AbMode::Ab);
        for (int attempt = 0; attempt < 3; ++attempt) {
            QVERIFY(pulse_->startCapture());
            w_->selectSlot(attempt % 2);
            home_->trigger();
            space_->trigger();
            QVERIFY(transport_->isPlaying());
            QTest::qWait(1200);
            QVERIFY2(transport_->isPlaying(), "playback stopped after a blip");
            space_->trigger();  // pause
            const auto rec0 = pulse_->stopCapture();
            const Pass p = followPass(rec0, 0, kRate);
            QVERIFY2(p.start >= 0, qPrintable(QString("try %1: nothing played").arg(attempt)));
            QVERIFY2(p.wrongOutside == 0, qPrintable(QString("try %1: %2").arg(attempt).arg(p.firstProblem)));
            QVERIFY2(p.dropouts < kRate / 10, qPrintable(QString("try %1: %2 samples of silence").arg(attempt).arg(p.dropouts)));
            QVERIFY2(p.lastRight >= kRate - 1, qPrintable(QString("try %1: only %2 samples").arg(attempt).arg(p.lastRight)));
        }
        // To the end, then Space: the clip again from its start.
        QVERIFY(pulse_->startCapture());
        home_->trigger();
        space_->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!transport_->isPlaying(), 15000);
        space_->trigger();
        QVERIFY2(transport_->isPlaying(), "Space after the end did not replay");
        QTest::qWait(1200);
        transport_->stop();
        const auto rec = pulse_->stopCapture();
        const long frames = long(seconds_ * kRate);
        const Pass first = followPass(rec, 0, frames);
        QCOMPARE(first.lastRight, frames - 1);
        const Pass again = followPass(rec, first.start + frames, kRate);
        QVERIFY2(again.start >= 0, "the replay is not in the output");
        QVERIFY2(again.wrongOutside == 0, qPrintable(again.firstProblem));
        QVERIFY2(again.dropouts < kRate / 10, qPrintable(QString("%1 samples of silence").arg(again.dropouts)));
        QVERIFY(again.lastRight >= kRate - 1);
    }

    // Playing, a jump (what a click on the waveform does) continues at the new place with its
    // fade-in and no gap: the stream is not restarted (a restart would lead with 50 ms of silence).
    void jumpWhilePlayingHasNoGap() {
        const audio::AudioClip clip = positionClip(seconds_, +1);
        AudioTransport t;
        QVERIFY(pulse_->startCapture());
        QVERIFY(t.play(clip, 0.0));
        QTest::qWait(400);
        QVERIFY(t.isPlaying());
        QVERIFY(t.play(clip, 3.0));  // jump
        QVERIFY(t.position() >= 3.0);
        QTest::qWait(600);
        t.stop();
        const auto rec = pulse_->stopCapture();
        const Pass before = followPass(rec, 0, kRate * 3);
        QVERIFY(before.start >= 0);
        const long jumpedAt = before.start + before.lastRight + 1;  // first sample after the last right one
        // From there: the jump's fade-in, then positions from 3 s on, with nothing silent between.
        long k = jumpedAt;
        while (k < long(rec.size()) && decode(rec[size_t(k)]).pos != (3 * kRate + kFadeIn) % kPeriod) ++k;
        QVERIFY2(k < long(rec.size()), "the jump target is not in the output");
        QVERIFY2(k - jumpedAt <= kFadeIn + 2, qPrintable(QString("%1 samples between the old and the new place").arg(k - jumpedAt)));
        for (long j = 0; j < kRate / 4; ++j)
            QVERIFY2(decode(rec[size_t(k + j)]).pos == (3 * kRate + kFadeIn + j) % kPeriod,
                     qPrintable(QString("sample %1 after the jump").arg(j)));
    }

    // An A–B loop: pass after pass of exactly the loop region, faded at both borders, with no gap
    // between the passes, and playback stops when the loop is turned off.
    void loopPlaysTheRegionPassAfterPass() {
        const audio::AudioClip clip = positionClip(seconds_, +1);
        AudioTransport t;
        QSignalSpy wrapped(&t, &AudioTransport::loopWrapped);
        t.setLoop(1.0, 1.25);
        QVERIFY(pulse_->startCapture());
        QVERIFY(t.play(clip, 0.2, 0.0, 10));  // outside the loop: starts at the loop start
        QVERIFY(t.position() >= 1.0);
        QTRY_VERIFY_WITH_TIMEOUT(wrapped.count() >= 3, 10000);
        t.setLoop(0, 0);
        QTRY_VERIFY_WITH_TIMEOUT(!t.isPlaying(), 10000);
        const auto rec = pulse_->stopCapture();
        // Every pass: positions 16000 + 160 ... 20000 − 1 − 160 intact (10 ms fades at the borders
        // of a looped pass), nothing past the loop end.
        int passes = 0;
        long lastPassEnd = -1;
        for (long i = 0; i + 1 < long(rec.size()); ++i) {
            const Decoded d = decode(rec[size_t(i)]);
            if (d.pos != (16000 + kFadeIn) % kPeriod) continue;
            long j = i;
            while (j + 1 < long(rec.size()) && decode(rec[size_t(j + 1)]).pos == (decode(rec[size_t(j)]).pos + 1) % kPeriod) ++j;
            const long len = j - i + 1;
            if (len < 1000) continue;  // not a pass start (the position recurs every kPeriod)
            QVERIFY2(std::labs(len - (4000 - 2 * kFadeIn)) <= 2, qPrintable(QString("a pass of %1 intact samples").arg(len)));
            // Pass after pass on the running stream: between two passes only the two 10 ms fades,
            // no silence of a stream restart (which leads with 50 ms and trails 100 ms).
            if (lastPassEnd >= 0)
                QVERIFY2(i - lastPassEnd - 1 <= 2 * kFadeIn + 2,
                         qPrintable(QString("%1 samples between two passes").arg(i - lastPassEnd - 1)));
            lastPassEnd = j;
            ++passes;
            i = j;
        }
        QVERIFY2(passes >= 3, qPrintable(QString("%1 passes").arg(passes)));
    }

    // ABX: the answer waits until X was played.
    void abxIsAnsweredOnlyAfterXWasPlayed() {
        startScreen(AbMode::Abx);
        QVERIFY(!w_->canAnswer());
        space_->trigger();  // A plays
        QTest::qWait(200);
        w_->selectSlot(1);
        QTest::qWait(200);
        QVERIFY(!w_->canAnswer());
        QVERIFY(!w_->answer(0));
        QCOMPARE(w_->session()->answered(), 0);
        w_->selectSlot(2);  // X
        QVERIFY(w_->canAnswer());
        QVERIFY(w_->answer(0));
        QCOMPARE(w_->session()->answered(), 1);
        QVERIFY(!w_->canAnswer());  // the next trial: X not played yet
        transport_->stop();
    }
};

QTEST_MAIN(TestAbDeviceOutput)
#include "test_ab_device_output.moc"
