#pragma once
// Widget-test fixtures kept once: a demo-kit folder with the parts MainWindow checks when it opens
// a kit (kit.json; teacher/ and student/ each with config.json and a placeholder
// model.safetensors that no loader accepts, so a run started on it fails while loading) and the
// prompt manifests a test gives; a sine clip; a workbench window on a test workspace.
// Header-only. The QVERIFYs inside return from the helper only: callers that go on check
// QTest::currentTestFailed() where it matters.

#include "core/audio/AudioClip.h"
#include "core/audio/AudioFile.h"
#include "widgets/main/MainWindow.h"
#include "tests/support/TestSupport.h"

#include <QDir>
#include <QFile>
#include <QMap>
#include <QtTest/QtTest>

#include <memory>

namespace xopd::test {

/// `samples` samples of a sine at `hz` at 16 kHz.
inline audio::AudioClip sineClip(double hz, int samples = 16000, float amplitude = 0.5f) {
    audio::AudioClip clip;
    clip.sample_rate = 16000;
    clip.samples = sineTone(hz, samples / 16000.0, 16000, amplitude);
    return clip;
}

inline void writeTextFile(const QString& path, const QByteArray& text) {
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
    f.write(text);
}

/// A kit at `root` whose prompts/train.jsonl and prompts/eval.jsonl hold the given rows; `clips`
/// maps a path under prompts/ (e.g. "audio/q.wav") to the clip written there.
inline void writeFakeKit(const QString& root, const QByteArray& trainJsonl, const QByteArray& evalJsonl,
                         const QMap<QString, audio::AudioClip>& clips) {
    QDir kit(root);
    for (const char* d : {"teacher", "student", "prompts/audio"}) QVERIFY(kit.mkpath(d));
    writeTextFile(kit.filePath("kit.json"), R"({"format": "xopd-demo-kit", "version": 3})");  // demokit::kDemoKitVersion
    for (const char* m : {"teacher", "student"}) {
        writeTextFile(kit.filePath(QString("%1/config.json").arg(m)), "{}");
        writeTextFile(kit.filePath(QString("%1/model.safetensors").arg(m)), "x");
    }
    for (auto it = clips.begin(); it != clips.end(); ++it)
        audio::writeAudioFile(kit.filePath("prompts/" + it.key()).toStdString(), it.value(),
                              audio::AudioFileFormat::WavPcm16);
    writeTextFile(kit.filePath("prompts/train.jsonl"), trainJsonl);
    writeTextFile(kit.filePath("prompts/eval.jsonl"), evalJsonl);
}

/// A window on `workspace` with its saved layout ignored; without `kit`, on a kit folder that does
/// not exist (the toy models serve).
inline std::unique_ptr<widgets::MainWindow> makeTestWindow(const QString& workspace, const QString& kit = {},
                                                           bool show = true, bool restoreLayout = false) {
    widgets::WorkbenchOptions o;
    o.workspace = workspace;
    o.demoKit = kit.isEmpty() ? workspace + "/no-demo-kit-here" : kit;
    o.restoreLayout = restoreLayout;
    auto w = std::make_unique<widgets::MainWindow>(o);
    if (show) w->show();
    return w;
}

}  // namespace xopd::test
