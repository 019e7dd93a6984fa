#include "core/audio/AudioFile.h"

#include "core/audio/Resampler.h"
#include "core/common/Error.h"

#include <sndfile.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <memory>

namespace xopd::audio {
namespace {

struct SndfileCloser {
    void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string extensionOf(const std::string& path) {
    const auto slash = path.find_last_of('/');
    const auto dot = path.find_last_of('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
    return lower(path.substr(dot + 1));
}

std::int64_t fileSizeOrThrow(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) XOPD_FAIL("'" << path << "': no such file");
        XOPD_FAIL("'" << path << "': cannot open: " << std::strerror(errno));
    }
    XOPD_CHECK(!S_ISDIR(st.st_mode), "'" << path << "': is a folder, not an audio file");
    XOPD_CHECK(!S_ISFIFO(st.st_mode), "'" << path << "': is a FIFO (named pipe), not an audio file");
    XOPD_CHECK(S_ISREG(st.st_mode), "'" << path << "': is not a regular file (a device or socket), not an audio file");
    XOPD_CHECK(st.st_size > 0, "'" << path << "': file is empty (0 bytes)");
    return static_cast<std::int64_t>(st.st_size);
}

std::uint32_t le32(const unsigned char* p) {
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}
std::uint32_t be32(const unsigned char* p) {
    return std::uint32_t(p[3]) | std::uint32_t(p[2]) << 8 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[0]) << 24;
}
std::uint16_t le16(const unsigned char* p) { return std::uint16_t(p[0] | p[1] << 8); }
std::uint16_t be16(const unsigned char* p) { return std::uint16_t(p[1] | p[0] << 8); }

/// libsndfile silently clamps a WAV/AIFF data chunk that claims more bytes than the file has, so
/// walk the RIFF/AIFF chunks ourselves and refuse such a header (a corrupt or truncated file).
void checkChunkSizes(const std::string& path, std::int64_t file_bytes) {
    std::ifstream in(path, std::ios::binary);
    std::vector<unsigned char> head(1 << 16);
    in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    if (head.size() < 12) return;  // libsndfile reports it
    const bool riff = std::memcmp(head.data(), "RIFF", 4) == 0 && std::memcmp(head.data() + 8, "WAVE", 4) == 0;
    const bool rifx = std::memcmp(head.data(), "RIFX", 4) == 0 && std::memcmp(head.data() + 8, "WAVE", 4) == 0;
    const bool aiff = std::memcmp(head.data(), "FORM", 4) == 0 &&
                      (std::memcmp(head.data() + 8, "AIFF", 4) == 0 || std::memcmp(head.data() + 8, "AIFC", 4) == 0);
    if (!riff && !rifx && !aiff) return;
    const bool big = rifx || aiff;
    const char* data_id = aiff ? "SSND" : "data";
    double bytes_per_second = 0;
    size_t pos = 12;
    while (pos + 8 <= head.size()) {
        const unsigned char* c = head.data() + pos;
        const std::uint32_t size = big ? be32(c + 4) : le32(c + 4);
        if (!aiff && std::memcmp(c, "fmt ", 4) == 0 && pos + 8 + 16 <= head.size()) {
            const unsigned char* f = c + 8;
            const std::uint32_t rate = big ? be32(f + 4) : le32(f + 4);
            const std::uint16_t align = big ? be16(f + 12) : le16(f + 12);
            bytes_per_second = double(rate) * align;
        }
        if (aiff && std::memcmp(c, "COMM", 4) == 0 && pos + 8 + 8 <= head.size()) {
            const unsigned char* f = c + 8;
            const double channels = be16(f), bits = be16(f + 6);
            bytes_per_second = 44100.0 * channels * std::ceil(bits / 8.0);  // rate is an 80-bit float; estimate
        }
        if (std::memcmp(c, data_id, 4) == 0) {
            const std::int64_t available = file_bytes - static_cast<std::int64_t>(pos + 8);
            // 0 and 0xFFFFFFFF mark a stream whose length was never written; libsndfile copes.
            if (size != 0 && size != 0xFFFFFFFFu && static_cast<std::int64_t>(size) > available) {
                std::ostringstream claim;
                if (bytes_per_second > 0) claim << " (" << formatDuration(size / bytes_per_second) << " of audio)";
                XOPD_FAIL("'" << path << "': header claims a " << data_id << " chunk of " << size << " bytes"
                              << claim.str() << " but only " << std::max<std::int64_t>(available, 0)
                              << " bytes follow it: truncated file or corrupt header");
            }
            return;
        }
        pos += 8 + size + (size & 1u);
    }
}

int bytesPerSample(int format) {
    switch (format & SF_FORMAT_SUBMASK) {
        case SF_FORMAT_PCM_S8: case SF_FORMAT_PCM_U8: case SF_FORMAT_ULAW: case SF_FORMAT_ALAW: return 1;
        case SF_FORMAT_PCM_16: return 2;
        case SF_FORMAT_PCM_24: return 3;
        case SF_FORMAT_PCM_32: case SF_FORMAT_FLOAT: return 4;
        case SF_FORMAT_DOUBLE: return 8;
        default: return 0;  // compressed
    }
}

bool isCompressedContainer(int format) {
    const int major = format & SF_FORMAT_TYPEMASK;
    return major == SF_FORMAT_FLAC || major == SF_FORMAT_OGG;
}

std::string formatName(int format, int command_mask, int command) {
    SF_FORMAT_INFO fi{};
    fi.format = format & command_mask;
    if (sf_command(nullptr, command, &fi, sizeof fi) != 0 || !fi.name) return "unknown";
    return fi.name;
}

/// Opens and validates; returns the handle and fills info.
SndfilePtr openChecked(const std::string& path, double max_duration_s, AudioFileInfo& info, SF_INFO& sfinfo) {
    info = AudioFileInfo{};
    info.path = path;
    info.file_bytes = fileSizeOrThrow(path);
    checkChunkSizes(path, info.file_bytes);
    sfinfo = SF_INFO{};
    SndfilePtr f(sf_open(path.c_str(), SFM_READ, &sfinfo));
    if (!f) {
        XOPD_FAIL("'" << path << "': not a readable audio file (" << sf_strerror(nullptr) << ")");
    }
    XOPD_CHECK(sfinfo.samplerate > 0 && sfinfo.samplerate <= 1000000,
               "'" << path << "': implausible sample rate " << sfinfo.samplerate << " Hz in the header");
    XOPD_CHECK(sfinfo.channels > 0 && sfinfo.channels <= 256,
               "'" << path << "': implausible channel count " << sfinfo.channels << " in the header");
    XOPD_CHECK(sfinfo.frames >= 0 && sfinfo.frames != SF_COUNT_MAX,
               "'" << path << "': the header does not say how long the audio is");
    info.sample_rate = sfinfo.samplerate;
    info.channels = sfinfo.channels;
    info.frames = sfinfo.frames;
    info.container = formatName(sfinfo.format, SF_FORMAT_TYPEMASK, SFC_GET_FORMAT_INFO);
    info.encoding = formatName(sfinfo.format, SF_FORMAT_SUBMASK, SFC_GET_FORMAT_INFO);

    if (const int bps = bytesPerSample(sfinfo.format); bps > 0 && !isCompressedContainer(sfinfo.format)) {
        const double claimed = double(sfinfo.frames) * sfinfo.channels * bps;
        XOPD_CHECK(claimed <= double(info.file_bytes),
                   "'" << path << "': header claims " << sfinfo.frames << " frames (" << claimed
                       << " bytes) but the file has only " << info.file_bytes << " bytes");
    }
    XOPD_CHECK(info.durationSeconds() <= max_duration_s,
               "'" << path << "': header claims " << formatDuration(info.durationSeconds()) << " of audio ("
                   << info.frames << " frames), more than the limit of " << formatDuration(max_duration_s));
    return f;
}

}  // namespace

AudioFileFormat formatForPath(const std::string& path) {
    const std::string ext = extensionOf(path);
    if (ext == "wav") return AudioFileFormat::WavPcm16;
    if (ext == "flac") return AudioFileFormat::Flac16;
    XOPD_FAIL("'" << path << "': cannot tell the audio format from the extension (use .wav or .flac)");
}

AudioFileFormat parseAudioFileFormat(const std::string& name) {
    if (name == "wav16") return AudioFileFormat::WavPcm16;
    if (name == "wavf32") return AudioFileFormat::WavFloat32;
    if (name == "flac16") return AudioFileFormat::Flac16;
    if (name == "flac24") return AudioFileFormat::Flac24;
    XOPD_FAIL("unknown audio format '" << name << "' (expected wav16, wavf32, flac16 or flac24)");
}

AudioFileInfo probeAudioFile(const std::string& path, double max_duration_s) {
    AudioFileInfo info;
    SF_INFO sfinfo{};
    openChecked(path, max_duration_s, info, sfinfo);
    return info;
}

AudioClip readAudioFile(const std::string& path, const AudioReadOptions& options, AudioFileInfo* info_out) {
    XOPD_CHECK(options.target_rate >= 0, "'" << path << "': target rate must be >= 0");
    XOPD_CHECK(options.max_read_s >= 0, "'" << path << "': max_read_s must be >= 0");
    AudioFileInfo info;
    SF_INFO sfinfo{};
    SndfilePtr f = openChecked(path, options.max_duration_s, info, sfinfo);
    const int ch = sfinfo.channels;
    // Frames to decode: the whole file, or the window asked for plus 0.1 s so that resampling sees
    // the samples just after the window (the window's last output samples then match a full read).
    sf_count_t want = sfinfo.frames;
    sf_count_t keep_native = sfinfo.frames;
    if (options.max_read_s > 0) {
        keep_native = std::min<sf_count_t>(sfinfo.frames, sf_count_t(std::ceil(options.max_read_s * sfinfo.samplerate)));
        want = std::min<sf_count_t>(sfinfo.frames, keep_native + sfinfo.samplerate / 10);
    }
    const double values = double(want) * ch;
    XOPD_CHECK(values <= double(options.max_sample_values),
               "'" << path << "': " << formatDuration(double(want) / sfinfo.samplerate) << " at " << sfinfo.samplerate
                   << " Hz x " << ch << " channels is " << static_cast<std::int64_t>(values)
                   << " sample values to decode, more than the limit of " << options.max_sample_values
                   << " (rate x channels x duration); convert it to fewer channels or a lower rate first");
    AudioClip clip;
    clip.sample_rate = sfinfo.samplerate;
    clip.samples.reserve(static_cast<size_t>(want));  // bounded by the checks above
    constexpr sf_count_t kBlock = 65536;
    std::vector<float> buf(static_cast<size_t>(kBlock * ch));
    while (sf_count_t(clip.samples.size()) < want) {
        const sf_count_t got = sf_readf_float(f.get(), buf.data(), std::min(kBlock, want - sf_count_t(clip.samples.size())));
        if (got <= 0) break;
        for (sf_count_t i = 0; i < got; ++i) {
            float sum = 0.0f;
            for (int c = 0; c < ch; ++c) sum += buf[static_cast<size_t>(i * ch + c)];
            clip.samples.push_back(ch == 1 ? sum : sum / static_cast<float>(ch));
        }
    }
    const int err = sf_error(f.get());
    XOPD_CHECK(err == SF_ERR_NO_ERROR, "'" << path << "': decoding failed after " << clip.samples.size()
                                           << " frames: " << sf_error_number(err));
    XOPD_CHECK(static_cast<sf_count_t>(clip.samples.size()) >= want,
               "'" << path << "': truncated: the header claims " << sfinfo.frames << " frames but only "
                   << clip.samples.size() << " could be decoded");
    clip.samples.resize(static_cast<size_t>(want));
    float peak = 0.0f;
    for (float v : clip.samples) {
        XOPD_CHECK(std::isfinite(v), "'" << path << "': contains NaN or infinite samples");
        peak = std::max(peak, std::abs(v));
    }
    XOPD_CHECK(peak <= kMaxSampleMagnitude,
               "'" << path << "': samples reach " << peak << " (" << std::showpos << std::fixed << std::setprecision(0)
                   << 20.0 * std::log10(double(peak)) << " dBFS); audio lies within +-1 (0 dBFS) and values above "
                   << kMaxSampleMagnitude << " (+60 dBFS) are corrupt data, not sound");
    if (info_out) *info_out = info;
    if (options.target_rate > 0 && options.target_rate != clip.sample_rate)
        clip = resampled(clip, options.target_rate);
    if (keep_native < want) {  // drop the resampling margin
        const auto keep = static_cast<size_t>(std::llround(double(keep_native) * clip.sample_rate / sfinfo.samplerate));
        clip.samples.resize(std::min(keep, clip.samples.size()));
    }
    return clip;
}

void writeAudioFile(const std::string& path, const AudioClip& clip, AudioFileFormat format) {
    XOPD_CHECK(clip.sample_rate > 0, "'" << path << "': cannot write a clip without a sample rate");
    for (float v : clip.samples)
        XOPD_CHECK(std::isfinite(v), "'" << path << "': cannot write NaN or infinite samples");
    SF_INFO sfinfo{};
    sfinfo.samplerate = clip.sample_rate;
    sfinfo.channels = 1;
    switch (format) {
        case AudioFileFormat::WavPcm16: sfinfo.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16; break;
        case AudioFileFormat::WavFloat32: sfinfo.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT; break;
        case AudioFileFormat::Flac16: sfinfo.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16; break;
        case AudioFileFormat::Flac24: sfinfo.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_24; break;
        default: XOPD_FAIL("'" << path << "': no audio format chosen");
    }
    XOPD_CHECK(sf_format_check(&sfinfo), "'" << path << "': libsndfile cannot write this format at "
                                             << clip.sample_rate << " Hz");
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    {
        SndfilePtr f(sf_open(tmp.c_str(), SFM_WRITE, &sfinfo));
        XOPD_CHECK(f, "'" << path << "': cannot create (" << sf_strerror(nullptr) << ")");
        sf_command(f.get(), SFC_SET_CLIPPING, nullptr, SF_TRUE);
        const auto n = static_cast<sf_count_t>(clip.samples.size());
        const sf_count_t wrote = n ? sf_writef_float(f.get(), clip.samples.data(), n) : 0;
        if (wrote != n) {
            const std::string why = sf_strerror(f.get());
            f.reset();
            std::remove(tmp.c_str());
            XOPD_FAIL("'" << path << "': write failed (" << why << ")");
        }
    }  // sf_close writes the final header
    const int fd = ::open(tmp.c_str(), O_RDONLY);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(tmp.c_str());
        XOPD_FAIL("'" << path << "': cannot finish writing (" << why << ")");
    }
}

}  // namespace xopd::audio
