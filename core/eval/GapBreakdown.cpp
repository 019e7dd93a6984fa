#include "core/eval/GapBreakdown.h"

#include "core/common/Error.h"
#include "core/eval/Scores.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace xopd::eval {

namespace {

struct FieldName {
    GroupField field;
    const char* name;
    const char* key;
};

constexpr FieldName kFields[] = {
    {GroupField::Voice, "voice", "voice"},         {GroupField::Accent, "accent", "accent"},
    {GroupField::Rate, "rate", "rate"},            {GroupField::Condition, "condition", "condition"},
    {GroupField::Tag, "tag", "tags"},              {GroupField::Category, "category", "category"},
};

const FieldName& fieldEntry(GroupField field) {
    for (const auto& f : kFields)
        if (f.field == field) return f;
    XOPD_FAIL("gap explorer: invalid grouping field");
}

std::string fixed(double v, int digits) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

std::string padRight(const std::string& s, size_t width) {
    // Width in code points, so "ΔS" or an accent name in UTF-8 lines up.
    size_t points = 0;
    for (unsigned char c : s) points += (c & 0xC0) != 0x80;
    return points >= width ? s : s + std::string(width - points, ' ');
}

nlohmann::json cellJson(const GapCell& c) {
    return {{"count", c.count},           {"speech", c.speech},       {"text", c.text},
            {"logprob_text", c.logprob_text}, {"logprob_speech", c.logprob_speech}, {"gap", c.gap}};
}

nlohmann::json groupJson(const GapGroup& g, const std::vector<GapClip>& clips) {
    nlohmann::json ids = nlohmann::json::array(), cells = nlohmann::json::array();
    for (int i : g.clips) ids.push_back(clips[size_t(i)].id);
    for (const auto& c : g.cells) cells.push_back(cellJson(c));
    return {{"name", g.name}, {"count", g.clips.size()}, {"clips", ids}, {"cells", cells}};
}

}  // namespace

GroupField parseGroupField(const std::string& name) {
    for (const auto& f : kFields)
        if (name == f.name) return f.field;
    XOPD_FAIL("--by '" << name << "': unknown grouping (expected voice, accent, rate, condition, tag or category)");
}

std::string groupFieldName(GroupField field) { return fieldEntry(field).name; }

std::string groupFieldKey(GroupField field) { return fieldEntry(field).key; }

std::string rateBucket(double words_per_second) {
    XOPD_CHECK(std::isfinite(words_per_second) && words_per_second >= 0.0,
               "speaking rate " << words_per_second << " words/s is not a rate");
    const double low = std::floor(words_per_second * 2.0) / 2.0;
    return fixed(low, 1) + "-" + fixed(low + 0.5, 1) + " w/s";
}

std::string scoredAnswerDescription() {
    return "the reference answer (its token ids followed by <|im_end|>), teacher-forced after the user turn; "
           "mean log-prob per token in nats; gap = log p(answer | text) - log p(answer | speech)";
}

GapCell cellOf(const std::vector<ClipOutcome>& outcomes, const std::vector<int>& clips) {
    XOPD_CHECK(!clips.empty(), "gap explorer: a group without clips");
    GapCell c;
    c.count = static_cast<int>(clips.size());
    int s = 0, t = 0;
    for (int i : clips) {
        const auto& o = outcomes.at(size_t(i));
        s += o.speech_correct;
        t += o.text_correct;
        c.logprob_text += o.logprob_text;
        c.logprob_speech += o.logprob_speech;
    }
    c.speech = accuracyPercent(s, c.count);
    c.text = accuracyPercent(t, c.count);
    c.logprob_text /= c.count;
    c.logprob_speech /= c.count;
    c.gap = c.logprob_text - c.logprob_speech;
    return c;
}

GapTable buildGapTable(GroupField by, std::vector<std::string> checkpoints, std::vector<std::string> checkpoint_paths,
                       std::vector<GapClip> clips, std::vector<std::vector<ClipOutcome>> outcomes) {
    fieldEntry(by);  // rejects Invalid
    XOPD_CHECK(!checkpoints.empty(), "gap explorer: no checkpoint");
    XOPD_CHECK(!clips.empty(), "gap explorer: no clip with a reference answer");
    XOPD_CHECK(checkpoint_paths.size() == checkpoints.size() && outcomes.size() == checkpoints.size(),
               "gap explorer: " << checkpoints.size() << " checkpoints, " << checkpoint_paths.size() << " paths, "
                                << outcomes.size() << " outcome rows");
    for (const auto& row : outcomes)
        XOPD_CHECK(row.size() == clips.size(),
                   "gap explorer: " << row.size() << " outcomes for " << clips.size() << " clips");

    GapTable t;
    t.by = by;
    t.checkpoints = std::move(checkpoints);
    t.checkpoint_paths = std::move(checkpoint_paths);
    t.clips = std::move(clips);
    t.outcomes = std::move(outcomes);

    std::map<std::string, std::vector<int>> members;
    for (size_t i = 0; i < t.clips.size(); ++i) {
        auto& groups = t.clips[i].groups;
        if (groups.empty()) groups.push_back(kNoGroup);
        for (const auto& g : groups) {
            auto& m = members[g.empty() ? std::string(kNoGroup) : g];
            if (m.empty() || m.back() != int(i)) m.push_back(int(i));  // a tag listed twice counts once
        }
    }
    auto fill = [&t](GapGroup& g) {
        for (const auto& row : t.outcomes) g.cells.push_back(cellOf(row, g.clips));
    };
    for (auto& [name, idx] : members) {
        GapGroup g{name, std::move(idx), {}};
        fill(g);
        t.groups.push_back(std::move(g));
    }
    std::stable_sort(t.groups.begin(), t.groups.end(), [](const GapGroup& a, const GapGroup& b) {
        return a.cells.back().gap > b.cells.back().gap;  // names already ascending: ties keep them
    });
    t.overall.name = "(all)";
    for (size_t i = 0; i < t.clips.size(); ++i) t.overall.clips.push_back(int(i));
    fill(t.overall);
    return t;
}

int contrastClip(const GapTable& t, int clip, int checkpoint) {
    XOPD_CHECK(clip >= 0 && size_t(clip) < t.clips.size(), "gap explorer: no clip " << clip);
    XOPD_CHECK(checkpoint >= 0 && size_t(checkpoint) < t.outcomes.size(), "gap explorer: no checkpoint " << checkpoint);
    const auto& me = t.clips[size_t(clip)];
    const auto& row = t.outcomes[size_t(checkpoint)];
    int best = -1;
    for (size_t i = 0; i < t.clips.size(); ++i) {
        const auto& c = t.clips[i];
        if (int(i) == clip || c.transcript != me.transcript || c.groups == me.groups) continue;
        if (best < 0 || row[i].gap() < row[size_t(best)].gap()) best = int(i);
    }
    return best;
}

std::string gapTableText(const GapTable& t) {
    size_t name_width = std::string(groupFieldName(t.by)).size();
    for (const auto& g : t.groups) name_width = std::max(name_width, g.name.size());
    name_width = std::max<size_t>(name_width, 5) + 2;
    std::string out = "gap explorer: by " + groupFieldName(t.by) + ", " + std::to_string(t.clips.size()) + " clips, "
                      + std::to_string(t.groups.size()) + " groups, sorted by the gap of '" + t.checkpoints.back()
                      + "' (largest first)\n";
    std::string head = padRight(groupFieldName(t.by), name_width);
    for (const auto& c : t.checkpoints) head += padRight("| " + c, 30);
    out += head + "| n\n";
    std::string sub = padRight("", name_width);
    for (size_t i = 0; i < t.checkpoints.size(); ++i) sub += padRight("|    S %    T %  gap", 30);
    out += sub + "|\n";
    auto row = [&](const GapGroup& g) {
        std::string line = padRight(g.name, name_width);
        for (const auto& c : g.cells) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "| %6.1f %6.1f %+7.3f", c.speech, c.text, c.gap);
            line += padRight(buf, 30);
        }
        return line + "| " + std::to_string(g.clips.size()) + "\n";
    };
    for (const auto& g : t.groups) out += row(g);
    out += row(t.overall);
    out += "gap: nats per token; scored: " + scoredAnswerDescription() + "\n";
    return out;
}

nlohmann::json gapTableJson(const GapTable& t) {
    nlohmann::json j;
    j["format"] = "xopd-gap-table";
    j["version"] = 1;
    j["by"] = groupFieldName(t.by);
    j["scored_answer"] = scoredAnswerDescription();
    j["sorted_by"] = "gap of the last checkpoint, largest first";
    j["checkpoints"] = nlohmann::json::array();
    for (size_t i = 0; i < t.checkpoints.size(); ++i)
        j["checkpoints"].push_back({{"name", t.checkpoints[i]}, {"path", t.checkpoint_paths[i]}});
    j["groups"] = nlohmann::json::array();
    for (const auto& g : t.groups) j["groups"].push_back(groupJson(g, t.clips));
    j["overall"] = groupJson(t.overall, t.clips);
    j["clips"] = nlohmann::json::array();
    for (size_t i = 0; i < t.clips.size(); ++i) {
        const auto& c = t.clips[i];
        nlohmann::json outcomes = nlohmann::json::array();
        for (const auto& row : t.outcomes) {
            const auto& o = row[i];
            outcomes.push_back({{"speech_correct", o.speech_correct}, {"text_correct", o.text_correct},
                                {"speech_answer", o.speech_answer},   {"text_answer", o.text_answer},
                                {"logprob_text", o.logprob_text},     {"logprob_speech", o.logprob_speech},
                                {"gap", o.gap()},                     {"answer_tokens", o.answer_tokens}});
        }
        j["clips"].push_back({{"id", c.id}, {"audio", c.audio_path}, {"transcript", c.transcript},
                              {"reference", c.reference}, {"groups", c.groups}, {"outcomes", outcomes}});
    }
    return j;
}

}  // namespace xopd::eval
