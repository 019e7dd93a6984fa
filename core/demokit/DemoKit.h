#pragma once
// The demo kit: a tiny text teacher, a tiny speech student and a spoken prompt set, in real Hugging
// Face folder formats, that make the workbench run out of the box (DESIGN.md "The demo kit").
//
//   <kit>/kit.json                  what the kit holds, how it was built, what was measured
//   <kit>/teacher/                  Qwen2 text model: config.json, model.safetensors, tokenizer.json,
//                                   tokenizer_config.json (ChatML chat_template), generation_config.json
//   <kit>/student/                  Qwen2.5-Omni thinker (audio tower + copy of the teacher's decoder),
//                                   the same tokenizer files, preprocessor_config.json (80 mel bins)
//   <kit>/prompts/train.jsonl       spoken questions, training voices (PromptSet.h manifests)
//   <kit>/prompts/eval.jsonl        the same questions spoken by held-out voices
//   <kit>/prompts/texts.jsonl       the questions and answers as text
//   <kit>/prompts/audio/*.flac      16 kHz clips
//
// Threading: plain values and pure functions.

#include <string>

namespace xopd::demokit {

/// Paths of an opened demo kit (all absolute).
struct DemoKit {
    /// The kit folder.
    std::string root;
    /// Teacher model folder.
    std::string teacher_dir;
    /// Student model folder.
    std::string student_dir;
    /// Training manifest.
    std::string train_manifest;
    /// Held-out evaluation manifest.
    std::string eval_manifest;
    /// kit.json.
    std::string kit_json;
};

/// The default kit folder: $XOPD_DEMO_KIT when set, else the installed share/xopd/demo-kit next to
/// the executable when it holds a kit, else the source tree's resources/demo-kit for an executable
/// of this build tree, else (an installed xopd, e.g. from the .deb) the user's
/// $XDG_DATA_HOME/xopd/demo-kit (~/.local/share/xopd/demo-kit), where `xopd demo-kit build` writes.
std::string defaultDemoKitPath();

/// Opens a kit folder and checks that its parts exist. Throws xopd::Error naming the folder and the
/// missing part (with a hint to run `xopd demo-kit build`).
DemoKit openDemoKit(const std::string& root = defaultDemoKitPath());

}  // namespace xopd::demokit
