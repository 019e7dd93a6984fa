// CLI commands of the audio group (see Commands.h):
//   xopd audio info FILE | audio devices | audio convert IN OUT
//   xopd features --audio FILE --out OUT.npy [--mel-bins 128|80]
//   xopd tts --text TEXT --out FILE.wav [--voice V] [--rate WPM] [--pitch P] | tts --list-voices
//   xopd record --seconds S --out FILE.wav [--device NAME] [--rate 16000]
//   xopd play FILE [--device NAME]
#include "app/cli/Commands.h"
#include "core/audio/AudioDevices.h"
#include "core/audio/AudioFile.h"
#include "core/audio/Loudness.h"
#include "core/audio/Npy.h"
#include "core/audio/Resampler.h"
#include "core/audio/Tts.h"
#include "core/audio/WhisperFeatures.h"
#include "core/common/Error.h"

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace xopd::cli {
namespace {

using namespace xopd::audio;

std::string dbText(double db, const char* unit) {
    if (!std::isfinite(db)) return std::string("-inf ") + unit;
    std::ostringstream os;
    os << std::fixed << std::setprecision(2) << db << ' ' << unit;
    return os.str();
}

void addInfo(CLI::App& group, Action& run) {
    auto* cmd = group.add_subcommand("info", "Rate, channels, frames, duration, format, loudness and peaks of a file");
    auto path = std::make_shared<std::string>();
    cmd->add_option("FILE", *path, "Audio file (any format libsndfile reads)")->required();
    cmd->callback([&run, path] {
        run = [path] {
            AudioFileInfo info;
            const AudioClip clip = readAudioFile(*path, {}, &info);
            const LoudnessReport loud = measureLoudness(clip);
            std::cout << "file: " << info.path << "\n"
                      << "format: " << info.container << ", " << info.encoding << "\n"
                      << "sample rate: " << info.sample_rate << " Hz\n"
                      << "channels: " << info.channels << "\n"
                      << "frames: " << info.frames << "\n"
                      << "duration: " << std::fixed << std::setprecision(3) << info.durationSeconds() << " s ("
                      << formatDuration(info.durationSeconds()) << ")\n"
                      << "loudness: " << dbText(loud.integrated_lufs, "LUFS") << " (EBU R128, mono mix)\n"
                      << "sample peak: " << dbText(loud.samplePeakDbfs(), "dBFS") << "\n"
                      << "true peak: " << dbText(loud.truePeakDbtp(), "dBTP") << "\n";
            return 0;
        };
    });
}

void addDevices(CLI::App& group, Action& run) {
    auto* cmd = group.add_subcommand("devices", "List PortAudio input and output devices");
    cmd->callback([&run] {
        run = [] {
            const auto devices = listAudioDevices();
            if (devices.empty()) std::cout << "audio devices: none\n";
            for (const auto& d : devices) {
                std::cout << d.index << ": " << d.name << " [" << d.host_api << "] in " << d.max_input_channels
                          << " out " << d.max_output_channels << " @ " << d.default_sample_rate << " Hz"
                          << (d.is_default_input ? " (default input)" : "")
                          << (d.is_default_output ? " (default output)" : "") << "\n";
            }
            return 0;
        };
    });
}

struct ConvertArgs {
    std::string in, out, format;
    int rate = 0;
    double normalize_lufs = 0, gain_db = 0;
    bool normalize = false;
};

void addConvert(CLI::App& group, Action& run) {
    auto* cmd = group.add_subcommand("convert", "Read any format, write mono WAV/FLAC, optionally resampled and "
                                                "loudness-normalised");
    auto a = std::make_shared<ConvertArgs>();
    cmd->add_option("IN", a->in, "Input audio file")->required();
    cmd->add_option("OUT", a->out, "Output .wav or .flac")->required();
    cmd->add_option("--rate", a->rate, "Output sample rate in Hz (default: the input's)");
    cmd->add_option("--format", a->format, "wav16, wavf32, flac16 or flac24 (default: from the extension)");
    auto* norm = cmd->add_option("--normalize", a->normalize_lufs, "Target integrated loudness in LUFS, e.g. -23");
    cmd->add_option("--gain", a->gain_db, "Gain in dB applied after any normalisation");
    cmd->callback([&run, a, norm] {
        a->normalize = norm->count() > 0;
        run = [a] {
            AudioClip clip = readAudioFile(a->in, {a->rate});
            if (a->normalize) {
                const double g = normalizeLoudness(clip, a->normalize_lufs);
                std::cout << "gain: " << dbText(g, "dB") << "\n";
            }
            if (a->gain_db != 0) applyGainDb(clip, a->gain_db);
            writeAudioFile(a->out, clip, a->format.empty() ? formatForPath(a->out) : parseAudioFileFormat(a->format));
            std::cout << "wrote " << a->out << " (" << clip.frames() << " frames at " << clip.sample_rate << " Hz)\n";
            return 0;
        };
    });
}

struct FeaturesArgs {
    std::string audio, out, precision = "float64";
    int mel_bins = 128;
};

void addFeatures(CLI::App& app, Action& run) {
    auto* cmd = app.add_subcommand("features", "Whisper log-mel features (HF WhisperFeatureExtractor) as a "
                                               "float32 .npy of shape (bins, 3000)");
    auto a = std::make_shared<FeaturesArgs>();
    cmd->add_option("--audio", a->audio, "Audio file (resampled to 16 kHz)")->required();
    cmd->add_option("--out", a->out, "Output .npy")->required();
    cmd->add_option("--mel-bins", a->mel_bins, "128 (Whisper large-v3, Qwen2-Audio) or 80")
        ->check(CLI::IsMember({80, 128}));
    cmd->add_option("--precision", a->precision, "float64 (default) or float32 arithmetic")
        ->check(CLI::IsMember({"float64", "float32"}));
    cmd->callback([&run, a] {
        run = [a] {
            AudioReadOptions ro;
            ro.target_rate = kWhisperSampleRate;
            ro.max_read_s = double(kWhisperSamples) / kWhisperSampleRate;  // the window: never decode more
            AudioFileInfo info;
            const AudioClip clip = readAudioFile(a->audio, ro, &info);
            WhisperFeatureOptions opt;
            opt.mel_bins = a->mel_bins;
            opt.precision = a->precision == "float32" ? FeaturePrecision::Float32 : FeaturePrecision::Float64;
            const WhisperFeatures f = computeWhisperFeatures(clip.samples, opt);
            writeNpyFloat32(a->out, f.values, {f.mel_bins, f.frames});
            std::cout << "features: " << a->out << " (" << f.mel_bins << ", " << f.frames << ") float32\n"
                      << "valid frames: " << f.valid_frames << "\n"
                      << "audio tokens: " << audioTokenCount(f.valid_frames) << "\n";
            if (info.durationSeconds() > 30.0)
                std::cout << "note: the audio is " << std::fixed << std::setprecision(2) << info.durationSeconds()
                          << " s; only the first 30 s are used\n";
            return 0;
        };
    });
}

struct TtsArgs {
    std::string text, out, voice = "en";
    int rate = 175, pitch = 50, sample_rate = 16000;
    bool list = false;
};

void addTts(CLI::App& app, Action& run) {
    auto* cmd = app.add_subcommand("tts", "Speak text with espeak-ng into a WAV/FLAC file");
    auto a = std::make_shared<TtsArgs>();
    cmd->add_option("--text", a->text, "Text to speak (UTF-8)");
    cmd->add_option("--out", a->out, "Output .wav or .flac");
    cmd->add_option("--voice", a->voice, "espeak-ng voice or language (default en)");
    cmd->add_option("--rate", a->rate, "Words per minute, 80..450 (default 175)");
    cmd->add_option("--pitch", a->pitch, "Pitch 0..100 (default 50)");
    cmd->add_option("--sample-rate", a->sample_rate, "Output sample rate in Hz (default 16000)");
    cmd->add_flag("--list-voices", a->list, "List the installed voices and exit");
    cmd->callback([&run, a] {
        run = [a] {
            if (a->list) {
                for (const auto& v : listVoices()) std::cout << v.language << "\t" << v.name << "\t" << v.identifier << "\n";
                return 0;
            }
            XOPD_CHECK(!a->text.empty() && !a->out.empty(), "tts: --text and --out are required");
            TtsOptions opt;
            opt.voice = a->voice;
            opt.rate_wpm = a->rate;
            opt.pitch = a->pitch;
            opt.sample_rate = a->sample_rate;
            const AudioFileFormat format = formatForPath(a->out);
            const AudioClip clip = synthesizeSpeech(a->text, opt);
            writeAudioFile(a->out, clip, format);
            std::cout << "wrote " << a->out << " (" << std::fixed << std::setprecision(2) << clip.durationSeconds()
                      << " s at " << clip.sample_rate << " Hz)\n";
            return 0;
        };
    });
}

struct RecordArgs {
    std::string out, device;
    double seconds = 0;
    int rate = 16000;
};

void addRecord(CLI::App& app, Action& run) {
    auto* cmd = app.add_subcommand("record", "Record from an input device into a WAV/FLAC file, with a peak meter");
    auto a = std::make_shared<RecordArgs>();
    cmd->add_option("--seconds", a->seconds, "Duration in seconds")->required();
    cmd->add_option("--out", a->out, "Output .wav or .flac")->required();
    cmd->add_option("--device", a->device, "Input device name or part of it (default: the default device)");
    cmd->add_option("--rate", a->rate, "Sample rate in Hz (default 16000)");
    cmd->callback([&run, a] {
        run = [a] {
            const AudioFileFormat format = formatForPath(a->out);
            RecordOptions opt;
            opt.device = a->device;
            opt.sample_rate = a->rate;
            const AudioClip clip = recordClip(opt, a->seconds, [a](float peak, double s) {
                const int bars = peak > 0 ? std::clamp(static_cast<int>((60.0 + 20.0 * std::log10(peak)) / 2.0), 0, 30) : 0;
                std::fprintf(stderr, "\rrecording %6.2f / %.2f s  [%-30s] %s   ", s, a->seconds,
                             std::string(static_cast<size_t>(bars), '#').c_str(), dbText(20.0 * std::log10(peak), "dBFS").c_str());
                std::fflush(stderr);
            });
            std::fprintf(stderr, "\n");
            writeAudioFile(a->out, clip, format);
            const LoudnessReport loud = measureLoudness(clip);
            std::cout << "wrote " << a->out << " (" << std::fixed << std::setprecision(2) << clip.durationSeconds()
                      << " s at " << clip.sample_rate << " Hz, peak " << dbText(loud.samplePeakDbfs(), "dBFS") << ")\n";
            return 0;
        };
    });
}

struct PlayArgs {
    std::string file, device;
};

void addPlay(CLI::App& app, Action& run) {
    auto* cmd = app.add_subcommand("play", "Play an audio file on an output device");
    auto a = std::make_shared<PlayArgs>();
    cmd->add_option("FILE", a->file, "Audio file")->required();
    cmd->add_option("--device", a->device, "Output device name or part of it (default: the default device)");
    cmd->callback([&run, a] {
        run = [a] {
            const AudioClip clip = readAudioFile(a->file);
            PlayOptions opt;
            opt.device = a->device;
            playClip(clip, opt, [&clip](double s) {
                std::fprintf(stderr, "\rplaying %6.2f / %.2f s", s, clip.durationSeconds());
                std::fflush(stderr);
            });
            std::fprintf(stderr, "\n");
            std::cout << "played " << a->file << " (" << std::fixed << std::setprecision(2) << clip.durationSeconds()
                      << " s)\n";
            return 0;
        };
    });
}

}  // namespace

void addAudioCommands(CLI::App& app, Action& run) {
    auto* group = app.add_subcommand("audio", "Audio files and devices: info, devices, convert");
    group->require_subcommand(1);
    addInfo(*group, run);
    addDevices(*group, run);
    addConvert(*group, run);
    addFeatures(app, run);
    addTts(app, run);
    addRecord(app, run);
    addPlay(app, run);
}

}  // namespace xopd::cli
