#pragma once
// The gap explorer's table (`xopd eval --by FIELD`, the workbench's "Gap explorer"): accuracy with
// speech input (S), accuracy with text input (T) and the model's own modality gap, broken down by
// a field of the prompt manifest (voice, accent, speaking rate, acoustic condition, tag, question
// category), for one or more checkpoints.
//
// The modality gap of one clip is
//   gap = mean log p(answer | transcript as text) − mean log p(answer | speech)
// in nats per token, where "answer" is the clip's REFERENCE answer as the model's reply: the
// tokenizer's ids of the reference text followed by the end-of-turn token <|im_end|> (when the
// vocabulary has one), each token scored teacher-forced after the chat template's user turn (see
// ModalityGap.h). Positive = the model finds its reference answer less likely when it hears the
// question than when it reads it: speech still hurts. A group's gap is the mean of its clips' gaps.
//
// Groups: a clip belongs to the group named by its manifest field; a clip without the field (or
// with an empty value) is in "(none)"; a list field (tags) puts the clip in each of its values, so
// only then can the group counts exceed the number of clips. Groups are sorted by the gap of the
// LAST checkpoint (the "after" of a run), largest first (ties: by name); the overall row "(all)"
// is kept apart.
//
//   GapTable t = buildGapTable(GroupField::Accent, {"before", "after"}, {"a", "b"}, clips, outcomes);
//   std::cout << gapTableText(t);  writeFileAtomic(path, gapTableJson(t).dump(2));
//
// Torch-free. Threading: pure functions.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace xopd::eval {

/// What the clips are grouped by. Zero is invalid.
enum class GroupField {
    Invalid = 0,
    Voice = 1,      ///< manifest field "voice"
    Accent = 2,     ///< manifest field "accent"
    Rate = 3,       ///< manifest field "rate"; without it, words per second bucketed (rateBucket)
    Condition = 4,  ///< manifest field "condition" (augmented prompt sets)
    Tag = 5,        ///< manifest field "tags" (a list: a clip is in each of its tags' groups)
    Category = 6,   ///< manifest field "category"
};

/// Parses voice, accent, rate, condition, tag or category. Throws xopd::Error naming the value and
/// the accepted ones otherwise.
GroupField parseGroupField(const std::string& name);
/// "voice", "accent", ... (the --by spelling).
std::string groupFieldName(GroupField field);
/// The manifest key the field is read from ("tags" for Tag).
std::string groupFieldKey(GroupField field);

/// Name of the group of clips with no value for the field.
inline constexpr const char* kNoGroup = "(none)";

/// The speaking-rate bucket of `words_per_second`: half-open 0.5 w/s intervals, "2.5-3.0 w/s".
/// Throws xopd::Error for a negative or non-finite rate.
std::string rateBucket(double words_per_second);

/// One clip of the breakdown.
struct GapClip {
    std::string id;
    std::string audio_path;   ///< absolute path of the spoken prompt
    std::string transcript;
    std::string reference;
    /// Groups it belongs to (at least one; kNoGroup when the field is missing).
    std::vector<std::string> groups;
};

/// What one checkpoint did on one clip.
struct ClipOutcome {
    bool speech_correct = false;  ///< greedy answer to the speech matched the reference
    bool text_correct = false;    ///< greedy answer to the transcript matched the reference
    std::string speech_answer;    ///< greedy answer to the speech
    std::string text_answer;      ///< greedy answer to the transcript
    double logprob_text = 0.0;    ///< mean log-prob per token of the scored answer given the text (nats)
    double logprob_speech = 0.0;  ///< the same given the speech (nats)
    int answer_tokens = 0;        ///< tokens scored (reference ids + <|im_end|>)
    double gap() const { return logprob_text - logprob_speech; }
};

/// One (group, checkpoint) cell.
struct GapCell {
    int count = 0;               ///< clips in the group
    double speech = 0.0;         ///< S: accuracy with speech input, percent
    double text = 0.0;           ///< T: accuracy with text input, percent
    double logprob_text = 0.0;   ///< mean over the clips of ClipOutcome::logprob_text
    double logprob_speech = 0.0; ///< mean over the clips of ClipOutcome::logprob_speech
    double gap = 0.0;            ///< logprob_text − logprob_speech (= mean of the clips' gaps)
};

/// One group: its clips and one cell per checkpoint.
struct GapGroup {
    std::string name;
    std::vector<int> clips;       ///< indices into GapTable::clips, in manifest order
    std::vector<GapCell> cells;   ///< one per checkpoint, in GapTable::checkpoints order
};

/// The whole breakdown.
struct GapTable {
    GroupField by = GroupField::Invalid;
    std::vector<std::string> checkpoints;       ///< column names ("before", "after", folder names)
    std::vector<std::string> checkpoint_paths;  ///< their model folders
    std::vector<GapClip> clips;
    std::vector<std::vector<ClipOutcome>> outcomes;  ///< [checkpoint][clip]
    std::vector<GapGroup> groups;                    ///< sorted (see the header comment)
    GapGroup overall;                                ///< "(all)": every clip once
};

/// The cell of `clips` (indices) under one checkpoint's outcomes. Throws xopd::Error when empty.
GapCell cellOf(const std::vector<ClipOutcome>& outcomes, const std::vector<int>& clips);

/// Groups, fills and sorts. `outcomes` is [checkpoint][clip] with as many rows as `checkpoints`
/// (>= 1) and as many entries per row as `clips` (>= 1); throws xopd::Error otherwise.
GapTable buildGapTable(GroupField by, std::vector<std::string> checkpoints, std::vector<std::string> checkpoint_paths,
                       std::vector<GapClip> clips, std::vector<std::vector<ClipOutcome>> outcomes);

/// The clip to listen to beside `clip` (A/B) for checkpoint `checkpoint`: among the clips with the
/// same transcript and other groups, the one with the smallest gap (where speech hurts least);
/// -1 when there is none. Throws xopd::Error for an index out of range.
int contrastClip(const GapTable& table, int clip, int checkpoint);

/// Plain-text table for a terminal: one row per group (sorted), then "(all)"; per checkpoint the
/// columns S %, T %, gap (nats/token); then n. Ends with a line saying which answer was scored.
std::string gapTableText(const GapTable& table);

/// {"format": "xopd-gap-table", "version": 1, "by", "scored_answer", "checkpoints": [{"name","path"}],
///  "groups": [{"name", "count", "clips": [ids], "cells": [{"speech","text","logprob_text",
///  "logprob_speech","gap"}]}], "overall": {...}, "clips": [{"id","audio","transcript","reference",
///  "groups","outcomes": [{"speech_correct","text_correct","speech_answer","text_answer",
///  "logprob_text","logprob_speech","gap","answer_tokens"}]}]}.
nlohmann::json gapTableJson(const GapTable& table);

/// What the gap scores, in words (the JSON's "scored_answer", the text table's last line).
std::string scoredAnswerDescription();

}  // namespace xopd::eval
