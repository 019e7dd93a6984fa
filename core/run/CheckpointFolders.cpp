#include "core/run/CheckpointFolders.h"

#include "core/common/Error.h"
#include "core/common/Json.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace xopd::run {
namespace {

void fsyncPath(const fs::path& p) {
    const int fd = ::open(p.c_str(), O_RDONLY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

}  // namespace

std::string checkpointName(int64_t step) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "step-%06lld", static_cast<long long>(step));
    return buf;
}

int64_t checkpointStep(const std::string& name) {
    if (name.rfind("step-", 0) != 0 || name.size() < 6) return -1;
    const std::string digits = name.substr(5);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
    return std::stoll(digits);
}

std::string beginCheckpoint(const std::string& run_dir, int64_t step) {
    const fs::path root = fs::path(run_dir) / kCheckpointsFolder;
    std::error_code ec;
    fs::create_directories(root, ec);
    XOPD_CHECK(!ec, "'" << root.string() << "': cannot create (" << ec.message() << ")");
    removeCheckpointLeftovers(run_dir);
    const fs::path tmp = root / (".tmp-" + checkpointName(step) + "-" + std::to_string(::getpid()));
    fs::create_directories(tmp, ec);
    XOPD_CHECK(!ec, "'" << tmp.string() << "': cannot create (" << ec.message() << ")");
    return tmp.string();
}

void removeCheckpointLeftovers(const std::string& run_dir) {
    const fs::path root = fs::path(run_dir) / kCheckpointsFolder;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return;
    for (const auto& e : fs::directory_iterator(root, ec))
        if (e.path().filename().string().rfind(".tmp-", 0) == 0) fs::remove_all(e.path(), ec);
}

std::string commitCheckpoint(const std::string& run_dir, const std::string& tmp_dir, int64_t step, int64_t keep) {
    const fs::path root = fs::path(run_dir) / kCheckpointsFolder;
    const fs::path final = root / checkpointName(step);
    for (const auto& e : fs::directory_iterator(tmp_dir)) fsyncPath(e.path());
    fsyncPath(tmp_dir);
    std::error_code ec;
    if (fs::exists(final)) {
        // Same step written again (stop right after a periodic checkpoint): move the old one aside.
        const fs::path old = root / (".tmp-old-" + checkpointName(step));
        fs::remove_all(old, ec);
        fs::rename(final, old, ec);
        XOPD_CHECK(!ec, "'" << final.string() << "': cannot replace (" << ec.message() << ")");
        fs::rename(tmp_dir, final, ec);
        XOPD_CHECK(!ec, "'" << final.string() << "': cannot rename into place (" << ec.message() << ")");
        fs::remove_all(old, ec);
    } else {
        fs::rename(tmp_dir, final, ec);
        XOPD_CHECK(!ec, "'" << final.string() << "': cannot rename into place (" << ec.message() << ")");
    }
    fsyncPath(root);
    writeLatestCheckpoint(run_dir, step);
    if (keep > 0) {
        auto all = listCheckpoints(run_dir);
        while (int64_t(all.size()) > keep) {
            if (fs::path(all.front()) != final) fs::remove_all(all.front(), ec);
            all.erase(all.begin());
        }
    }
    return final.string();
}

std::vector<std::string> listCheckpoints(const std::string& run_dir) {
    const fs::path root = fs::path(run_dir) / kCheckpointsFolder;
    std::vector<std::pair<int64_t, std::string>> found;
    if (!fs::is_directory(root)) return {};
    for (const auto& e : fs::directory_iterator(root)) {
        const int64_t s = checkpointStep(e.path().filename().string());
        if (s >= 0 && e.is_directory()) found.emplace_back(s, e.path().string());
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> out;
    for (auto& f : found) out.push_back(f.second);
    return out;
}

void writeLatestCheckpoint(const std::string& run_dir, int64_t step) {
    writeFileAtomic((fs::path(run_dir) / kCheckpointsFolder / kLatestFile).string(), checkpointName(step) + "\n");
}

std::string latestCheckpointName(const std::string& run_dir) {
    std::ifstream in(fs::path(run_dir) / kCheckpointsFolder / kLatestFile);
    std::string name;
    if (in) std::getline(in, name);
    return name;
}

std::string latestCheckpoint(const std::string& run_dir) {
    const fs::path root = fs::path(run_dir) / kCheckpointsFolder;
    const std::string name = latestCheckpointName(run_dir);
    if (checkpointStep(name) >= 0 && fs::is_directory(root / name)) return (root / name).string();
    const auto all = listCheckpoints(run_dir);
    return all.empty() ? std::string() : all.back();
}

}  // namespace xopd::run
