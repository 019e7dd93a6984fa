#include "core/data/PromptSynthesis.h"

#include "core/audio/AudioFile.h"
#include "core/audio/Tts.h"
#include "core/common/Error.h"
#include "core/data/PromptSet.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

namespace xopd::data {

namespace fs = std::filesystem;

std::string VoiceSpec::tag() const {
    std::string v = voice;
    std::replace(v.begin(), v.end(), '+', '_');
    return v + "-r" + std::to_string(rate_wpm) + "-p" + std::to_string(pitch);
}

VoiceSpec parseVoiceSpec(const std::string& text, int default_rate, int default_pitch) {
    VoiceSpec spec;
    spec.rate_wpm = default_rate;
    spec.pitch = default_pitch;
    std::string rest = text;
    auto number = [&text](const std::string& s, const char* what) {
        XOPD_CHECK(!s.empty() && s.find_first_not_of("0123456789") == std::string::npos,
                   "voice '" << text << "': " << what << " '" << s << "' is not a whole number");
        return std::stoi(s);
    };
    if (const auto colon = rest.find(':'); colon != std::string::npos) {
        spec.pitch = number(rest.substr(colon + 1), "pitch");
        rest = rest.substr(0, colon);
    }
    if (const auto at = rest.find('@'); at != std::string::npos) {
        spec.rate_wpm = number(rest.substr(at + 1), "rate");
        rest = rest.substr(0, at);
    }
    XOPD_CHECK(!rest.empty(), "voice '" << text << "': no voice name");
    XOPD_CHECK(rest.find_first_of("/\\ ") == std::string::npos, "voice '" << text << "': bad voice name");
    spec.voice = rest;
    return spec;
}

std::vector<TextPrompt> readTextPrompts(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    XOPD_CHECK(in, "'" << path << "': cannot open text prompts");
    std::vector<TextPrompt> out;
    std::set<std::string> ids;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = "'" + path + "' line " + std::to_string(line_no);
        nlohmann::json obj;
        try {
            obj = nlohmann::json::parse(line);
        } catch (const nlohmann::json::parse_error& e) {
            XOPD_FAIL(where << ": not valid JSON (" << e.what() << ")");
        }
        XOPD_CHECK(obj.is_object(), where << ": must be a JSON object");
        TextPrompt p;
        for (const char* field : {"id", "text"}) {
            XOPD_CHECK(obj.contains(field), where << ": " << field << ": missing (required)");
            XOPD_CHECK(obj[field].is_string() && !obj[field].get<std::string>().empty(),
                       where << ": " << field << ": must be a non-empty string");
        }
        p.id = obj["id"].get<std::string>();
        p.text = obj["text"].get<std::string>();
        XOPD_CHECK(p.id.find_first_of("/\\ ") == std::string::npos, where << ": id: must not contain '/', '\\' or spaces");
        XOPD_CHECK(ids.insert(p.id).second, where << ": id: '" << p.id << "' is used twice");
        if (obj.contains("reference") && !obj["reference"].is_null()) {
            XOPD_CHECK(obj["reference"].is_string(), where << ": reference: must be a string");
            p.reference = obj["reference"].get<std::string>();
        }
        if (obj.contains("tags")) {
            XOPD_CHECK(obj["tags"].is_array(), where << ": tags: must be an array of strings");
            for (const auto& t : obj["tags"]) {
                XOPD_CHECK(t.is_string(), where << ": tags: must be an array of strings");
                p.tags.push_back(t.get<std::string>());
            }
        }
        out.push_back(std::move(p));
    }
    XOPD_CHECK(!out.empty(), "'" << path << "': no text prompts");
    return out;
}

namespace {

audio::AudioClip trimSilence(audio::AudioClip clip, float threshold, int keep_ms) {
    const auto& s = clip.samples;
    size_t first = 0, last = s.size();
    while (first < s.size() && std::fabs(s[first]) < threshold) ++first;
    while (last > first && std::fabs(s[last - 1]) < threshold) --last;
    if (first >= last) return clip;  // all silence: keep as is
    const size_t keep = static_cast<size_t>(clip.sample_rate) * keep_ms / 1000;
    first = first > keep ? first - keep : 0;
    last = std::min(s.size(), last + keep);
    clip.samples = std::vector<float>(s.begin() + static_cast<long>(first), s.begin() + static_cast<long>(last));
    return clip;
}

}  // namespace

int synthesizePromptSet(const std::vector<TextPrompt>& texts, const std::string& out_dir,
                        const SynthesisOptions& options) {
    XOPD_CHECK(!texts.empty(), "prompt synthesis: no texts");
    XOPD_CHECK(!options.train_voices.empty() || !options.eval_voices.empty(), "prompt synthesis: no voices");
    const fs::path root(out_dir);
    fs::create_directories(root / "audio");
    const std::set<std::string> eval_only(options.eval_only_ids.begin(), options.eval_only_ids.end());
    std::vector<PromptItem> train, eval;
    const int total = static_cast<int>(texts.size() * (options.train_voices.size() + options.eval_voices.size()));
    int done = 0;
    auto speak = [&](const TextPrompt& t, const VoiceSpec& v, const std::string& split, std::vector<PromptItem>& dest) {
        audio::TtsOptions tts;
        tts.voice = v.voice;
        tts.rate_wpm = v.rate_wpm;
        tts.pitch = v.pitch;
        tts.sample_rate = 16000;
        const auto clip = trimSilence(audio::synthesizeSpeech(t.text, tts), options.silence_threshold,
                                      options.keep_silence_ms);
        PromptItem item;
        item.id = t.id + "-" + v.tag();
        item.audio = "audio/" + item.id + ".flac";
        audio::writeAudioFile((root / item.audio).string(), clip, audio::AudioFileFormat::Flac16);
        item.transcript = t.text;
        item.reference = t.reference;
        item.split = split;
        item.tags = t.tags;
        item.voice = v.voice;
        dest.push_back(std::move(item));
        if (options.progress) options.progress(++done, total);
    };
    for (const auto& t : texts) {
        if (!eval_only.count(t.id))
            for (const auto& v : options.train_voices) speak(t, v, "train", train);
        for (const auto& v : options.eval_voices) speak(t, v, "eval", eval);
    }
    if (!train.empty()) writePromptSet((root / "train.jsonl").string(), train);
    if (!eval.empty()) writePromptSet((root / "eval.jsonl").string(), eval);
    return static_cast<int>(train.size() + eval.size());
}

}  // namespace xopd::data
