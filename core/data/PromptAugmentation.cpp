#include "core/data/PromptAugmentation.h"

#include "core/audio/AudioFile.h"
#include "core/common/Error.h"

#include <filesystem>
#include <algorithm>
#include <set>

#include <unistd.h>

namespace xopd::data {

namespace fs = std::filesystem;

namespace {

/// Removes the temporary folder unless released (the rename succeeded).
struct TempFolder {
    fs::path path;
    bool keep = false;
    ~TempFolder() {
        if (keep) return;
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void checkOutputFolder(const fs::path& out) {
    std::error_code ec;
    const auto status = fs::status(out, ec);
    if (status.type() == fs::file_type::not_found) return;
    XOPD_CHECK(fs::is_directory(status), "'" << out.string() << "': exists and is not a folder");
    XOPD_CHECK(fs::is_empty(out, ec) && !ec,
               "'" << out.string() << "': the output folder already exists and is not empty (choose a new one)");
}

}  // namespace

AugmentReport augmentPrompts(const std::vector<PromptItem>& items, const std::string& out_dir,
                             const AugmentOptions& options) {
    XOPD_CHECK(!options.conditions.empty(), "augment: no condition given (e.g. --condition snr=10)");
    XOPD_CHECK(!items.empty(), "augment: no prompt to augment");
    XOPD_CHECK(!out_dir.empty(), "augment: no output folder given");
    fs::path out = fs::absolute(fs::path(out_dir)).lexically_normal();
    if (out.filename().empty()) out = out.parent_path();  // "DIR/"
    checkOutputFolder(out);
    std::set<std::string> names;
    for (const auto& c : options.conditions)
        XOPD_CHECK(names.insert(c.name()).second, "augment: condition '" << c.name() << "' is given twice");
    XOPD_CHECK(fs::is_directory(out.parent_path()), "'" << out.parent_path().string() << "': the folder does not exist");

    TempFolder tmp{out.parent_path() / (out.filename().string() + ".tmp-" + std::to_string(::getpid()))};
    std::error_code ec;
    fs::remove_all(tmp.path, ec);
    fs::create_directories(tmp.path / "audio", ec);
    XOPD_CHECK(!ec, "'" << tmp.path.string() << "': cannot create the folder (" << ec.message() << ")");

    std::vector<PromptItem> rows;
    const int total = int(items.size() * options.conditions.size());
    for (const auto& item : items) {
        const std::string audio_path = item.audio_path.empty() ? item.audio : item.audio_path;
        audio::AudioClip clip;
        try {
            clip = audio::readAudioFile(audio_path);
        } catch (const Error& e) {
            XOPD_FAIL("augment: prompt '" << item.id << "': " << e.what());
        }
        for (const auto& condition : options.conditions) {
            if (options.abort && options.abort()) throw AugmentCancelled("augment: cancelled; nothing was kept");
            PromptItem row = item;
            row.id = item.id + "@" + condition.idSuffix();
            row.audio = "audio/" + row.id + ".wav";
            row.audio_path.clear();
            row.condition = condition.name();
            row.source_id = item.id;
            for (const std::string& tag : {std::string("augmented"), condition.tag()})
                if (std::find(row.tags.begin(), row.tags.end(), tag) == row.tags.end()) row.tags.push_back(tag);
            try {
                const audio::AudioClip result =
                    applyAcousticCondition(clip, condition, deriveSeed(options.seed, {item.id, condition.name()}));
                audio::writeAudioFile((tmp.path / row.audio).string(), result, audio::AudioFileFormat::WavPcm16);
            } catch (const Error& e) {
                XOPD_FAIL("augment: prompt '" << item.id << "' ('" << audio_path << "'), condition '"
                                              << condition.name() << "': " << e.what());
            }
            rows.push_back(std::move(row));
            if (options.progress) options.progress(int(rows.size()), total);
        }
    }
    const fs::path manifest = tmp.path / "prompts.jsonl";
    writePromptSet(manifest.string(), rows);

    if (fs::exists(out)) fs::remove(out, ec);  // an empty folder (checked above)
    fs::rename(tmp.path, out, ec);
    XOPD_CHECK(!ec, "'" << out.string() << "': cannot move the augmented set into place (" << ec.message() << ")");
    tmp.keep = true;
    return {(out / "prompts.jsonl").string(), int(rows.size())};
}

AugmentReport augmentPromptSet(const std::string& manifest_path, const std::string& out_dir,
                               const AugmentOptions& options) {
    // loadPromptSet's errors name the manifest and line; augmentPrompts' name the clip's file.
    return augmentPrompts(loadPromptSet(manifest_path).items, out_dir, options);
}

}  // namespace xopd::data
