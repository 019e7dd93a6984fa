#include "widgets/main/CheckpointAskConfig.h"

#include "core/common/Error.h"
#include "core/demokit/DemoKit.h"
#include "core/run/RunController.h"
#include "core/run/RunFolder.h"

#include <QDir>
#include <QFileInfo>

namespace xopd::widgets {

distill::DistillConfig checkpointAskConfig(const QString& runDir, const QString& checkpointDir,
                                           const distill::DistillConfig& machine) {
    distill::DistillConfig c = run::RunFolder(runDir.toStdString()).readConfig();

    const std::string ckpt = checkpointDir.toStdString();
    XOPD_CHECK(c.student.kind != distill::ModelSourceKind::Toy, "'" << ckpt << "': a toy-model run's checkpoint holds toy weights, not a model "
                                            "folder; ask with the base toy student instead");
    XOPD_CHECK(!QFileInfo::exists(QDir(checkpointDir).filePath("adapter_config.json")),
               "'" << ckpt << "': a LoRA checkpoint is an adapter, not a whole model; Ask loads full checkpoints only");
    XOPD_CHECK(QFileInfo(QDir(checkpointDir).filePath("config.json")).isFile(),
               "'" << ckpt << "': no config.json (not a Hugging Face model folder)");

    if (c.student.kind == distill::ModelSourceKind::Demo) {
        // A demo-kit run: the kit's teacher and prompts, named as folders (the student is replaced).
        const auto kit = demokit::openDemoKit(c.student.path.empty() ? demokit::defaultDemoKitPath() : c.student.path);
        c.teacher = {distill::ModelSourceKind::Hf, kit.teacher_dir};
        if (c.data.manifest.empty()) c.data.manifest = kit.train_manifest;
    }
    c.student = {distill::ModelSourceKind::Hf, ckpt};
    c.train.device = machine.train.device;
    c.train.teacher_device = machine.train.teacher_device;
    c.train.dtype = machine.train.dtype;
    c.validate("ask with checkpoint '" + ckpt + "'");
    return c;
}

}  // namespace xopd::widgets
