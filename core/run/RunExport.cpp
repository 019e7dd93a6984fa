#include "core/run/RunExport.h"

#include "core/common/AtomicFile.h"
#include "core/common/Error.h"
#include "core/run/RunStore.h"
#include "core/run/TensorBoardWriter.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace xopd::run {
namespace {

/// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string number(double v) {
    if (!std::isfinite(v)) return "";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

}  // namespace

void writeRunHistory(const std::string& run_dir, TensorBoardWriter& writer) {
    RunReader reader(run_dir);
    const auto steps = reader.stepsSince(0);
    const auto events = reader.eventsSince(0);
    // Merge by time, steps before events of the same instant.
    size_t i = 0, j = 0;
    while (i < steps.size() || j < events.size()) {
        if (j == events.size() || (i < steps.size() && steps[i].unix_time_s <= events[j].unix_time_s)) writer.writeStep(steps[i++]);
        else writer.writeRunEvent(events[j++]);
    }
}

std::string exportTensorBoard(const std::string& run_dir, const std::string& out_dir) {
    const std::string dir = out_dir.empty() ? (fs::path(run_dir) / TensorBoardWriter::kFolder).string() : out_dir;
    RunReader probe(run_dir);  // a clear error for a folder that is not a run, before anything is created
    XOPD_CHECK(!TensorBoardWriter::holdsEventFiles(dir),
               "'" << dir << "': already holds TensorBoard event files; give another folder (--out DIR)");
    TensorBoardWriter writer(dir, /*staging=*/true);
    writeRunHistory(run_dir, writer);
    writer.commit();
    return writer.path();
}

std::string exportCsv(const std::string& run_dir, const std::string& out_file) {
    const std::string path = out_file.empty() ? (fs::path(run_dir) / "metrics.csv").string() : out_file;
    RunReader reader(run_dir);
    const auto steps = reader.stepsSince(0);
    std::set<std::string> names;
    for (const auto& s : steps)
        for (const auto& [k, v] : s.scalars) names.insert(k);
    std::ostringstream out;
    out << "step,wall_time_s,unix_time_s";
    for (const auto& n : names) out << "," << csvField(n);
    out << "\n";
    for (const auto& s : steps) {
        out << s.step << "," << number(s.wall_time_s) << "," << number(s.unix_time_s);
        for (const auto& n : names) {
            const auto it = s.scalars.find(n);
            out << "," << (it == s.scalars.end() ? "" : number(it->second));
        }
        out << "\n";
    }
    const std::string text = out.str();
    AtomicFile f(path);
    f.write(text.data(), text.size());
    f.commit();
    return path;
}

}  // namespace xopd::run
