#include "core/distill/RunModels.h"

#include "core/common/Error.h"
#include "core/common/TorchRuntime.h"
#include "core/demokit/DemoKit.h"
#include "core/data/PromptSet.h"
#include "core/distill/SpeechLmPolicy.h"
#include "core/distill/ToyPolicy.h"
#include "core/model/runtime/VocabAlignment.h"

#include <filesystem>

namespace xopd::distill {
namespace {

torch::ScalarType dtypeFor(TrainDtype dtype, const torch::Device& device) {
    if (dtype == TrainDtype::Float32) return torch::kFloat32;
    if (dtype == TrainDtype::BFloat16) return torch::kBFloat16;
    return device.is_cuda() ? torch::kBFloat16 : torch::kFloat32;  // auto
}

std::shared_ptr<RunModels> realModels(const DistillConfig& c, const std::string& studentDir, const std::string& teacherDir,
                                      const std::string& manifest) {
    auto m = std::make_shared<RunModels>();
    const torch::Device dev(c.train.device);
    const torch::Device tdev(c.train.teacher_device.empty() ? c.train.device : c.train.teacher_device);
    SpeechLmPolicyOptions so;
    so.folder = studentDir;
    so.trainable = true;
    so.dtype = dtypeFor(c.train.dtype, dev);
    so.device = dev;
    so.mode = c.train.trainable;
    so.lora.rank = c.train.lora_rank;
    so.lora.alpha = c.train.lora_alpha;
    so.lora.targets = c.train.lora_targets;
    so.lora.seed = c.train.seed;
    so.train_projector = c.train.train_projector;
    so.train_audio_tower = c.train.train_audio_tower;
    so.train_router = c.train.train_router;
    auto student = std::make_shared<SpeechLmPolicy>(so);
    SpeechLmPolicyOptions to;
    to.folder = teacherDir;
    to.dtype = dtypeFor(c.train.dtype, tdev);
    to.device = tdev;
    auto teacher = std::make_shared<SpeechLmPolicy>(to);

    // Compatibility gate (model-formats.md §12): refuse a pair whose shared range disagrees.
    const auto report = model::checkCompatibility(teacher->vocabSide("teacher"), student->vocabSide("student"));
    XOPD_CHECK(report.compatible, "teacher '" << teacherDir << "' and student '" << studentDir
                                              << "' cannot be distilled:\n" << report.text());
    for (auto* p : {student.get(), teacher.get()}) {
        auto comp = torch::ones({p->vocabSize()}, torch::kBool);
        for (int64_t id : report.alignment.maskedIds(p->vocabSize())) comp[id] = false;
        p->setComparableIds(comp);
    }
    const auto set = data::loadPromptSet(manifest);
    for (const auto& item : set.items) {
        if (!c.data.split.empty() && item.split != c.data.split) continue;
        m->prompts.push_back(item);
    }
    XOPD_CHECK(!m->prompts.empty(), "'" << manifest << "': no prompts in split '" << c.data.split << "'");
    m->student = student;
    m->teacher = teacher;
    m->student_parameters = student->parameterCount();
    m->teacher_parameters = teacher->parameterCount();
    m->student_dir = studentDir;
    m->teacher_dir = teacherDir;
    m->manifest = manifest;
    return m;
}

}  // namespace

std::shared_ptr<RunModels> makeRunModels(const DistillConfig& config) {
    // Before any model loads: LibTorch's own "no CUDA" error is a page of C++ backtrace.
    checkDeviceAvailable(config.train.device, "train.device");
    if (!config.train.teacher_device.empty()) checkDeviceAvailable(config.train.teacher_device, "train.teacher_device");
    if (config.student.kind == ModelSourceKind::Toy) {
        auto m = std::make_shared<RunModels>();
        ToyPolicyOptions o;
        m->student = std::make_shared<ToyPolicy>(o, /*student=*/true);
        m->teacher = std::make_shared<ToyPolicy>(o, /*student=*/false);
        m->prompts = toyPrompts(config.data.toy_prompts);
        m->fingerprints["student"] = {{"kind", "toy"}, {"teacher_seed", o.teacher_seed}, {"student_seed", o.student_seed}};
        m->fingerprints["teacher"] = {{"kind", "toy"}, {"teacher_seed", o.teacher_seed}};
        m->fingerprints["data"] = {{"kind", "toy"}, {"prompts", config.data.toy_prompts}};
        return m;
    }
    if (config.student.kind == ModelSourceKind::Demo) {
        const auto kit = demokit::openDemoKit(config.student.path.empty() ? demokit::defaultDemoKitPath() : config.student.path);
        const std::string manifest = config.data.manifest.empty() ? kit.train_manifest : config.data.manifest;
        return realModels(config, kit.student_dir, kit.teacher_dir, manifest);
    }
    XOPD_CHECK(!config.data.manifest.empty(), "field 'data.manifest': required for hf models");
    return realModels(config, config.student.path, config.teacher.path, config.data.manifest);
}

}  // namespace xopd::distill
