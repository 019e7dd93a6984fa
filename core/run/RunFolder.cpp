#include "core/run/RunFolder.h"

#include "core/common/Clock.h"
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/common/Version.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunStore.h"
#include "core/run/TensorBoardWriter.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cmath>
#include <ctime>
#include <filesystem>

namespace xopd::run {

namespace fs = std::filesystem;

namespace {

/// The run id of a folder: its normalised name.
std::string runIdOf(const std::string& dir) { return fs::absolute(dir).lexically_normal().filename().string(); }

/// Creates `dir` (and parents) for a new run; refuses one that already holds a run.
void prepareNewRun(const RunFolder& f, const char* hint) {
    XOPD_CHECK(!f.holdsRun(), "'" << f.dir() << "': already holds a run " << hint);
    f.createFolder();
}

double numberOr(const nlohmann::json& j, const char* key, double fallback) {
    return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
}

std::string stringOr(const nlohmann::json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

const nlohmann::json& objectOr(const nlohmann::json& j, const char* key) {
    static const nlohmann::json empty = nlohmann::json::object();
    return j.is_object() && j.contains(key) && j[key].is_object() ? j[key] : empty;
}

distill::ModelSource sourceOf(const nlohmann::json& j) {
    distill::ModelSource s;
    s.kind = distill::parseModelSourceKind(stringOr(j, "kind"));
    s.path = stringOr(j, "path");
    return s;
}

void flatten(const nlohmann::json& v, const std::string& prefix, std::map<std::string, std::string>& out) {
    if (v.is_object()) {
        for (auto it = v.begin(); it != v.end(); ++it) flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    } else if (v.is_string()) {
        out[prefix] = v.get<std::string>();
    } else if (v.is_number_float()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.10g", v.get<double>());
        out[prefix] = buf;
    } else {
        out[prefix] = v.dump();  // integers, booleans, null, arrays (compact JSON)
    }
}

}  // namespace

RunFolderLock::RunFolderLock(const std::string& dir) {
    const std::string path = (fs::path(dir) / kLockFile).string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    XOPD_CHECK(fd_ >= 0, "'" << path << "': cannot create the run folder's lock (" << std::strerror(errno) << ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char buf[32] = {};
        const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
        ::close(fd_);
        fd_ = -1;
        XOPD_CHECK(err == EWOULDBLOCK, "'" << path << "': cannot lock (" << std::strerror(err) << ")");
        const std::string holder = n > 0 ? std::string(buf, size_t(n)) : std::string("?");
        XOPD_FAIL("'" << dir << "': run folder in use by process " << holder.substr(0, holder.find_first_of("\n "))
                      << " (it is being written by another run; wait until it stops, or open it read-only to follow it)");
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
        // The lock holds without the pid; only the refusal message of a second writer is poorer.
    }
}

RunFolderLock::~RunFolderLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
}

RunFolder::RunFolder(std::string dir) : dir_(std::move(dir)) {}

std::string RunFolder::runJsonPath() const { return (fs::path(dir_) / kRunJsonFile).string(); }
std::string RunFolder::metricsPath() const { return (fs::path(dir_) / kMetricsFile).string(); }
std::string RunFolder::checkpointsPath() const { return (fs::path(dir_) / kCheckpointsFolder).string(); }

bool RunFolder::holdsRun() const {
    std::error_code ec;
    return fs::is_regular_file(runJsonPath(), ec);
}

void RunFolder::requireRun() const {
    XOPD_CHECK(holdsRun(), "'" << dir_ << "': not a run folder (no '" << runJsonPath() << "')");
}

nlohmann::json RunFolder::readRunJson() const {
    requireRun();
    auto j = readJsonFile(runJsonPath());
    XOPD_CHECK(j.is_object(), "'" << runJsonPath() << "': not a JSON object");
    return j;
}

void RunFolder::createFolder() const {
    XOPD_CHECK(!dir_.empty(), "run folder: no path given");
    std::error_code ec;
    fs::create_directories(dir_, ec);
    XOPD_CHECK(!ec, "'" << dir_ << "': cannot create (" << ec.message() << ")");
}

bool RunFolder::holdsEmptyRun() const {
    if (!holdsRun()) return false;
    if (!listCheckpoints(dir_).empty()) return false;
    std::error_code ec;
    if (!fs::exists(metricsPath(), ec)) return true;
    try {
        return RunReader(dir_).lastStep() == 0;
    } catch (const Error&) {
        return false;  // an unreadable store is not replaced: someone should look at it
    }
}

std::string RunFolder::create(const distill::DistillConfig& config) const {
    if (holdsEmptyRun()) {
        // A run that never recorded a step (it failed to start): a corrected run takes its place.
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(metricsPath() + suffix, ec);
        fs::remove(fs::path(dir_) / kLogFile, ec);
        fs::remove_all(fs::path(dir_) / TensorBoardWriter::kFolder, ec);  // its log holds only the failed start
        fs::remove(runJsonPath(), ec);
    }
    prepareNewRun(*this, "(use --resume to continue it, or choose another folder)");
    const std::string id = runIdOf(dir_);
    nlohmann::json j;
    j["schema"] = 1;
    j["run_id"] = id;
    j["created"] = utcTimestamp();
    j["created_unix_s"] = nowUnixSeconds();
    j["program"] = {{"name", "xopd"}, {"version", kVersion}};
    j["config"] = distill::toJson(config);
    j["fingerprints"] = nlohmann::json::object();
    writeJsonFileAtomic(runJsonPath(), j);
    return id;
}

std::string RunFolder::createFork(const RunFolder& parent, int64_t step) const {
    nlohmann::json j = parent.readRunJson();
    prepareNewRun(*this, "; choose another folder");
    const std::string id = runIdOf(dir_);
    const std::string parentId = j.value("run_id", runIdOf(parent.dir()));
    j["run_id"] = id;
    j["created"] = utcTimestamp();
    j["created_unix_s"] = nowUnixSeconds();
    j["parent"] = {{"run_id", parentId}, {"dir", fs::absolute(parent.dir()).lexically_normal().string()}, {"step", step}};
    writeJsonFileAtomic(runJsonPath(), j);
    return id;
}

distill::DistillConfig RunFolder::readConfig() const {
    const auto j = readRunJson();
    const std::string path = runJsonPath();
    XOPD_CHECK(j.contains("config"), "'" << path << "': field 'config' is missing");
    auto config = distill::distillConfigFromJson(j["config"], path);
    config.validate(path);
    return config;
}

RunInfo RunFolder::readInfo() const {
    const auto j = readRunJson();
    RunInfo info;
    info.run_id = stringOr(j, "run_id");
    if (info.run_id.empty()) info.run_id = runIdOf(dir_);
    info.created_unix_s = numberOr(j, "created_unix_s", 0.0);
    const auto& c = objectOr(j, "config");
    info.method = stringOr(objectOr(c, "loss"), "method");
    info.max_steps = int64_t(numberOr(objectOr(c, "train"), "max_steps", 0.0));
    info.lambda = numberOr(objectOr(c, "loss"), "lambda", std::nan(""));
    info.lr = numberOr(objectOr(c, "train"), "lr", std::nan(""));
    info.student = sourceOf(objectOr(c, "student"));
    info.teacher = sourceOf(objectOr(c, "teacher"));
    const auto& p = objectOr(j, "parent");
    if (!p.empty()) info.parent = RunParent{stringOr(p, "run_id"), stringOr(p, "dir"), int64_t(numberOr(p, "step", 0.0))};
    return info;
}

std::map<std::string, std::string> RunFolder::flatConfig() const {
    std::map<std::string, std::string> out;
    flatten(objectOr(readRunJson(), "config"), {}, out);
    return out;
}

std::unique_ptr<RunFolderLock> RunFolder::lockForWriting() const { return std::make_unique<RunFolderLock>(dir_); }

nlohmann::json RunFolder::fingerprints() const { return objectOr(readRunJson(), "fingerprints"); }

void RunFolder::writeFingerprints(const nlohmann::json& fingerprints) const {
    auto j = readRunJson();
    j["fingerprints"] = fingerprints;
    writeJsonFileAtomic(runJsonPath(), j);
}

}  // namespace xopd::run
