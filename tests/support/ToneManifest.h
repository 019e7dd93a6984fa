#pragma once
// A small spoken-prompt manifest for tests whose models are random: tones stand in for speech.
// Header-only.

#include "core/audio/AudioClip.h"
#include "core/audio/AudioFile.h"
#include "tests/support/TestSupport.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QString>

#include <fstream>
#include <string>

namespace xopd::test {

/// Writes `count` one-second tones (220 Hz × (i + 1)) as DIR/audio/qI.wav and a manifest
/// DIR/prompts.jsonl of train rows "qI" with transcript "the thing I" (and reference "in" when
/// `reference` is set); returns the manifest's path.
inline QString writeToneManifest(const QString& dir, int count, bool reference) {
    QDir().mkpath(dir + "/audio");
    const QString manifest = dir + "/prompts.jsonl";
    std::ofstream m(manifest.toStdString());
    for (int i = 0; i < count; ++i) {
        audio::AudioClip clip;
        clip.sample_rate = 16000;
        clip.samples = sineTone(220.0 * (i + 1), 1.0, 16000);
        const std::string wav = "audio/q" + std::to_string(i) + ".wav";
        audio::writeAudioFile((dir + "/" + QString::fromStdString(wav)).toStdString(), clip,
                              audio::AudioFileFormat::WavPcm16);
        nlohmann::json row{{"id", "q" + std::to_string(i)}, {"audio", wav}, {"transcript", "the thing " + std::to_string(i)},
                           {"split", "train"}};
        if (reference) row["reference"] = "in";
        m << row.dump() << "\n";
    }
    return manifest;
}

}  // namespace xopd::test
