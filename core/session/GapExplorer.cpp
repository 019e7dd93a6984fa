#include "core/session/GapExplorer.h"

#include "core/audio/AudioFile.h"
#include "core/common/Error.h"
#include "core/data/PromptFields.h"
#include "core/data/PromptSet.h"
#include "core/demokit/DemoKit.h"
#include "core/eval/ModalityGap.h"
#include "core/model/runtime/SpeechLm.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunFolder.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Tokenizer.h"

#include <filesystem>
#include <sstream>

namespace xopd::session {

namespace fs = std::filesystem;

namespace {

int wordCount(const std::string& text) {
    std::istringstream words(text);
    std::string w;
    int n = 0;
    while (words >> w) ++n;
    return n;
}

std::string rateOfClip(const data::PromptItem& item) {
    const double seconds = audio::probeAudioFile(item.audio_path).durationSeconds();
    XOPD_CHECK(seconds > 0.0, "'" << item.audio_path << "': no audio, so no speaking rate");
    return eval::rateBucket(wordCount(item.transcript) / seconds);
}

}  // namespace

std::vector<GapCheckpoint> runGapCheckpoints(const std::string& run_dir) {
    const distill::DistillConfig c = run::RunFolder(run_dir).readConfig();
    std::string before;
    switch (c.student.kind) {
        case distill::ModelSourceKind::Hf: before = c.student.path; break;
        case distill::ModelSourceKind::Demo:
            before = demokit::openDemoKit(c.student.path.empty() ? demokit::defaultDemoKitPath() : c.student.path).student_dir;
            break;
        default:
            XOPD_FAIL("'" << run_dir << "': a toy-model run has no model folders to evaluate");
    }
    const std::string after = run::latestCheckpoint(run_dir);
    XOPD_CHECK(!after.empty(), "'" << run_dir << "': the run has no complete checkpoint yet");
    XOPD_CHECK(fs::exists(fs::path(after) / "config.json"),
               "'" << after << "': not a full model checkpoint (a LoRA adapter needs its base model)");
    return {{"before", before}, {"after " + fs::path(after).filename().string(), after}};
}

GapCheckpoint folderGapCheckpoint(const std::string& folder) {
    fs::path p = fs::path(folder).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    return {p.filename().string(), folder};
}

std::vector<eval::GapClip> gapClips(const GapRequest& r) {
    const eval::GroupField by = eval::parseGroupField(r.by);
    const data::PromptSet set = data::loadPromptSet(r.manifest);
    const auto values = data::promptFieldValues(r.manifest, eval::groupFieldKey(by));
    std::vector<eval::GapClip> clips;
    for (const auto& item : set.items) {
        if (!item.reference || (!r.split.empty() && item.split != r.split)) continue;
        eval::GapClip c{item.id, item.audio_path, item.transcript, *item.reference, values.at(item.id)};
        if (by == eval::GroupField::Rate && c.groups.empty()) c.groups.push_back(rateOfClip(item));
        clips.push_back(std::move(c));
    }
    XOPD_CHECK(!clips.empty(), "'" << r.manifest << "': no item with a reference answer"
                                   << (r.split.empty() ? "" : " in split '" + r.split + "'"));
    return clips;
}

eval::GapTable exploreGaps(const GapRequest& r, const std::function<void(const std::string&)>& progress,
                           const std::atomic<bool>* stop) {
    const eval::GroupField by = eval::parseGroupField(r.by);
    eval::EvalOptions options;
    options.match = eval::parseMatchMode(r.match);
    options.max_new_tokens = r.max_new_tokens;
    XOPD_CHECK(!r.checkpoints.empty(), "gap explorer: no checkpoint to evaluate");
    std::vector<eval::GapClip> clips = gapClips(r);
    std::vector<eval::EvalPrompt> prompts;
    for (const auto& c : clips) prompts.push_back({c.id, c.audio_path, c.transcript, c.reference});

    std::vector<std::string> names, paths;
    std::vector<std::vector<eval::ClipOutcome>> outcomes;
    for (size_t i = 0; i < r.checkpoints.size(); ++i) {
        XOPD_CHECK(!(stop && stop->load()), "gap explorer: stopped");
        const auto& ck = r.checkpoints[i];
        if (progress) {
            std::ostringstream os;
            os << "checkpoint " << i + 1 << "/" << r.checkpoints.size() << " '" << ck.name << "': " << prompts.size()
               << " clips";
            progress(os.str());
        }
        const model::SpeechLm lm = model::loadModel(ck.folder);
        const text::Tokenizer tokenizer = text::Tokenizer::fromFile(ck.folder);
        outcomes.push_back(eval::evaluateClipOutcomes(lm, tokenizer, text::detectChatTemplateInFolder(ck.folder),
                                                      prompts, options));
        names.push_back(ck.name);
        paths.push_back(ck.folder);
    }
    return eval::buildGapTable(by, std::move(names), std::move(paths), std::move(clips), std::move(outcomes));
}

}  // namespace xopd::session
