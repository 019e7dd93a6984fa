#pragma once
// Prompt sets: JSONL manifests of spoken prompts with their transcripts.
//
// One JSON object per line:
//   {"id": "q0001-en", "audio": "audio/q0001-en.wav", "transcript": "what is three plus four",
//    "reference": "seven", "split": "train", "tags": ["arithmetic"], "voice": "en"}
// - id (string, required, unique within the manifest)
// - audio (string, required): a path relative to the manifest's folder (absolute paths are allowed)
// - transcript (string, required, non-empty): what the audio says; the text-side prompt
// - reference (string, optional): the reference answer, used by evaluation and SFT
// - split (string, required): one of train, eval, test, dev
// - tags (array of strings, optional), voice (string, optional)
// - condition (string, optional): the acoustic condition the clip was put under, e.g.
//   "snr=10dB,noise=white", "speed=1.1", "telephone" (core/data/AcousticCondition.h); absent = as recorded
// - source_id (string, optional): the id of the prompt this clip was derived from (augmentation)
// Blank lines are skipped. Every error names the manifest, the 1-based line number and the field.
//
// Threading: plain values and free functions; no shared state.

#include <optional>
#include <string>
#include <vector>

namespace xopd::data {

/// One prompt of a prompt set.
struct PromptItem {
    /// Unique id within its manifest.
    std::string id;
    /// Audio path as written in the manifest (relative to the manifest's folder).
    std::string audio;
    /// Absolute (resolved) audio path; filled by loadPromptSet, ignored by writePromptSet.
    std::string audio_path;
    /// What the audio says.
    std::string transcript;
    /// Reference answer, when the set has one.
    std::optional<std::string> reference;
    /// train, eval, test or dev.
    std::string split = "train";
    /// Free-form tags (task category, ...).
    std::vector<std::string> tags;
    /// TTS voice or speaker name; empty when unknown.
    std::string voice;
    /// Acoustic condition (AcousticCondition::name()); empty when the clip is as recorded.
    std::string condition;
    /// Id of the prompt this clip was derived from; empty for an original.
    std::string source_id;
};

/// A loaded manifest.
struct PromptSet {
    /// Path of the manifest file it was loaded from.
    std::string manifest_path;
    /// Items in file order.
    std::vector<PromptItem> items;

    /// Items whose split equals `split`, in file order.
    std::vector<PromptItem> bySplit(const std::string& split) const;
};

/// Options of loadPromptSet.
struct LoadPromptSetOptions {
    /// Check that every audio file exists (an error names the line when one does not).
    bool require_audio = true;
};

/// The allowed split names.
const std::vector<std::string>& knownSplits();

/// Parses one manifest line (already known to be non-blank). `where` prefixes error messages
/// (e.g. "'set.jsonl' line 3"). Throws xopd::Error naming the field at fault.
PromptItem parsePromptLine(const std::string& line, const std::string& where);

/// Loads and validates a manifest; resolves audio paths against the manifest's folder.
/// Throws xopd::Error "'<file>' line <n>: <field>: <problem>" on the first bad line.
PromptSet loadPromptSet(const std::string& manifest_path, const LoadPromptSetOptions& options = {});

/// Serialises one item as a single JSON line (no newline); keys in a fixed order.
std::string promptItemToJsonLine(const PromptItem& item);

/// Writes a manifest atomically (temporary file + rename). Validates ids (unique, non-empty) and
/// splits first, so no invalid file is ever written.
void writePromptSet(const std::string& manifest_path, const std::vector<PromptItem>& items);

}  // namespace xopd::data
