#include "core/run/TensorBoardWriter.h"

#include "core/common/Clock.h"
#include "core/common/Error.h"
#include "core/run/TfRecordWriter.h"
#include "core/run/proto/event.pb.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace xopd::run {
namespace {

namespace pb = xopd::tensorboard;

std::atomic<int> g_file_counter{0};

std::string hostName() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
    return buf;
}

}  // namespace

TensorBoardWriter::TensorBoardWriter(const std::string& dir, bool staging) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    XOPD_CHECK(!ec, "'" << dir << "': cannot create (" << ec.message() << ")");
    const double now = nowUnixSeconds();
    // TensorFlow's name: events.out.tfevents.<seconds>.<host>.<pid>.<counter>. TensorBoard reads a
    // folder's files in name order, and a restart must come after what it replaces: a name that would
    // not sort after every file there (a resume within the same second) takes a later second.
    int64_t seconds = int64_t(now);
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string f = entry.path().filename().string();
        const std::string prefix = "events.out.tfevents.";
        if (f.rfind(prefix, 0) != 0) continue;
        try {
            seconds = std::max<int64_t>(seconds, int64_t(std::stoll(f.substr(prefix.size()))) + 1);
        } catch (const std::exception&) {
        }
    }
    std::ostringstream name;
    name << "events.out.tfevents." << seconds << "." << hostName() << "." << ::getpid() << "." << g_file_counter++;
    final_path_ = (fs::path(dir) / name.str()).string();
    const std::string path = staging ? (fs::path(dir) / (".staging-" + std::to_string(::getpid()) + "-" + name.str().substr(20))).string()
                                     : final_path_;
    file_ = std::make_unique<TfRecordWriter>(path, staging);
    pb::Event e;
    e.set_wall_time(now);
    e.set_file_version("brain.Event:2");
    append(e.SerializeAsString());
}

TensorBoardWriter::~TensorBoardWriter() = default;

void TensorBoardWriter::append(const std::string& serialized_event) { file_->append(serialized_event); }

void TensorBoardWriter::writeStep(const StepMetrics& m) {
    pb::Event e;
    e.set_wall_time(m.unix_time_s > 0 ? m.unix_time_s : nowUnixSeconds());
    e.set_step(m.step);
    auto* summary = e.mutable_summary();
    for (const auto& [name, value] : m.scalars) {
        if (!std::isfinite(value)) continue;
        auto* v = summary->add_value();
        v->set_tag(name);
        v->set_simple_value(float(value));
    }
    append(e.SerializeAsString());
}

bool TensorBoardWriter::writeRunEvent(const RunEventRecord& r) {
    if (r.kind == event_kind::kLog || r.kind == event_kind::kPlan) return false;
    std::string text;
    if (r.kind == event_kind::kState) text = r.name + (r.message.empty() ? "" : ": " + r.message);
    else text = r.message.empty() ? r.name : r.message;
    writeText(r.step, r.unix_time_s, "events/" + r.kind, text);
    return true;
}

void TensorBoardWriter::writeText(int64_t step, double unix_time_s, const std::string& tag, const std::string& text) {
    pb::Event e;
    e.set_wall_time(unix_time_s > 0 ? unix_time_s : nowUnixSeconds());
    e.set_step(step);
    auto* v = e.mutable_summary()->add_value();
    v->set_tag(tag);
    // The text plugin's metadata: plugin "text", content a TextPluginData{version 0} (empty bytes).
    v->mutable_metadata()->mutable_plugin_data()->set_plugin_name("text");
    auto* t = v->mutable_tensor();
    t->set_dtype(pb::DT_STRING);
    t->mutable_tensor_shape();  // no dims: a scalar
    t->add_string_val(text);
    append(e.SerializeAsString());
}

void TensorBoardWriter::writeSessionStart(int64_t step, double unix_time_s) {
    pb::Event e;
    e.set_wall_time(unix_time_s > 0 ? unix_time_s : nowUnixSeconds());
    e.set_step(step);
    e.mutable_session_log()->set_status(pb::SessionLog::START);
    append(e.SerializeAsString());
}

void TensorBoardWriter::commit() { file_->commitAs(final_path_); }

bool TensorBoardWriter::holdsEventFiles(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return false;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().filename().string().find("tfevents") != std::string::npos) return true;
    return false;
}

}  // namespace xopd::run
