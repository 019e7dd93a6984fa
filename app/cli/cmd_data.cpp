// CLI commands of the data group (see Commands.h):
//   xopd demo-kit build [--out DIR] [--seed N]     build the demo kit from nothing (minutes)
//        [--progress-lines]                        machine-readable progress (the workbench's banner)
//     A stop signal (Ctrl-C, SIGTERM: the workbench's Cancel) stops the build within one step and
//     leaves nothing; the exit status is then 128 + the signal's number.
//   xopd demo-kit info [DIR]                       what a kit holds and what its build measured
//   xopd eval (--run DIR | --model DIR) --prompts MANIFEST [--split S] [--match exact|contains] [--json [FILE]]
//   xopd eval --by FIELD (--run DIR | --model DIR | --checkpoint DIR ...) --prompts MANIFEST ...   (EvalGaps.h)
//   xopd prompts check MANIFEST                    validate a manifest (errors name the line)
//   xopd prompts synthesize --texts TEXTS.jsonl --out DIR --voice V [--voice V ...] [--eval-voice V ...]
//   xopd prompts augment ...                       (cmd_prompts_augment.cpp)
#include "app/cli/Commands.h"
#include "app/cli/EvalGaps.h"
#include "app/cli/StopSignals.h"
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/demokit/DemoKit.h"
#include "core/demokit/DemoKitBuilder.h"
#include "core/data/PromptSet.h"
#include "core/data/PromptSynthesis.h"
#include "core/eval/EvalReport.h"
#include "core/eval/Evaluator.h"
#include "core/model/runtime/SpeechLm.h"
#include "core/run/CheckpointFolders.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Tokenizer.h"

#include <chrono>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace xopd::cli {
namespace fs = std::filesystem;
namespace {

struct DemoKitArgs {
    std::string out;
    bool progress_lines = false;
    demokit::DemoKitOptions options;
};

void addDemoKitCommands(CLI::App& app, Action& run) {
    auto* group = app.add_subcommand("demo-kit", "The built-in demo kit: a tiny teacher, student and spoken prompt set");
    group->require_subcommand(1);

    auto args = std::make_shared<DemoKitArgs>();
    auto* build = group->add_subcommand("build", "Build the demo kit deterministically from nothing (a few minutes on 2 cores)");
    build->add_option("--out", args->out, "Kit folder (default: the workbench's default kit path)");
    auto& o = args->options;
    build->add_option("--seed", o.seed, "Seed of every random choice");
    build->add_option("--student-lr", o.student_lr, "Stage 1: learning rate of the student's fresh audio tower");
    build->add_option("--student-train-decoder", o.student_train_decoder,
                      "Stage 1: also train the student's decoder copy, text QA replayed (true/false; default true)");
    build->add_option("--student-decoder-lr", o.student_decoder_lr, "Stage 1: learning rate of the decoder");
    build->add_option("--tower-steps", o.tower_steps, "Stage 1: steps (fixed)");
    build->add_option("--projector-lr", o.projector_lr, "Stage 2 (alignment, LLM frozen): projector learning rate");
    build->add_option("--student-stop,--alignment-stop", o.alignment_stop_accuracy,
                      "Stage 2: stop once the held-out voices' speech accuracy on the training questions reaches this (percent)");
    build->add_option("--student-steps,--alignment-steps", o.alignment_max_steps, "Stage 2: most steps");
    build->add_option("--teacher-steps", o.teacher_steps, "Teacher training steps (fixed)");
    build->add_option("--large-teacher-steps", o.large_teacher_steps,
                      "Steps of the larger (ablation) teacher (fixed; 0: none is built)");
    build->add_option("--large-teacher-lr", o.large_teacher_lr, "Learning rate of the larger teacher");
    build->add_option("--large-teacher-size", o.large_hidden_size, "Width of the larger teacher (SwiGLU width: 3x)")
        ->each([&o](const std::string&) { o.large_intermediate_size = 3 * o.large_hidden_size; });
    build->add_option("--large-teacher-layers", o.large_num_layers, "Layers of the larger teacher");
    build->add_option("--probe-clips", o.probe_train_per_count,
                      "Beep-probe clips per count (one, two, three) the student learns in its build");
    build->add_option("--bpe-merges", o.bpe_merges, "BPE merges learned for the kit's tokenizer (at most)");
    build->add_flag("--no-target-check{false}", o.check_targets,
                    "Write the kit even when a target is missed (quick test builds)");
    build->add_option("--train-voices", o.train_voices, "Training voices VOICE[@RATE][:PITCH]");
    build->add_option("--eval-voices", o.eval_voices, "Held-out voices VOICE[@RATE][:PITCH]");
    build->add_flag("--progress-lines", args->progress_lines,
                    "Also print \"progress FRACTION STAGE DONE TOTAL\" lines (at most 10 a second, and at each "
                    "new stage) for a front end's progress bar");
    build->callback([args, &run] {
        run = [args] {
            const std::string out = args->out.empty() ? demokit::defaultDemoKitPath() : args->out;
            demokit::DemoKitOptions options = args->options;
            options.progress = [](const std::string& line) { std::cout << line << std::endl; };
            if (args->progress_lines) {
                options.on_step = [last = std::chrono::steady_clock::time_point{}, stage = std::string()](
                                      const demokit::DemoKitProgress& p) mutable {
                    const auto now = std::chrono::steady_clock::now();
                    if (p.stage == stage && now - last < std::chrono::milliseconds(100)) return;
                    last = now;
                    stage = p.stage;
                    std::cout << "progress " << std::fixed << std::setprecision(4) << p.fraction << std::defaultfloat
                              << " " << p.stage << " " << p.done << " " << p.total << std::endl;
                };
            }
            // A stop signal stops the build at its next step; nothing of it is kept.
            StopSignalHandlers handlers;
            options.abort = [] { return stopSignal() != 0; };
            demokit::DemoKitReport r;
            try {
                r = demokit::buildDemoKit(out, options);
            } catch (const demokit::DemoKitCancelled& e) {
                std::cerr << "xopd: " << e.what() << " (" << ::strsignal(stopSignal()) << "); nothing was kept\n";
                return 128 + stopSignal();
            }
            const auto pct = [](const demokit::SplitScores& s) {
                std::ostringstream os;
                os << "S " << s.speech << " %";
                if (s.text >= 0) os << ", T " << s.text << " %";
                return os.str();
            };
            std::cout << "demo kit written to " << out << "\n"
                      << "  stopping steps: teacher " << r.teacher_steps << ", larger teacher " << r.large_teacher_steps
                      << ", stage 1 (tower) " << r.tower_steps << ", stage 2 (alignment) " << r.alignment_steps << "\n"
                      << "  teacher text accuracy          " << r.teacher_text << " %\n"
                      << "  larger teacher text accuracy   " << r.large_teacher_text << " %\n"
                      << "  after stage 1: seen questions S " << r.tower_speech << " %, test questions S " << r.tower_test
                      << " %, beep probe " << r.tower_probe << " %\n"
                      << "  student, held-out voices: seen questions " << pct(r.seen) << "; validation " << pct(r.validation)
                      << "; test " << pct(r.test) << "; held-out category " << pct(r.category) << "\n"
                      << "  student beep probe             " << r.probe.speech << " %\n"
                      << "  clips " << r.train_clips << " train, " << r.pretrain_clips << " pretrain (build only), " << r.eval_clips
                      << " held-out voices, " << r.probe_train_clips
                      << " probe (build), " << r.probe_clips << " probe (test)\n";
            return 0;
        };
    });

    auto dir = std::make_shared<std::string>();
    auto* info = group->add_subcommand("info", "Print a kit's kit.json (what it holds, how it was built, what was measured)");
    info->add_option("DIR", *dir, "Kit folder (default: the default kit path)");
    info->callback([dir, &run] {
        run = [dir] {
            const demokit::DemoKit kit = demokit::openDemoKit(dir->empty() ? demokit::defaultDemoKitPath() : *dir);
            std::cout << readJsonFile(kit.kit_json).dump(2) << "\n";
            return 0;
        };
    });
}

struct EvalArgs {
    std::string run_dir, model_dir, prompts, split, match = "exact";
    bool json = false;
    std::string json_file;
    int64_t max_new_tokens = eval::EvalOptions{}.max_new_tokens;
    std::string by;
    std::vector<std::string> checkpoints;
};

/// The model folder that `xopd eval --run DIR` evaluates: the run's newest complete checkpoint,
/// which must be a full model folder (a LoRA adapter alone is not loadable as a model).
std::string modelFolderOfRun(const std::string& run_dir) {
    const std::string folder = run::latestCheckpoint(run_dir);
    XOPD_CHECK(!folder.empty(), "'" << run_dir << "': the run has no complete checkpoint yet");
    XOPD_CHECK(fs::exists(fs::path(folder) / "config.json"),
               "'" << folder << "': not a full model checkpoint (a LoRA adapter needs its base model; "
                   << "evaluate with --model on a merged folder)");
    return folder;
}

void addEvalCommand(CLI::App& app, Action& run) {
    auto args = std::make_shared<EvalArgs>();
    auto* cmd = app.add_subcommand("eval", "Accuracy with speech input (S) and text input (T) on prompts with reference answers");
    auto* run_opt = cmd->add_option("--run", args->run_dir, "Run folder: evaluates its latest checkpoint");
    auto* model_opt = cmd->add_option("--model", args->model_dir, "Model folder");
    run_opt->excludes(model_opt);
    cmd->add_option("--prompts", args->prompts, "JSONL manifest (items without a reference are skipped)")->required();
    cmd->add_option("--split", args->split, "Only items of this split (default: all)");
    cmd->add_option("--match", args->match, "exact (normalised) or contains (whole words)")
        ->check(CLI::IsMember({"exact", "contains"}));
    cmd->add_option("--max-new-tokens", args->max_new_tokens, "Greedy decoding budget per answer");
    auto* json_opt = cmd->add_option("--json", args->json_file, "Print JSON instead of a table; with FILE: write it there (atomically)")
                         ->expected(0, 1);
    cmd->add_option("--by", args->by,
                    "Gap explorer: S, T and the modality gap by voice, accent, rate, condition, tag or category "
                    "(with --run: before = the initial student, after = the latest checkpoint)");
    cmd->add_option("--checkpoint", args->checkpoints, "Gap explorer: a model folder to compare, repeatable");
    cmd->callback([args, json_opt, &run] {
        args->json = json_opt->count() > 0;
        run = [args] {
            if (!args->by.empty() || !args->checkpoints.empty()) {
                XOPD_CHECK(!args->by.empty(), "eval: --checkpoint needs --by FIELD");
                return runEvalGaps({args->by, args->run_dir, args->model_dir, args->checkpoints, args->prompts,
                                    args->split, args->match, args->max_new_tokens, args->json, args->json_file});
            }
            XOPD_CHECK(!args->run_dir.empty() || !args->model_dir.empty(), "eval: give --run DIR or --model DIR");
            const std::string folder = args->run_dir.empty() ? args->model_dir : modelFolderOfRun(args->run_dir);
            const data::PromptSet set = data::loadPromptSet(args->prompts);
            std::vector<eval::EvalPrompt> prompts;
            for (const auto& item : set.items) {
                if (!item.reference || (!args->split.empty() && item.split != args->split)) continue;
                prompts.push_back({item.id, item.audio_path, item.transcript, *item.reference});
            }
            XOPD_CHECK(!prompts.empty(), "'" << args->prompts << "': no item with a reference answer"
                                             << (args->split.empty() ? "" : " in split '" + args->split + "'"));
            const model::SpeechLm lm = model::loadModel(folder);
            const text::Tokenizer tokenizer = text::Tokenizer::fromFile(folder);
            eval::EvalOptions options;
            options.match = args->match == "contains" ? eval::MatchMode::Contains : eval::MatchMode::Exact;
            options.max_new_tokens = args->max_new_tokens;
            const eval::EvalResult result = eval::evaluateModel(lm, tokenizer, text::detectChatTemplateInFolder(folder),
                                                                prompts, options);
            const std::vector<eval::EvalRow> rows{{fs::path(folder).filename().string(), folder, result.scores}};
            if (args->json) {
                nlohmann::json out = eval::reportJson(rows, std::nullopt);
                out["predictions"] = nlohmann::json::array();
                for (const auto& p : result.predictions)
                    out["predictions"].push_back({{"id", p.id}, {"modality", p.modality}, {"answer", p.answer},
                                                  {"reference", p.reference}, {"correct", p.correct}});
                if (args->json_file.empty()) std::cout << out.dump(2) << "\n";
                else writeJsonFileAtomic(args->json_file, out);
            }
            if (!args->json || !args->json_file.empty()) {
                std::cout << eval::markdownTable(rows, std::nullopt);
            }
            return 0;
        };
    });
}

struct SynthArgs {
    std::string texts, out;
    std::vector<std::string> voices, eval_voices;
};

void addPromptCommands(CLI::App& app, Action& run) {
    auto* group = app.add_subcommand("prompts", "Prompt-set manifests: check, synthesize speech from text, augment under acoustic conditions");
    group->require_subcommand(1);

    auto manifest = std::make_shared<std::string>();
    auto* check = group->add_subcommand("check", "Validate a JSONL manifest and its audio files");
    check->add_option("MANIFEST", *manifest, "Manifest file")->required();
    check->callback([manifest, &run] {
        run = [manifest] {
            const data::PromptSet set = data::loadPromptSet(*manifest);
            int with_reference = 0;
            for (const auto& item : set.items) with_reference += item.reference ? 1 : 0;
            std::cout << "'" << *manifest << "': " << set.items.size() << " items, " << with_reference
                      << " with a reference answer, all audio files present\n";
            return 0;
        };
    });

    auto args = std::make_shared<SynthArgs>();
    auto* synth = group->add_subcommand("synthesize", "Speak a texts.jsonl with espeak-ng voices into a prompt set");
    synth->add_option("--texts", args->texts, "texts.jsonl: {\"id\", \"text\", \"reference\"?, \"tags\"?} per line")->required();
    synth->add_option("--out", args->out, "Output folder (audio/, train.jsonl, eval.jsonl)")->required();
    synth->add_option("--voice", args->voices, "Training voice VOICE[@RATE][:PITCH], repeatable")->required();
    synth->add_option("--eval-voice", args->eval_voices, "Held-out voice for eval.jsonl, repeatable");
    synth->callback([args, &run] {
        run = [args] {
            data::SynthesisOptions options;
            for (const auto& v : args->voices) options.train_voices.push_back(data::parseVoiceSpec(v));
            for (const auto& v : args->eval_voices) options.eval_voices.push_back(data::parseVoiceSpec(v));
            const int clips = data::synthesizePromptSet(data::readTextPrompts(args->texts), args->out, options);
            std::cout << clips << " clips written to " << args->out << "\n";
            return 0;
        };
    });
    addPromptsAugmentCommand(*group, run);
}

}  // namespace

void addDataCommands(CLI::App& app, Action& run) {
    addDemoKitCommands(app, run);
    addEvalCommand(app, run);
    addPromptCommands(app, run);
}

}  // namespace xopd::cli
