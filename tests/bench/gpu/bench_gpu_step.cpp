// One full X-OPD optimizer step of the engine (distill::Trainer with two SpeechLmPolicy models) on
// one GPU: a Qwen2.5-Omni-7B-thinker-shaped student (LoRA r 16 on every decoder linear layer, audio
// tower frozen) and a Qwen2.5-7B-shaped teacher, random bf16 weights, m rollouts per prompt and
// stream, both streams (λ = 0.5: speech rollouts with the audio prompt, text rollouts with the
// transcript, both scored by the teacher), up to `--new` response tokens (a random 152k-id model
// almost never samples a stop id, so responses are that long). Prints seconds per phase (the
// Trainer's own time/* metrics) of the step after one warm-up step, and the device's peak memory.
//
// The models are written as Hugging Face folders (random weights made on the device, the tiny
// byte-level tokenizer of TinyModels.h, whose 266 ids are a prefix of the 152k rows) under
// --workdir (default /dev/shm when it has room, else /tmp), and spoken prompts as 16 kHz WAV tones.
//
//   bench_gpu_step [--shape 7b] [--m 4] [--new 256] [--prompts 2] [--device cuda] [--steps 1]
//                  [--workdir DIR] [--keep]
//
// Built only with LibTorch CUDA; NOT RUN at 7B on the machine that wrote it (no GPU there);
// `--shape tiny --device cpu --new 8` is the plumbing check that ran there.
#include "GpuBench.h"

#include "core/audio/AudioClip.h"
#include "core/audio/AudioFile.h"
#include "core/common/TorchRuntime.h"
#include "core/distill/DistillConfig.h"
#include "core/distill/SpeechLmPolicy.h"
#include "core/distill/Trainer.h"
#include "kernels/CudaKernels.h"

#include <sys/statvfs.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace xopd;
using namespace xopd::bench;
namespace fs = std::filesystem;

namespace {

double freeBytes(const std::string& dir) {
    struct statvfs s {};
    if (statvfs(dir.c_str(), &s) != 0) return 0;
    return static_cast<double>(s.f_bavail) * static_cast<double>(s.f_frsize);
}

/// Writes a model folder with random weights made on `dev`, copied to the CPU for the writer.
void writeRandomModel(const std::string& folder, const model::ModelRuntimeConfig& c, const torch::Device& dev,
                      uint64_t seed) {
    model::TensorMap w = deviceRandomWeights(c, dev, torch::kBFloat16, seed);
    for (auto& [name, t] : w) t = t.to(torch::kCPU);
    model::ModelRuntimeConfig cc = c;
    cc.text.torch_dtype = "bfloat16";
    model::writeModelFolder(folder, cc, w);
    model::writeTinyTokenizer(folder);
}

}  // namespace

int main(int argc, char** argv) {
    std::string shape = "7b", device = "cuda", workdir;
    int64_t m = 4, fresh = 256, prompts = 2, steps = 1;
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--shape") shape = next();
        else if (a == "--m") m = std::atoll(next().c_str());
        else if (a == "--new") fresh = std::atoll(next().c_str());
        else if (a == "--prompts") prompts = std::atoll(next().c_str());
        else if (a == "--device") device = next();
        else if (a == "--steps") steps = std::atoll(next().c_str());
        else if (a == "--workdir") workdir = next();
        else if (a == "--keep") keep = true;
        else {
            std::fprintf(stderr, "usage: bench_gpu_step [--shape S] [--m M] [--new N] [--prompts P] [--device D] "
                                 "[--steps K] [--workdir DIR] [--keep]\n");
            return 2;
        }
    }
    configureThreads();
    kernels::registerCudaKernels();
    const torch::Device dev(device);
    if (workdir.empty()) workdir = freeBytes("/dev/shm") > 45e9 ? "/dev/shm/xopd-bench-step" : "/tmp/xopd-bench-step";
    fs::create_directories(workdir);
    const std::string studentDir = workdir + "/student", teacherDir = workdir + "/teacher";
    try {
        auto t0 = Clock::now();
        model::ModelRuntimeConfig sc = shapeConfig(shape, model::ModelKind::Qwen25OmniThinker);
        model::ModelRuntimeConfig tc = shapeConfig(shape, model::ModelKind::Qwen2Text);
        writeRandomModel(studentDir, sc, dev, 11);
        writeRandomModel(teacherDir, tc, dev, 12);
        // Spoken prompts: 2.5 s tones (the speech stream's audio) and their "transcripts".
        std::vector<distill::PromptItem> items;
        for (int64_t i = 0; i < std::max<int64_t>(prompts, 1) * 2; ++i) {
            audio::AudioClip clip;
            clip.sample_rate = 16000;
            clip.samples.resize(40000);
            for (size_t k = 0; k < clip.samples.size(); ++k)
                clip.samples[k] = 0.3f * static_cast<float>(std::sin(2.0 * M_PI * (200.0 + 37.0 * i) * k / 16000.0));
            const std::string wav = workdir + "/prompt" + std::to_string(i) + ".wav";
            audio::writeAudioFile(wav, clip, audio::AudioFileFormat::WavPcm16);
            distill::PromptItem p;
            p.id = "p" + std::to_string(i);
            p.transcript = "the question number " + std::to_string(i) + " in the bench";
            p.audio_path = wav;
            items.push_back(p);
        }
        const double write_s = seconds(t0, Clock::now());

        auto t1 = Clock::now();
        distill::SpeechLmPolicyOptions so;
        so.folder = studentDir;
        so.trainable = true;
        so.dtype = dev.is_cuda() ? torch::kBFloat16 : torch::kFloat;
        so.device = dev;
        so.mode = distill::Trainable::Lora;
        so.lora.rank = 16;
        so.lora.alpha = 32;
        distill::SpeechLmPolicyOptions to = so;
        to.folder = teacherDir;
        to.trainable = false;
        auto student = std::make_shared<distill::SpeechLmPolicy>(so);
        auto teacher = std::make_shared<distill::SpeechLmPolicy>(to);
        sync(dev);
        const double load_s = seconds(t1, Clock::now());

        distill::DistillConfig c = distill::defaultDistillConfig(distill::Method::XOpd);
        c.student.kind = c.teacher.kind = distill::ModelSourceKind::Hf;
        c.student.path = studentDir;
        c.teacher.path = teacherDir;
        c.rollout.rollouts_per_prompt = m;
        c.rollout.max_new_tokens = fresh;
        c.loss.lambda = 0.5;
        c.train.batch_size = prompts;
        c.train.max_steps = steps + 1;
        c.train.trainable = distill::Trainable::Lora;
        c.train.device = device;
        c.train.dtype = dev.is_cuda() ? distill::TrainDtype::BFloat16 : distill::TrainDtype::Float32;
        c.train.log_token_samples = 2;
        c.train.lr = 1e-4;
        distill::Trainer trainer(c, student, teacher, items);

        std::printf("Student: Qwen2.5-Omni-thinker-shaped '%s' (%s), LoRA r 16 on q,k,v,o,gate,up,down; teacher: "
                    "Qwen2.5-shaped '%s' (%s); m = %lld, %lld prompts per step, both streams (lambda 0.5), up to %lld "
                    "response tokens; device %s; models written in %.1f s to %s, loaded in %.1f s; LibTorch %s\n\n",
                    shape.c_str(), student->describe().c_str(), shape.c_str(), teacher->describe().c_str(),
                    static_cast<long long>(m), static_cast<long long>(prompts), static_cast<long long>(fresh),
                    device.c_str(), write_s, workdir.c_str(), load_s, torchVersion().c_str());
        std::printf("| step | rollout s | teacher s | update s | step s | tokens/s | response tokens | peak memory |\n");
        std::printf("|---|---|---|---|---|---|---|---|\n");
        decltype(trainer.step().metrics.scalars) last;
        for (int64_t s = 0; s <= steps; ++s) {
            resetPeak(dev);
            sync(dev);
            auto out = trainer.step();
            sync(dev);
            const auto& m2 = out.metrics.scalars;
            auto get = [&](const char* k) { return m2.count(k) ? m2.at(k) : std::nan(""); };
            const double tokens = get("tokens_per_s") * get("time/step_s");
            last = m2;
            std::printf("| %s | %.2f | %.2f | %.2f | %.2f | %.1f | %.0f | %s |\n", s == 0 ? "warm-up" : std::to_string(s).c_str(),
                        get("time/rollout_s"), get("time/teacher_s"), get("time/update_s"), get("time/step_s"),
                        get("tokens_per_s"), tokens, gb(static_cast<double>(peakBytes(dev))).c_str());
            std::fflush(stdout);
            if (out.nonfinite) std::printf("\nnon-finite step: %s\n", out.nonfinite_reason.c_str());
        }
        std::printf("\nPhases are the Trainer's time/* metrics (rollout = both streams' sampling; teacher = teacher "
                    "scoring; update = student forward/backward and AdamW on the LoRA weights), host wall-clock: GPU work "
                    "still queued when a phase's clock stops is counted in the next phase; step = the whole step "
                    "(also metrics and the modality-gap re-scoring). Peak memory = the caching "
                    "allocator's peak during the step (both models' weights included).\n\nAll scalars of the last step:\n");
        for (const auto& [k, v] : last) std::printf("- %s: %.6g\n", k.c_str(), v);
    } catch (const std::exception& e) {
        std::printf("bench_gpu_step: error: %s\n", e.what());
        if (!keep) fs::remove_all(workdir);
        return 1;
    }
    std::printf("\n");
    if (!keep) fs::remove_all(workdir);
    return 0;
}
