#include "core/data/AcousticCondition.h"

#include "core/audio/AudioFile.h"
#include "core/audio/NoiseMix.h"
#include "core/common/Error.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace xopd::data {

namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i)
        if (i == s.size() || s[i] == sep) {
            out.push_back(trim(s.substr(start, i - start)));
            start = i + 1;
        }
    return out;
}

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

/// Parses `text` (an optional `unit` suffix allowed) as a number in [lo, hi].
double parseNumber(const std::string& spec, const std::string& key, std::string text, double lo, double hi,
                   const std::string& unit = {}) {
    if (!unit.empty() && text.size() > unit.size() && lower(text.substr(text.size() - unit.size())) == lower(unit))
        text = text.substr(0, text.size() - unit.size());
    char* end = nullptr;
    const double v = text.empty() ? NAN : std::strtod(text.c_str(), &end);
    XOPD_CHECK(!text.empty() && end && *end == '\0' && std::isfinite(v),
               "condition '" << spec << "': " << key << ": '" << text << "' is not a number");
    XOPD_CHECK(v >= lo && v <= hi, "condition '" << spec << "': " << key << "=" << num(v) << " is out of range ("
                                                  << num(lo) << " .. " << num(hi) << ")");
    return v;
}

AcousticStep parseStep(const std::string& spec, const std::string& text) {
    const auto parts = split(text, ',');
    XOPD_CHECK(!parts.empty() && !parts[0].empty(), "condition '" << spec << "': an empty step");
    const auto eq = parts[0].find('=');
    const std::string key = lower(trim(parts[0].substr(0, eq)));
    const bool has_value = eq != std::string::npos;
    const std::string value = has_value ? trim(parts[0].substr(eq + 1)) : std::string();
    AcousticStep step;
    auto noExtras = [&] {
        XOPD_CHECK(parts.size() == 1, "condition '" << spec << "': " << key << " takes no parameter '" << parts[1] << "'");
    };
    auto needValue = [&] { XOPD_CHECK(has_value, "condition '" << spec << "': " << key << " needs a value (" << key << "=...)"); };
    if (key == "clean" || key == "telephone") {
        XOPD_CHECK(!has_value, "condition '" << spec << "': " << key << " takes no value");
        noExtras();
        step.kind = key == "clean" ? AcousticStep::Kind::Clean : AcousticStep::Kind::Telephone;
    } else if (key == "speed" || key == "tempo") {
        needValue();
        noExtras();
        step.kind = key == "speed" ? AcousticStep::Kind::Speed : AcousticStep::Kind::Tempo;
        step.value = parseNumber(spec, key, value, 0.25, 4.0);
    } else if (key == "reverb") {
        noExtras();
        step.kind = AcousticStep::Kind::Reverb;
        step.value = has_value ? parseNumber(spec, key, value, 0, 100, "%") : 50.0;
    } else if (key == "snr") {
        needValue();
        step.kind = AcousticStep::Kind::Noise;
        step.value = parseNumber(spec, key, value, -20, 60, "dB");
        for (size_t i = 1; i < parts.size(); ++i) {
            const auto peq = parts[i].find('=');
            const std::string pkey = lower(trim(parts[i].substr(0, peq)));
            XOPD_CHECK(pkey == "noise" && peq != std::string::npos,
                       "condition '" << spec << "': snr: unknown parameter '" << parts[i] << "' (known: noise=white|pink|FILE)");
            const std::string pval = trim(parts[i].substr(peq + 1));
            XOPD_CHECK(!pval.empty(), "condition '" << spec << "': noise: needs white, pink or a file");
            if (lower(pval) == "white") step.color = audio::NoiseColor::White;
            else if (lower(pval) == "pink") step.color = audio::NoiseColor::Pink;
            else step.noise_file = pval;
        }
    } else {
        XOPD_FAIL("condition '" << spec << "': unknown effect '" << key
                                << "' (known: snr, speed, tempo, reverb, telephone, clean)");
    }
    return step;
}

std::string stepName(const AcousticStep& s) {
    switch (s.kind) {
        case AcousticStep::Kind::Clean: return "clean";
        case AcousticStep::Kind::Telephone: return "telephone";
        case AcousticStep::Kind::Speed: return "speed=" + num(s.value);
        case AcousticStep::Kind::Tempo: return "tempo=" + num(s.value);
        case AcousticStep::Kind::Reverb: return "reverb=" + num(s.value);
        case AcousticStep::Kind::Noise:
            return "snr=" + num(s.value) + "dB,noise=" +
                   (!s.noise_file.empty() ? "file:" + std::filesystem::path(s.noise_file).filename().string()
                    : s.color == audio::NoiseColor::Pink ? std::string("pink")
                                                         : std::string("white"));
        case AcousticStep::Kind::Invalid: break;
    }
    return "invalid";
}

/// `frames` of the noise file at `rate`, looped, starting at a seeded offset.
audio::AudioClip noiseFromFile(const std::string& path, std::int64_t frames, int rate, std::uint32_t seed) {
    audio::AudioReadOptions options;
    options.target_rate = rate;
    audio::AudioClip file = audio::readAudioFile(path, options);
    XOPD_CHECK(!file.empty(), "'" << path << "': the noise file holds no audio");
    audio::AudioClip out;
    out.sample_rate = rate;
    out.samples.resize(size_t(frames));
    const size_t offset = seed % file.frames();
    for (size_t i = 0; i < out.samples.size(); ++i) out.samples[i] = file.samples[(offset + i) % file.frames()];
    return out;
}

}  // namespace

std::string AcousticCondition::name() const {
    std::string s;
    for (const auto& step : steps) s += (s.empty() ? "" : "+") + stepName(step);
    return s;
}

std::string AcousticCondition::tag() const {
    std::string s = name();
    for (char& c : s)
        if (c == ',') c = ';';
    return s;
}

std::string AcousticCondition::idSuffix() const {
    std::string s = name();
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.') c = '-';
    return s;
}

AcousticCondition parseAcousticCondition(const std::string& spec) {
    XOPD_CHECK(!trim(spec).empty(), "condition '" << spec << "': empty (e.g. snr=10, speed=1.1, telephone)");
    AcousticCondition c;
    c.spec = spec;
    for (const auto& step : split(spec, '+')) c.steps.push_back(parseStep(spec, step));
    return c;
}

audio::AudioClip applyAcousticCondition(const audio::AudioClip& clip, const AcousticCondition& condition,
                                        std::uint32_t seed) {
    audio::AudioClip out = clip;
    std::uint32_t step_seed = seed;
    for (const auto& s : condition.steps) {
        step_seed = deriveSeed(step_seed, {stepName(s)});
        switch (s.kind) {
            case AcousticStep::Kind::Clean: break;
            case AcousticStep::Kind::Speed: out = audio::changeSpeed(out, s.value); break;
            case AcousticStep::Kind::Tempo: out = audio::changeTempo(out, s.value); break;
            case AcousticStep::Kind::Reverb: out = audio::addReverb(out, s.value); break;
            case AcousticStep::Kind::Telephone: out = audio::telephoneBand(out); break;
            case AcousticStep::Kind::Noise: {
                const audio::AudioClip noise =
                    s.noise_file.empty()
                        ? audio::makeNoise(s.color, std::int64_t(out.frames()), out.sample_rate, step_seed)
                        : noiseFromFile(s.noise_file, std::int64_t(out.frames()), out.sample_rate, step_seed);
                out = audio::mixAtSnr(out, noise, s.value).mixed;
                break;
            }
            case AcousticStep::Kind::Invalid: XOPD_FAIL("condition '" << condition.spec << "': invalid step");
        }
    }
    return out;
}

std::uint32_t deriveSeed(std::uint32_t seed, const std::vector<std::string>& parts) {
    std::uint32_t h = 2166136261u;
    auto mix = [&h](unsigned char c) {
        h ^= c;
        h *= 16777619u;
    };
    for (int i = 0; i < 4; ++i) mix(static_cast<unsigned char>(seed >> (8 * i)));
    for (const auto& p : parts) {
        for (char c : p) mix(static_cast<unsigned char>(c));
        mix(0);
    }
    return h;
}

}  // namespace xopd::data
