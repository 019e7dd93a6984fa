#include "core/session/CheckpointAsk.h"

#include "core/common/Error.h"
#include "core/demokit/DemoKit.h"
#include "core/run/RunFolder.h"

#include <filesystem>

namespace xopd::session {

namespace fs = std::filesystem;

distill::DistillConfig checkpointAskConfig(const std::string& run_dir, const std::string& ckpt,
                                           const distill::DistillConfig& machine) {
    using distill::ModelSourceKind;
    distill::DistillConfig c = run::RunFolder(run_dir).readConfig();

    std::error_code ec;
    XOPD_CHECK(c.student.kind != ModelSourceKind::Toy, "'" << ckpt << "': a toy-model run's checkpoint holds toy weights, "
                                                       "not a model folder; ask with the base toy student instead");
    XOPD_CHECK(!fs::exists(fs::path(ckpt) / "adapter_config.json", ec),
               "'" << ckpt << "': a LoRA checkpoint is an adapter, not a whole model; Ask loads full checkpoints only");
    XOPD_CHECK(fs::is_regular_file(fs::path(ckpt) / "config.json", ec),
               "'" << ckpt << "': no config.json (not a Hugging Face model folder)");

    if (c.student.kind == ModelSourceKind::Demo) {
        // A demo-kit run: the kit's teacher and prompts, named as folders (the student is replaced).
        const auto kit = demokit::openDemoKit(c.student.path.empty() ? demokit::defaultDemoKitPath() : c.student.path);
        c.teacher = {ModelSourceKind::Hf, kit.teacher_dir};
        if (c.data.manifest.empty()) c.data.manifest = kit.train_manifest;
    }
    c.student = {ModelSourceKind::Hf, ckpt};
    c.train.device = machine.train.device;
    c.train.teacher_device = machine.train.teacher_device;
    c.train.dtype = machine.train.dtype;
    c.validate("ask with checkpoint '" + ckpt + "'");
    return c;
}

}  // namespace xopd::session
