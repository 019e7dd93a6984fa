#pragma once
// The prompt library a workspace keeps: WORKSPACE/prompts/library.json, so recordings, imports and
// the edits made in the workbench's prompt table (transcript, split, tags) survive a restart.
//
//   {"format": "xopd-workspace-library", "version": 1,
//    "prompts": [{"id": "rec-20261206-071500", "audio": "recordings/rec-20261206-071500.wav",
//                 "source": "recorded", "transcript": "what is one plus one", "split": "train",
//                 "tags": ["mine"], "voice": ""}],
//    "kit_edits": [{"id": "q0001-en", "transcript": "…", "split": "eval", "tags": ["checked"]}],
//    "kit_removed": ["q0002-en"]}
//
// - prompts: every clip the workspace added (recorded, synthesized, imported files and manifests),
//   in library order. audio is relative to the file's folder when the clip lies under it, else
//   absolute. transcript may be empty (a fresh recording has none yet).
// - kit_edits: the demo kit's prompts are read from the kit each start; only the ones edited in
//   the table are kept here, by id, with the edited fields.
// - kit_removed: ids of demo-kit prompts removed from the table; they stay out when the kit is read
//   again (optional; an empty list when absent).
//
// Unlike a prompt-set manifest (PromptSet.h) this is the workspace's own state, not a training set:
// it is written whole and atomically (AtomicFile) after each change. A file that cannot be read
// (bad JSON, wrong types, an unknown split, a duplicate id) throws xopd::Error naming the file and
// the entry; the caller must then leave the file alone rather than overwrite it.
//
// Torch-free and Qt-free: the CLI can use it too. Threading: plain values and free functions.

#include <string>
#include <vector>

namespace xopd::data {

/// One prompt of a workspace library (or one edit of a kit prompt: then only id, transcript,
/// split and tags are used).
struct LibraryPrompt {
    /// Unique id within the library.
    std::string id;
    /// Audio path as written in the file (relative to its folder, or absolute).
    std::string audio;
    /// Absolute audio path: filled by readWorkspaceLibrary; written relative by writeWorkspaceLibrary.
    std::string audio_path;
    /// How it came in: "imported", "manifest", "recorded" or "synthesized".
    std::string source = "imported";
    /// What the audio says; may be empty.
    std::string transcript;
    /// train, eval, test or dev.
    std::string split = "train";
    /// Free-form tags.
    std::vector<std::string> tags;
    /// TTS voice or speaker; empty when unknown.
    std::string voice;
};

/// A workspace's library file, read or to be written.
struct WorkspaceLibrary {
    /// Clips the workspace added, in library order.
    std::vector<LibraryPrompt> prompts;
    /// Edited demo-kit prompts (id, transcript, split, tags).
    std::vector<LibraryPrompt> kit_edits;
    /// Ids of demo-kit prompts removed from the table.
    std::vector<std::string> kit_removed;
};

/// WORKSPACE/prompts/library.json.
std::string workspaceLibraryPath(const std::string& workspace);

/// Reads a library file. A missing file is an empty library. Throws xopd::Error
/// "'<file>': <entry>: <field>: <problem>" on anything else it cannot read.
WorkspaceLibrary readWorkspaceLibrary(const std::string& path);

/// Writes the library atomically (temporary file + rename), audio paths relative to the file's
/// folder where they lie under it. Validates first (ids unique and non-empty, known splits, audio
/// paths set), so no invalid file is written. Creates the folder when missing.
void writeWorkspaceLibrary(const std::string& path, const WorkspaceLibrary& library);

}  // namespace xopd::data
