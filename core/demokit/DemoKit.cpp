#include "core/demokit/DemoKit.h"

#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/demokit/DemoKitPaths.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace xopd::demokit {

namespace fs = std::filesystem;

namespace {

/// True when `exe` lies inside this build's tree (a developer's build, not an installed copy).
bool inBuildTree(const fs::path& exe) {
    std::error_code ec;
    const fs::path build = fs::weakly_canonical(XOPD_BUILD_DIR, ec);
    if (ec) return false;
    const auto [b, e] = std::mismatch(build.begin(), build.end(), exe.begin(), exe.end());
    return b == build.end();
}

/// $XDG_DATA_HOME/xopd/demo-kit, else ~/.local/share/xopd/demo-kit ("" without either variable).
std::string userDemoKitPath() {
    if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data == '/')
        return (fs::path(data) / "xopd" / "demo-kit").string();
    if (const char* home = std::getenv("HOME"); home && *home)
        return (fs::path(home) / ".local" / "share" / "xopd" / "demo-kit").string();
    return {};
}

}  // namespace

std::string defaultDemoKitPath() {
    if (const char* env = std::getenv("XOPD_DEMO_KIT"); env && *env) return env;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path installed = exe.parent_path().parent_path() / "share" / "xopd" / "demo-kit";
        if (fs::is_regular_file(installed / "kit.json", ec)) return installed.string();
        if (!inBuildTree(exe))
            if (std::string user = userDemoKitPath(); !user.empty()) return user;
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
    kit.teacher_large_dir = (r / "teacher-large").string();
    kit.probe_manifest = (r / "prompts" / "probe.jsonl").string();
    const std::string rebuild = "build the kit with `xopd demo-kit build --out " + kit.root + "`";
    std::error_code ec;
    XOPD_CHECK(fs::is_regular_file(kit.kit_json, ec), "demo kit '" << kit.root << "': '" << kit.kit_json << "' is missing (" << rebuild << ")");
    nlohmann::json info;
    try {
        info = readJsonFile(kit.kit_json);
    } catch (const Error& e) {
        XOPD_FAIL("demo kit '" << kit.root << "': " << e.what() << " (" << rebuild << ")");
    }
    const auto version = info.is_object() && info.contains("version") && info["version"].is_number_integer()
                             ? info["version"].get<int>()
                             : 0;
    XOPD_CHECK(version == kDemoKitVersion,
               "demo kit '" << kit.root << "': '" << kit.kit_json << "' is "
                            << (version == 0 ? std::string("not a versioned kit.json") : "kit version " + std::to_string(version))
                            << "; this xopd reads kit version " << kDemoKitVersion << ": rebuild it with `xopd demo-kit build --out "
                            << kit.root << "`");
    for (const auto& f : {kit.teacher_dir + "/config.json", kit.teacher_dir + "/model.safetensors",
                          kit.student_dir + "/config.json", kit.student_dir + "/model.safetensors",
                          kit.train_manifest, kit.eval_manifest})
        XOPD_CHECK(fs::is_regular_file(f, ec), "demo kit '" << kit.root << "': '" << f
                                                   << "' is missing (" << rebuild << ")");
    return kit;
}

}  // namespace xopd::demokit
