#include "core/distill/RunModels.h"

#include "core/common/Error.h"
#include "core/common/TorchRuntime.h"
#include "core/demokit/DemoKit.h"
#include "core/data/PromptSet.h"
#include "core/distill/RemoteTeacher.h"
#include "core/distill/SpeechLmPolicy.h"
#include "core/distill/ToyPolicy.h"
#include "core/model/runtime/VocabAlignment.h"

#include "core/serve/TeacherWire.h"

#include <cstdlib>
#include <filesystem>
#include <functional>

namespace xopd::distill {
namespace {

/// The served teacher's client options; the key is read from its environment variable here.
RemoteTeacherOptions servedTeacherOptions(const DistillConfig& c, const std::string& tokenizerFolder) {
    const auto& st = c.served_teacher;
    RemoteTeacherOptions o;
    o.tokenizer_folder = tokenizerFolder;
    o.client.url = st.url;
    o.client.api = serve::parseTeacherApi(st.api);
    o.client.model = st.served_model;
    o.client.timeout_s = st.timeout_s;
    o.client.retries = st.retries;
    o.client.concurrency = st.concurrency;
    if (!st.api_key_env.empty()) {
        const char* key = std::getenv(st.api_key_env.c_str());
        XOPD_CHECK(key && *key, "teacher.api_key_env: the environment variable '" << st.api_key_env
                                                                                 << "' that should hold the teacher's key is not set");
        o.client.api_key = key;
    }
    return o;
}

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
    std::shared_ptr<Policy> teacher;
    model::VocabSide teacherSide;
    std::function<void(const torch::Tensor&)> setTeacherComparable;
    if (!c.served_teacher.url.empty()) {
        auto remote = std::make_shared<RemoteTeacher>(servedTeacherOptions(c, teacherDir));
        teacherSide = remote->vocabSide("teacher");
        setTeacherComparable = [remote](const torch::Tensor& comp) { remote->setComparableIds(comp); };
        teacher = remote;
    } else {
        SpeechLmPolicyOptions to;
        to.folder = teacherDir;
        to.dtype = dtypeFor(c.train.dtype, tdev);
        to.device = tdev;
        auto local = std::make_shared<SpeechLmPolicy>(to);
        teacherSide = local->vocabSide("teacher");
        setTeacherComparable = [local](const torch::Tensor& comp) { local->setComparableIds(comp); };
        m->teacher_parameters = local->parameterCount();
        teacher = local;
    }

    // Compatibility gate (model-formats.md §12): refuse a pair whose shared range disagrees.
    const auto report = model::checkCompatibility(teacherSide, student->vocabSide("student"));
    XOPD_CHECK(report.compatible, "teacher '" << teacherDir << "' and student '" << studentDir
                                              << "' cannot be distilled:\n" << report.text());
    auto comparableOf = [&](int64_t V) {
        auto comp = torch::ones({V}, torch::kBool);
        for (int64_t id : report.alignment.maskedIds(V)) comp[id] = false;
        return comp;
    };
    student->setComparableIds(comparableOf(student->vocabSize()));
    setTeacherComparable(comparableOf(teacher->vocabSize()));
    const auto set = data::loadPromptSet(manifest);
    for (const auto& item : set.items) {
        if (!c.data.split.empty() && item.split != c.data.split) continue;
        m->prompts.push_back(item);
    }
    XOPD_CHECK(!m->prompts.empty(), "'" << manifest << "': no prompts in split '" << c.data.split << "'");
    m->student = student;
    m->teacher = teacher;
    m->student_parameters = student->parameterCount();
    m->student_dir = studentDir;
    if (c.served_teacher.url.empty()) {
        m->teacher_dir = teacherDir;
    } else {
        // The weights live on the server: run.json records where, and the local tokenizer's hash
        // (the model card is checked against it before the first step). No memory here.
        m->teacher_parameters = 1;
        m->fingerprints["teacher"] = {{"url", c.served_teacher.url},
                                      {"api", c.served_teacher.api},
                                      {"served_model", c.served_teacher.served_model},
                                      {"tokenizer_folder", teacherDir},
                                      {"tokenizer_sha256", serve::tokenizerSha256(teacherDir)}};
    }
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
