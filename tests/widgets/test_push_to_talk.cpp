// Push-to-talk on the Ask screen (issue 17), through a virtual ALSA microphone (VirtualAlsa.h; no
// sound card) that hears 0.45 s of room noise, a 0.5 s tone (the "question") and 0.35 s of noise:
//   - holding F4 records and the live waveform shows the recording while the key is held, in a
//     fixed 5 s span (it grows from the left); an auto-repeated key release does not stop it;
//   - releasing F4 trims the silence (the clip that joins the library is the tone plus 0.1 s of
//     room on each side, within one 20 ms analysis frame at each end) with the typed
//     transcript, and asks it at once (toy models);
//   - the answers stream in token by token: the student's answer grows one token at a time before
//     answered(), and its last streamed text is the final answer;
//   - the "Hold to talk" button does the same with the mouse.
#include "tests/support/VirtualAlsa.h"

#include "core/audio/AudioDevices.h"
#include "core/distill/DistillConfig.h"
#include "core/session/AskService.h"
#include "widgets/audio/PushToTalkPanel.h"
#include "widgets/audio/WaveformView.h"
#include "widgets/main/AskWidget.h"
#include "widgets/prompts/PromptLibraryModel.h"

#include <QKeyEvent>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <memory>
#include <random>

using namespace xopd;
using namespace xopd::widgets;

namespace {

constexpr int kRate = 16000;
constexpr double kLead = 0.45, kTone = 0.5, kTail = 0.35;

std::vector<float> question() {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> noise(-0.0005f, 0.0005f);  // about -71 dBFS of room
    std::vector<float> x;
    const auto n0 = size_t(kLead * kRate), n1 = size_t(kTone * kRate), n2 = size_t(kTail * kRate);
    for (size_t i = 0; i < n0 + n1 + n2; ++i) {
        float s = noise(rng);
        if (i >= n0 && i < n0 + n1) s += 0.4f * float(std::sin(2 * M_PI * 440.0 * double(i - n0) / kRate));
        x.push_back(s);
    }
    return x;
}

}  // namespace

class TestPushToTalk : public QObject {
    Q_OBJECT
    std::unique_ptr<xopd::test::VirtualAlsa> alsa_;
    QTemporaryDir dir_;

    /// An Ask screen on the toy models whose push-to-talk records the whole virtual recording.
    std::unique_ptr<AskWidget> screen(PromptLibraryModel& library) {
        auto ask = std::make_unique<AskWidget>(&library);
        ask->setRecordingFolder(dir_.filePath("recordings"));
        ask->setModelConfig(distill::toyDistillConfig(), "toy models");
        audio::RecordOptions ro;
        ro.max_seconds = kLead + kTone + kTail;  // the device is not paced: stop at the recording's end
        ask->pushToTalk()->setRecordOptions(ro);
        ask->setTranscript("what is one plus one");
        ask->show();  // loads the models
        ask->activateWindow();
        return ask;
    }

    /// The last library row: a trimmed recording of the tone with its pads.
    void checkTrimmed(const PromptLibraryModel& library) {
        QVERIFY(library.rowCount() >= 1);
        const int row = library.rowCount() - 1;
        const PromptEntry& e = library.entry(row);
        QCOMPARE(e.source, QString("recorded"));
        QCOMPARE(e.transcript, QString("what is one plus one"));
        QVERIFY(e.path.startsWith(dir_.filePath("recordings")));
        const audio::AudioClip clip = library.loadClip(row);
        const double want = kTone + 2 * 0.1;
        // Each end may be off by one 20 ms analysis frame (the frames need not align with the tone).
        QVERIFY2(std::fabs(clip.durationSeconds() - want) <= 2 * 0.02 + 0.001,
                 qPrintable(QString("trimmed clip %1 s, want %2 s").arg(clip.durationSeconds()).arg(want)));
        // It begins with the pad of room noise, not with the tone.
        float head = 0;
        for (size_t i = 0; i < 800; ++i) head = std::max(head, std::fabs(clip.samples[i]));
        QVERIFY2(head < 0.01f, qPrintable(QString::number(head)));
    }

private slots:
    void initTestCase() {
        alsa_ = std::make_unique<xopd::test::VirtualAlsa>(question());
        QVERIFY(alsa_->ok());
        QVERIFY(!audio::listAudioDevices().empty());
    }

    void holdTheKeyToRecordReleaseToAsk() {
        PromptLibraryModel library;
        auto ask = screen(library);
        QVERIFY(QTest::qWaitForWindowActive(ask.get()));
        QTRY_VERIFY_WITH_TIMEOUT(ask->hasModels() && !ask->busy(), 60000);
        PushToTalkPanel* ptt = ask->pushToTalk();
        std::vector<double> live;
        bool shownWhileHeld = false;
        connect(ptt, &PushToTalkPanel::liveUpdated, this, [&](double seconds) {
            live.push_back(seconds);
            shownWhileHeld = shownWhileHeld ||
                             (ptt->isRecording() && ptt->waveform()->clip().durationSeconds() == seconds && seconds > 0);
        });
        QSignalSpy answered(ask.get(), &AskWidget::answered);
        std::vector<QString> studentSoFar;
        connect(ask.get(), &AskWidget::answerStreamed, this, [&](int part, const QString& text) {
            if (part == int(session::AskPart::StudentSpeech)) studentSoFar.push_back(text);
            QVERIFY(answered.isEmpty());  // streamed before the answer is complete
        });

        QTest::keyPress(ask.get(), Qt::Key_F4);
        QVERIFY(ptt->isRecording());
        QTRY_VERIFY_WITH_TIMEOUT(shownWhileHeld, 10000);
        QCOMPARE(ptt->waveform()->timeSpan(), 5.0);  // a fixed span the recording grows into
        for (size_t i = 1; i < live.size(); ++i) QVERIFY(live[i] >= live[i - 1]);
        // Held keys auto-repeat as release/press pairs: those do not end the recording.
        QKeyEvent repeat(QEvent::KeyRelease, Qt::Key_F4, Qt::NoModifier, QString(), /*autorep=*/true);
        QApplication::sendEvent(ask.get(), &repeat);
        QVERIFY(ptt->isRecording());
        QCOMPARE(library.rowCount(), 0);

        QTest::keyRelease(ask.get(), Qt::Key_F4);
        QVERIFY(!ptt->isRecording());
        checkTrimmed(library);
        QVERIFY(ask->busy());  // asked at once
        QVERIFY(answered.wait(120000));
        const QString final = QString::fromStdString(ask->lastAnswer().student_answer);
        QCOMPARE(QString::fromStdString(ask->lastAnswer().speech.prompt_id), library.entry(0).id);
        if (!final.isEmpty()) {
            QVERIFY(!studentSoFar.empty());
            QCOMPARE(studentSoFar.back(), final);
            for (size_t i = 1; i < studentSoFar.size(); ++i) QVERIFY(studentSoFar[i].startsWith(studentSoFar[i - 1]));
        }
        QCOMPARE(ask->streamedAnswer(int(session::AskPart::StudentSpeech)), final);
    }

    void holdTheButtonToRecordReleaseToAsk() {
        PromptLibraryModel library;
        auto ask = screen(library);
        QTRY_VERIFY_WITH_TIMEOUT(ask->hasModels() && !ask->busy(), 60000);
        PushToTalkPanel* ptt = ask->pushToTalk();
        QSignalSpy answered(ask.get(), &AskWidget::answered);
        QSignalSpy live(ptt, &PushToTalkPanel::liveUpdated);
        QTest::mousePress(ptt->button(), Qt::LeftButton);
        QVERIFY(ptt->isRecording());
        QVERIFY(live.wait(10000));
        QTest::mouseRelease(ptt->button(), Qt::LeftButton);
        QVERIFY(!ptt->isRecording());
        checkTrimmed(library);
        QVERIFY(answered.wait(120000));
    }
};

QTEST_MAIN(TestPushToTalk)
#include "test_push_to_talk.moc"
