// Blind A/B and ABX: the assignment is reproducible from the seed (recomputed here from the
// documented std::mt19937 draws), different seeds differ, labels stay hidden until reveal (also on
// the screen: slot buttons, tally and gain line), results are saved with the seed and the mapping,
// the ABX tally and its binomial p-value match exact combinatorics, and loudness matching applies
// (quietest − own) dB of playback gain, checked against libebur128 measurements made in the test.
#include "widgets/ab/AbListeningWidget.h"
#include "widgets/ab/AbSession.h"
#include "widgets/audio/AudioTransport.h"
#include "widgets/audio/WaveformView.h"

#include "core/audio/Loudness.h"
#include "tests/support/TestSupport.h"

#include <QComboBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPushButton>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace xopd;
using namespace xopd::widgets;

namespace {
/// P(K ≥ k), K ~ Binomial(n, ½), by exact integer binomial coefficients.
double exactTail(int k, int n) {
    long double sum = 0, c = 1;  // c = C(n, i)
    for (int i = 0; i <= n; ++i) {
        if (i >= k) sum += c;
        c = c * (n - i) / (i + 1);
    }
    return double(sum / std::pow(2.0L, n));
}

audio::AudioClip tone(double amplitude, double hz = 1000, double seconds = 3.0) {
    return {xopd::test::sineTone(hz, seconds, 48000, amplitude), 48000};
}
}  // namespace

class TestAbSession : public QObject {
    Q_OBJECT

private slots:
    void assignmentReproducibleFromTheSeed() {
        const QStringList names{"teacher answer (TTS)", "student answer (TTS)"};
        const AbSession s1(AbMode::Abx, names, {-20, -23}, 4242, 64);
        const AbSession s2(AbMode::Abx, names, {-20, -23}, 4242, 64);
        // The documented draw: per trial one mt19937 draw picks A, and for ABX one more picks X.
        std::mt19937 rng(4242);
        int aFirst = 0, xFirst = 0;
        for (int i = 0; i < 64; ++i) {
            const int a = int(rng() & 1u), x = int(rng() & 1u);
            QCOMPARE(s1.trial(i).aIs, a);
            QCOMPARE(s1.trial(i).bIs, 1 - a);
            QCOMPARE(s1.trial(i).xIs, x);
            QCOMPARE(s2.trial(i).aIs, s1.trial(i).aIs);
            QCOMPARE(s2.trial(i).xIs, s1.trial(i).xIs);
            QCOMPARE(s1.conditionOf(i, 0), s1.trial(i).aIs);
            QCOMPARE(s1.conditionOf(i, 1), s1.trial(i).bIs);
            QCOMPARE(s1.conditionOf(i, 2), s1.trial(i).xIs);
            aFirst += a == 0;
            xFirst += x == 0;
        }
        QVERIFY(aFirst > 0 && aFirst < 64);  // both orders occur
        QVERIFY(xFirst > 0 && xFirst < 64);
        // Different seeds give different assignments.
        const AbSession other(AbMode::Abx, names, {-20, -23}, 4243, 64);
        int differ = 0;
        for (int i = 0; i < 64; ++i) differ += other.trial(i).aIs != s1.trial(i).aIs || other.trial(i).xIs != s1.trial(i).xIs;
        QVERIFY(differ > 0);
        // A/B has no X.
        const AbSession ab(AbMode::Ab, names, {-20, -23}, 4242, 8);
        QCOMPARE(ab.trial(0).xIs, -1);
        QCOMPARE(ab.seed(), 4242u);
    }

    void labelsHiddenUntilReveal() {
        AbSession s(AbMode::Abx, {"before", "after"}, {-20, -20}, 7, 10);
        for (int t = 0; t < 10; ++t) {
            QCOMPARE(s.slotLabel(t, 0), QString("A"));
            QCOMPARE(s.slotLabel(t, 1), QString("B"));
            QCOMPARE(s.slotLabel(t, 2), QString("X"));
        }
        QVERIFY(!s.revealed());
        s.reveal();
        for (int t = 0; t < 10; ++t) {
            QCOMPARE(s.slotLabel(t, 0), "A = " + s.names()[s.conditionOf(t, 0)]);
            QCOMPARE(s.slotLabel(t, 2), "X = " + s.names()[s.conditionOf(t, 2)]);
        }
    }

    void abxTallyAndPValue() {
        AbSession s(AbMode::Abx, {"c0", "c1"}, {-20, -20}, 99, 10);
        QCOMPARE(s.answered(), 0);
        QCOMPARE(s.pValue(), 1.0);
        // Right on trials 0..7, wrong on 8 and 9: 8 of 10.
        for (int t = 0; t < 10; ++t) {
            const int xSlot = s.trial(t).aIs == s.trial(t).xIs ? 0 : 1;
            s.answer(t, t < 8 ? xSlot : 1 - xSlot);
        }
        QCOMPARE(s.answered(), 10);
        QCOMPARE(s.correct(), 8);
        // P(K ≥ 8 | n = 10) = (45 + 10 + 1) / 1024.
        QVERIFY(std::abs(s.pValue() - 56.0 / 1024.0) < 1e-12);
        QVERIFY(std::abs(s.pValue() - exactTail(8, 10)) < 1e-12);
        for (auto [k, n] : {std::pair{0, 5}, {3, 5}, {5, 5}, {12, 20}, {30, 40}})
            QVERIFY2(std::abs(binomialTailHalf(k, n) - exactTail(k, n)) < 1e-12, qPrintable(QString("%1/%2").arg(k).arg(n)));
        QCOMPARE(binomialTailHalf(6, 5), 0.0);
        QVERIFY_THROWS_EXCEPTION(std::exception, s.answer(10, 0));
        QVERIFY_THROWS_EXCEPTION(std::exception, s.answer(0, 2));
        QVERIFY_THROWS_EXCEPTION(std::exception, AbSession(AbMode::Abx, {"only one"}, {-20}, 1, 3));
        QVERIFY_THROWS_EXCEPTION(std::exception, AbSession(AbMode::Ab, {"a", "b"}, {-20, -20}, 1, 0));
        QVERIFY_THROWS_EXCEPTION(std::exception, AbSession(AbMode::Invalid, {"a", "b"}, {-20, -20}, 1, 3));
    }

    void resultsSavedWithSeedAndMapping() {
        AbSession s(AbMode::Abx, {"checkpoint 100", "checkpoint 400"}, {-18.5, -24.0}, 31337, 6);
        for (int t = 0; t < 4; ++t) s.answer(t, t % 2);
        QTemporaryDir tmp;
        const QString path = tmp.filePath("ab.json");
        s.save(path, "rater-1");
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(o["format"].toString(), QString("xopd-ab-results"));
        QCOMPARE(o["mode"].toString(), QString("abx"));
        QCOMPARE(o["seed"].toInteger(), 31337);
        QCOMPARE(o["rater"].toString(), QString("rater-1"));
        QCOMPARE(o["answered"].toInt(), 4);
        QCOMPARE(o["correct"].toInt(), s.correct());
        QVERIFY(std::abs(o["p_value"].toDouble() - exactTail(s.correct(), 4)) < 1e-12);
        const QJsonArray trials = o["trials"].toArray();
        QCOMPARE(trials.size(), 6);
        for (int t = 0; t < 6; ++t) {
            const QJsonObject tr = trials[t].toObject();
            QCOMPARE(tr["trial"].toInt(), t + 1);
            QCOMPARE(tr["A"].toString(), s.names()[s.trial(t).aIs]);
            QCOMPARE(tr["B"].toString(), s.names()[s.trial(t).bIs]);
            QCOMPARE(tr["X"].toString(), s.names()[s.trial(t).xIs]);
            if (t < 4) {
                QCOMPARE(tr["answer"].toString(), QString(t % 2 ? "B" : "A"));
                QCOMPARE(tr["correct"].toBool(), s.conditionOf(t, t % 2) == s.trial(t).xIs);
            } else {
                QVERIFY(tr["answer"].isNull());
            }
        }
        const QJsonArray conds = o["conditions"].toArray();
        QCOMPARE(conds[0].toObject()["integrated_lufs"].toDouble(), -18.5);
        QCOMPARE(conds[0].toObject()["match_gain_db"].toDouble(), -5.5);  // −24 − (−18.5)
        QCOMPARE(conds[1].toObject()["match_gain_db"].toDouble(), 0.0);
        // The mapping alone reproduces the session: a new session from the saved seed agrees.
        const AbSession again(AbMode::Abx, s.names(), {-18.5, -24.0}, uint32_t(o["seed"].toInteger()), 6);
        for (int t = 0; t < 6; ++t) QCOMPARE(trials[t].toObject()["X"].toString(), again.names()[again.trial(t).xIs]);

        // A/B preference counts.
        AbSession ab(AbMode::Ab, {"teacher", "student"}, {-20, -20}, 5, 4);
        for (int t = 0; t < 4; ++t) ab.answer(t, ab.trial(t).aIs == 0 ? 0 : 1);  // always prefer "teacher"
        const QJsonObject abj = ab.toJson("r");
        QCOMPARE(abj["mode"].toString(), QString("ab"));
        QCOMPARE(abj["preferred_counts"].toObject()["teacher"].toInt(), 4);
        QCOMPARE(abj["preferred_counts"].toObject()["student"].toInt(), 0);
    }

    void loudnessMatchingAgainstLibebur128() {
        const auto loud = tone(0.5), quiet = tone(0.1);
        const double lufsLoud = audio::measureLoudness(loud).integrated_lufs;
        const double lufsQuiet = audio::measureLoudness(quiet).integrated_lufs;
        // Sanity of the measurement itself: 20·log10(0.1 / 0.5) = −13.98 dB apart.
        QVERIFY(std::abs((lufsQuiet - lufsLoud) - 20 * std::log10(0.2)) < 0.05);
        AbSession s(AbMode::Ab, {"loud", "quiet"}, {lufsLoud, lufsQuiet}, 1, 2);
        QVERIFY(std::abs(s.matchGainDb(0) - (lufsQuiet - lufsLoud)) < 1e-9);  // the louder one is turned down
        QCOMPARE(s.matchGainDb(1), 0.0);                                       // nothing is boosted
        // Applying that gain as playback gain makes the two measure the same.
        const auto matched = AudioTransport::renderSlice(loud, 0.0, s.matchGainDb(0), 0);
        QVERIFY(std::abs(audio::measureLoudness(matched).integrated_lufs - lufsQuiet) < 0.01);
        QCOMPARE(matched.frames(), loud.frames());
        // Unknown loudness (silence): no matching.
        AbSession unknown(AbMode::Ab, {"a", "b"}, {-INFINITY, -20}, 1, 2);
        QCOMPARE(unknown.matchGainDb(0), 0.0);
        QCOMPARE(unknown.matchGainDb(1), 0.0);
        // The slice itself: start offset, gain and fade.
        audio::AudioClip ramp{std::vector<float>(1000, 1.0f), 1000};
        const auto slice = AudioTransport::renderSlice(ramp, 0.5, -6.0, 100);  // 100 ms fade = 100 samples
        QCOMPARE(slice.frames(), size_t(500));
        QCOMPARE(slice.samples[0], 0.0f);
        QVERIFY(std::abs(slice.samples[50] - 0.5f * float(std::pow(10.0, -6.0 / 20))) < 1e-6f);
        QVERIFY(std::abs(slice.samples[400] - float(std::pow(10.0, -6.0 / 20))) < 1e-6f);
    }

    void screenKeepsLabelsAndMappingHidden() {
        AbListeningWidget w;
        w.resize(1000, 600);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.addCandidate("teacher answer", tone(0.5, 440, 1.0));
        w.addCandidate("student answer", tone(0.1, 660, 1.5));  // a longer clip: a visibly different waveform
        QCOMPARE(w.candidateNames(), (QStringList{"teacher answer", "student answer"}));
        w.chooseConditions("teacher answer", "student answer");
        QVERIFY(w.startTest(AbMode::Abx, 2024, 6));
        QVERIFY(w.session());
        QCOMPARE(w.session()->seed(), 2024u);
        const AbSession ref(AbMode::Abx, {"teacher answer", "student answer"}, {-20, -20}, 2024, 6);
        for (int t = 0; t < 6; ++t) QCOMPARE(w.session()->trial(t).xIs, ref.trial(t).xIs);  // seed → same mapping
        // Nothing on screen names a condition or tells the slots apart.
        auto noNames = [&](const QString& text) { return !text.contains("teacher") && !text.contains("student"); };
        QCOMPARE(w.slotTexts(), (QStringList{"A", "B", "X"}));
        w.selectSlot(0);
        const QString gainA = w.gainText();
        w.selectSlot(1);
        const QString gainB = w.gainText();
        w.selectSlot(2);
        QVERIFY(noNames(gainA) && noNames(w.tallyText()));
        QVERIFY2(gainA == gainB, qPrintable(gainA + " | " + gainB));  // the gain line must not reveal the slot's condition
        QVERIFY(gainA.contains("dB"));
        const double offset = std::abs(audio::measureLoudness(tone(0.5, 440, 1.0)).integrated_lufs -
                                       audio::measureLoudness(tone(0.1, 660, 1.5)).integrated_lufs);
        // The waveform shows the clip in the slot (issue 17: a 1 s waveform under a 1.5 s clip ran
        // the playhead off its end), X's being A's or B's.
        auto* wave = w.findChild<WaveformView*>();
        QVERIFY(wave);
        std::vector<size_t> frames;
        for (int slot : {0, 1, 2}) {
            w.selectSlot(slot);
            frames.push_back(wave->clip().frames());
        }
        const auto framesOf = [](int condition) { return condition == 0 ? size_t(48000) : size_t(72000); };
        for (int slot : {0, 1, 2}) QCOMPARE(frames[size_t(slot)], framesOf(w.session()->conditionOf(0, slot)));
        QVERIFY2(gainA.contains(QString::number(offset, 'f', 1)), qPrintable(gainA));
        // ABX: no answer before X was played (there is no output device here: nothing plays).
        QVERIFY(!w.canAnswer());
        QVERIFY(!w.answer(0));
        QCOMPARE(w.session()->answered(), 0);
        for (auto* b : w.findChildren<QPushButton*>())
            if (b->text().startsWith("X is")) QVERIFY(!b->isEnabled());
        // Answer every trial (through the session); the tally hides correctness until reveal.
        for (int t = 0; t < 6; ++t) w.session()->answer(t, 0);
        w.selectSlot(0);  // refreshes the screen
        QCOMPARE(w.session()->answered(), 6);
        QVERIFY(w.tallyText().contains("hidden"));
        QVERIFY(noNames(w.tallyText()));
        w.session()->reveal();
        w.selectSlot(0);  // refreshes the screen
        QVERIFY(w.tallyText().contains(QString::number(w.session()->correct()) + " correct"));
        QVERIFY(!noNames(w.slotTexts().join(' ')));
        // Revealed: each slot shows its own clip.
        w.selectSlot(0);
        const size_t a = wave->clip().frames();
        w.selectSlot(1);
        QVERIFY(wave->clip().frames() != a);
        // New conditions end the revealed test (issue 17): the screen no longer shows its labels.
        w.chooseConditions("student answer", "teacher answer");
        QVERIFY(!w.session());
        QCOMPARE(w.slotTexts(), (QStringList{"A", "B", "X"}));
        QVERIFY(noNames(w.tallyText()));
        // A/B needs two different conditions.
        w.chooseConditions("teacher answer", "teacher answer");
        QVERIFY(!w.startTest(AbMode::Ab, 1, 3));
    }

    // Candidates that arrive fill both conditions: the screen stops saying there are none
    // (issue 17: "No candidates yet" stayed after the Ask screen sent two answers).
    void candidatesReplaceTheNoCandidatesHint() {
        AbListeningWidget w;
        QVERIFY(w.hintText().startsWith("No candidates yet"));
        w.addCandidate("teacher answer", tone(0.5, 440, 1.0));
        w.addCandidate("student answer", tone(0.1, 660, 1.0));
        w.chooseConditions("teacher answer", "student answer");
        QVERIFY2(!w.hintText().contains("No candidates"), qPrintable(w.hintText()));
        // A test that is running (not revealed) on the same conditions goes on when they are chosen
        // again; a new clip for one of its conditions ends it.
        QVERIFY(w.startTest(AbMode::Ab, 3, 2));
        w.chooseConditions("teacher answer", "student answer");
        QVERIFY(w.session());
        w.addCandidate("student answer", tone(0.2, 660, 1.0));
        QVERIFY(!w.session());
        // The webMUSHRA rule, when asked for: A/B answers wait until both slots were played.
        QVERIFY(w.startTest(AbMode::Ab, 3, 2));
        QVERIFY(w.canAnswer());
        w.setRequirePlayback(true);
        QVERIFY(!w.canAnswer());
        QVERIFY(!w.answer(0));
    }

    // The Seed box shows the seed the test was started with, so the assignment can be reproduced
    // from the screen: a generated one (Start while "New seed each test" is ticked, the default),
    // one passed in, and the box's own value once the tick is off.
    void seedBoxShowsTheSeedInUse() {
        AbListeningWidget w;
        w.addCandidate("teacher answer", tone(0.5, 440, 1.0));
        w.addCandidate("student answer", tone(0.1, 660, 1.0));
        w.chooseConditions("teacher answer", "student answer");
        QPushButton* start = nullptr;
        for (auto* b : w.findChildren<QPushButton*>())
            if (b->text() == "Start test") start = b;
        QVERIFY(start);

        start->click();
        QVERIFY(w.session());
        const uint32_t first = w.session()->seed();
        QCOMPARE(uint32_t(w.seedShown()), first);
        start->click();
        const uint32_t second = w.session()->seed();
        QCOMPARE(uint32_t(w.seedShown()), second);
        QVERIFY2(first != second, "each test should draw a new seed");  // 1 in 2^31 to collide
        // The shown seed reproduces the running test's mapping.
        const AbSession again(w.session()->mode(), w.session()->names(), {-20, -20}, uint32_t(w.seedShown()),
                              w.session()->trialCount());
        for (int t = 0; t < again.trialCount(); ++t) {
            QCOMPARE(w.session()->trial(t).aIs, again.trial(t).aIs);
            QCOMPARE(w.session()->trial(t).xIs, again.trial(t).xIs);
        }

        QVERIFY(w.startTest(AbMode::Ab, 777, 4));
        QCOMPARE(w.seedShown(), 777);
        // Untick: Start reruns the seed in the box.
        w.setNewSeedEachTest(false);
        start->click();
        QCOMPARE(w.session()->seed(), 777u);
        QCOMPARE(w.seedShown(), 777);
        // A seed the box cannot show is refused rather than shown wrong.
        QVERIFY(!w.startTest(AbMode::Ab, 3000000000u, 4));
        QCOMPARE(w.session()->seed(), 777u);
    }

    // Stopped, a click on the waveform moves the playhead; switching slots keeps it (the next Space
    // plays the other condition from there), as switching while playing does (test_virtual_alsa_audio).
    void switchingSlotsWhileStoppedKeepsThePlayhead() {
        AbListeningWidget w;
        w.resize(1000, 600);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.addCandidate("one", tone(0.5, 440, 2.0));
        w.addCandidate("two", tone(0.2, 660, 2.0));
        w.chooseConditions("one", "two");
        QVERIFY(w.startTest(AbMode::Abx, 5, 3));
        auto* wave = w.findChild<WaveformView*>();
        QVERIFY(wave);
        const int x = wave->width() * 3 / 4;
        QTest::mouseClick(wave, Qt::LeftButton, {}, QPoint(x, wave->height() / 2));
        const double at = wave->secondsAt(x);
        QVERIFY(std::abs(at - 1.5) < 0.01);
        QCOMPARE(wave->playhead(), at);
        for (int slot : {1, 2, 0}) {
            w.selectSlot(slot);
            QCOMPARE(w.currentSlot(), slot);
            QCOMPARE(wave->playhead(), at);
        }
    }

    // A test passed in shows its mode and trial count in the boxes. setLoop does what the A, B and L
    // keys do at the playhead: the transport loops [A, B), the
    // label names the loop; B <= A, or the loop turned off, leaves the transport playing straight on.
    void setLoopArmsTheTransportAndTheLabel() {
        AbListeningWidget w;
        w.addCandidate("one", tone(0.5, 440, 2.0));
        w.addCandidate("two", tone(0.2, 660, 2.0));
        w.chooseConditions("one", "two");
        QVERIFY(w.startTest(AbMode::Ab, 5, 3));
        // The Mode and Trials boxes show the test started (they kept showing ABX and 10).
        QComboBox* mode = nullptr;
        for (auto* c : w.findChildren<QComboBox*>())
            if (c->findData(int(AbMode::Abx)) >= 0 && c->findData(int(AbMode::Ab)) >= 0) mode = c;
        QVERIFY(mode);
        QCOMPARE(mode->currentData().toInt(), int(AbMode::Ab));
        QSpinBox* trials = nullptr;
        for (auto* b : w.findChildren<QSpinBox*>())
            if (b->minimum() == 1 && b->maximum() == 1000) trials = b;
        QVERIFY(trials);
        QCOMPARE(trials->value(), 3);
        auto* transport = w.findChild<AudioTransport*>();
        QVERIFY(transport);
        QVERIFY(!transport->looping());
        w.setLoop(0.25, 1.5, true);
        QVERIFY(transport->looping());
        QCOMPARE(transport->loopStart(), 0.25);
        QCOMPARE(transport->loopEnd(), 1.5);
        QCOMPARE(w.loopText(), QString("Loop 0.25–1.50 s"));
        w.setLoop(0.25, 1.5, false);
        QVERIFY(!transport->looping());
        QVERIFY2(w.loopText().startsWith("Loop off"), qPrintable(w.loopText()));
        w.setLoop(1.5, 0.25, true);
        QVERIFY(!transport->looping());
        QVERIFY2(w.loopText().startsWith("Loop off"), qPrintable(w.loopText()));
    }
};

QTEST_MAIN(TestAbSession)
#include "test_ab_session.moc"
