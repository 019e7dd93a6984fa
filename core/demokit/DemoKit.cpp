#include "core/demokit/DemoKit.h"

#include "core/common/Error.h"
#include "core/demokit/DemoKitPaths.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace xopd::demokit {

namespace fs = std::filesystem;

std::string defaultDemoKitPath() {
    if (const char* env = std::getenv("XOPD_DEMO_KIT"); env && *env) return env;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path installed = exe.parent_path().parent_path() / "share" / "xopd" / "demo-kit";
        if (fs::is_regular_file(installed / "kit.json", ec)) return installed.string();
    }
    return XOPD_DEMO_KIT_SOURCE_DIR;
}

DemoKit openDemoKit(const std::string& root) {
    const fs::path r = fs::absolute(fs::path(root)).lexically_normal();
    DemoKit kit;
    kit.root = r.string();
    kit.kit_json = (r / "kit.json").string();
    kit.teacher_dir = (r / "teacher").string();
    kit.student_dir = (r / "student").string();
    kit.train_manifest = (r / "prompts" / "train.jsonl").string();
    kit.eval_manifest = (r / "prompts" / "eval.jsonl").string();
    std::error_code ec;
    for (const auto& f : {kit.kit_json, kit.teacher_dir + "/config.json", kit.teacher_dir + "/model.safetensors",
                          kit.student_dir + "/config.json", kit.student_dir + "/model.safetensors",
                          kit.train_manifest, kit.eval_manifest})
        XOPD_CHECK(fs::is_regular_file(f, ec), "demo kit '" << kit.root << "': '" << f
                                                   << "' is missing (build the kit with `xopd demo-kit build --out "
                                                   << kit.root << "`)");
    return kit;
}

}  // namespace xopd::demokit
