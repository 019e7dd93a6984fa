#pragma once
// Audio file reading and writing through libsndfile: every format libsndfile reads (WAV 8/16/24/32
// bit integer and float, FLAC, OGG Vorbis, AIFF, ...), downmixed to mono and optionally resampled
// with soxr. Writing is atomic (temporary file + rename): a failure never leaves a partial file.
// Torch-free: the GUI uses it.
//
//   auto info = xopd::audio::probeAudioFile("a.flac");          // header facts only
//   auto clip = xopd::audio::readAudioFile("a.flac", {.target_rate = 16000});
//   xopd::audio::writeAudioFile("b.wav", clip, AudioFileFormat::WavPcm16);
//
// Bad input (missing, empty, truncated, not audio, a header claiming more audio than the file
// holds or longer than max_duration_s) throws xopd::Error naming the file and the problem.
// Threading: every call is independent and may run on any thread.

#include "core/audio/AudioClip.h"

#include <cstdint>
#include <string>

namespace xopd::audio {

/// Facts from a file's header.
struct AudioFileInfo {
    /// The path as given.
    std::string path;
    /// Native sample rate in Hz.
    int sample_rate = 0;
    /// Channels in the file (the reader downmixes them to mono).
    int channels = 0;
    /// Frames (samples per channel) according to the header.
    std::int64_t frames = 0;
    /// Container, e.g. "WAV (Microsoft)", "FLAC (Free Lossless Audio Codec)".
    std::string container;
    /// Sample encoding, e.g. "Signed 16 bit PCM", "32 bit float", "Vorbis".
    std::string encoding;
    /// File size in bytes.
    std::int64_t file_bytes = 0;

    /// frames / sample_rate.
    double durationSeconds() const { return sample_rate > 0 ? double(frames) / sample_rate : 0.0; }
};

/// How to read a file.
struct AudioReadOptions {
    /// Resample to this rate in Hz; 0 keeps the native rate.
    int target_rate = 0;
    /// Refuse files whose header claims a longer duration (seconds). Default 4 hours.
    double max_duration_s = 4.0 * 3600.0;
    /// Read only the first this many seconds (0 = the whole file); the rest is never decoded. Callers
    /// that use a fixed window (Whisper features: 30 s) set it so a long file costs only the window.
    double max_read_s = 0.0;
    /// Refuse to decode more than this many sample values (frames read x channels): bounds
    /// rate x channels x duration. Default 2^30 (4 h of 48 kHz mono; 43 min of 192 kHz x 8 channels
    /// is over it).
    std::int64_t max_sample_values = std::int64_t(1) << 30;
};

/// Largest magnitude a decoded sample may have: 1000 (+60 dBFS). Float files may exceed full scale
/// (1.0) a little; anything this large is corrupt data (its square overflows float power spectra).
constexpr float kMaxSampleMagnitude = 1000.0f;

/// Formats the writer produces.
enum class AudioFileFormat {
    Invalid = 0,
    WavPcm16,    ///< WAV, signed 16-bit PCM (clipped to [-1, 1))
    WavFloat32,  ///< WAV, 32-bit IEEE float
    Flac16,      ///< FLAC, 16 bit
    Flac24,      ///< FLAC, 24 bit
};

/// The default format for a file name: ".wav" -> WavPcm16, ".flac" -> Flac16. Throws xopd::Error
/// for any other extension.
AudioFileFormat formatForPath(const std::string& path);

/// Parses "wav16", "wavf32", "flac16", "flac24". Throws xopd::Error otherwise.
AudioFileFormat parseAudioFileFormat(const std::string& name);

/// Reads the header of `path` and validates it (see the file comment). Throws xopd::Error.
AudioFileInfo probeAudioFile(const std::string& path, double max_duration_s = 4.0 * 3600.0);

/// Reads the file (or its first options.max_read_s seconds) as mono (mean of the channels), resampled
/// per options. When info is not null it receives the header facts of the whole file. Throws
/// xopd::Error on bad input, including a file that decodes to fewer frames than its header claims
/// (truncated), more sample values than options.max_sample_values, and samples that are NaN,
/// infinite or larger than kMaxSampleMagnitude.
AudioClip readAudioFile(const std::string& path, const AudioReadOptions& options = {},
                        AudioFileInfo* info = nullptr);

/// Writes the clip atomically (path.tmp-<pid> in the same folder, then rename). Throws
/// xopd::Error naming the file when the folder is missing, the clip is invalid, or the write fails.
void writeAudioFile(const std::string& path, const AudioClip& clip, AudioFileFormat format);

}  // namespace xopd::audio
