#pragma once
// The demo kit: a tiny text teacher, a tiny speech student and a spoken prompt set, in real Hugging
// Face folder formats, that make the workbench run out of the box (DESIGN.md "The demo kit").
//
//   <kit>/kit.json                  what the kit holds, how it was built, what was measured
//                                   ("version": kDemoKitVersion)
//   <kit>/teacher/                  Qwen2 text model: config.json, model.safetensors, tokenizer.json,
//                                   tokenizer_config.json (ChatML chat_template), generation_config.json
//   <kit>/teacher-large/            a larger Qwen2 teacher trained on the same task (the ablation teacher)
//   <kit>/student/                  Qwen2.5-Omni thinker (audio tower + copy of the teacher's decoder),
//                                   the same tokenizer files, preprocessor_config.json (80 mel bins)
//   <kit>/prompts/train.jsonl       the training questions spoken by the training voices (PromptSet.h
//                                   manifests; every row also has "category"): what runs train on
//   <kit>/prompts/pretrain.jsonl    the other questions in the training voices: heard only in the
//                                   student's build (its speech pretraining), never by a run
//   <kit>/prompts/eval.jsonl        every question spoken by held-out voices; split "eval" (training
//                                   questions), "dev" (validation questions), "test" (test questions
//                                   and the held-out category, DemoQuestions.h)
//   <kit>/prompts/probe-train.jsonl beep-count clips the student learned in its build (BeepProbe.h)
//   <kit>/prompts/probe.jsonl       other beep-count clips: the forgetting probe (split "test")
//   <kit>/prompts/texts.jsonl       the questions and answers as text, with category and split
//   <kit>/prompts/audio/*.flac      16 kHz clips
//
// Threading: plain values and pure functions.

#include <string>

namespace xopd::demokit {

/// The kit format this build reads and writes. 3: split by question, held-out category, beep
/// probe, larger teacher, fixed-step stages. Kits of another version are refused by openDemoKit.
inline constexpr int kDemoKitVersion = 3;

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
    /// Held-out-voice manifest (all questions; split eval / dev / test).
    std::string eval_manifest;
    /// The larger (ablation) teacher's folder.
    std::string teacher_large_dir;
    /// The beep probe's test manifest.
    std::string probe_manifest;
    /// kit.json.
    std::string kit_json;
};

/// The default kit folder: $XOPD_DEMO_KIT when set, else the installed share/xopd/demo-kit next to
/// the executable when it holds a kit, else the source tree's resources/demo-kit for an executable
/// of this build tree, else (an installed xopd, e.g. from the .deb) the user's
/// $XDG_DATA_HOME/xopd/demo-kit (~/.local/share/xopd/demo-kit), where `xopd demo-kit build` writes.
std::string defaultDemoKitPath();

/// Opens a kit folder and checks that its parts exist and that kit.json is of kDemoKitVersion.
/// Throws xopd::Error naming the folder and the missing part or the version found (with a hint to
/// run `xopd demo-kit build`).
DemoKit openDemoKit(const std::string& root = defaultDemoKitPath());

}  // namespace xopd::demokit
