#include "core/run/RunStore.h"

#include "core/common/Clock.h"
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/run/CheckpointFolders.h"
#include "core/run/RunExport.h"
#include "core/run/TensorBoardWriter.h"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

namespace fs = std::filesystem;

namespace xopd::run {
namespace {

std::string quoteIdent(const std::string& name) {
    std::string q = "\"";
    for (char c : name) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

/// SQLite's message, with "disk full" first when the device is (SQLITE_FULL), as AtomicFile says it.
std::string sqliteError(sqlite3* db) {
    const std::string msg = sqlite3_errmsg(db);
    return sqlite3_errcode(db) == SQLITE_FULL ? "disk full: " + msg : msg;
}

/// Prepared statement with RAII finalize and errors naming the database.
class Stmt {
public:
    Stmt(sqlite3* db, const std::string& path, const std::string& sql) : db_(db), path_(path) {
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr) != SQLITE_OK)
            XOPD_FAIL("'" << path << "': " << sqlite3_errmsg(db) << " (in: " << sql << ")");
    }
    ~Stmt() { sqlite3_finalize(st_); }
    Stmt& bind(int i, int64_t v) { return check(sqlite3_bind_int64(st_, i, v)); }
    Stmt& bind(int i, double v) {
        return check(std::isfinite(v) ? sqlite3_bind_double(st_, i, v) : sqlite3_bind_null(st_, i));
    }
    Stmt& bind(int i, const std::string& v) {
        return check(sqlite3_bind_text(st_, i, v.data(), int(v.size()), SQLITE_TRANSIENT));
    }
    /// Returns true while a row is available.
    bool step() {
        const int rc = sqlite3_step(st_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        XOPD_FAIL("'" << path_ << "': " << sqliteError(db_));
    }
    void reset() {
        sqlite3_reset(st_);
        sqlite3_clear_bindings(st_);
    }
    int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
    double dbl(int c) const {
        return sqlite3_column_type(st_, c) == SQLITE_NULL ? std::nan("") : sqlite3_column_double(st_, c);
    }
    std::string str(int c) const {
        const auto* t = sqlite3_column_text(st_, c);
        return t ? std::string(reinterpret_cast<const char*>(t), size_t(sqlite3_column_bytes(st_, c))) : std::string();
    }
    int columns() const { return sqlite3_column_count(st_); }
    std::string columnName(int c) const { return sqlite3_column_name(st_, c); }
    bool isNull(int c) const { return sqlite3_column_type(st_, c) == SQLITE_NULL; }

private:
    Stmt& check(int rc) {
        if (rc != SQLITE_OK) XOPD_FAIL("'" << path_ << "': " << sqliteError(db_));
        return *this;
    }
    sqlite3* db_;
    std::string path_;
    sqlite3_stmt* st_ = nullptr;
};

std::string topkJson(const std::vector<std::pair<int32_t, float>>& v) {
    if (v.empty()) return "";
    nlohmann::json j = nlohmann::json::array();
    for (const auto& [id, lp] : v) j.push_back({id, lp});
    return j.dump();
}

std::vector<std::pair<int32_t, float>> parseTopk(const std::string& s) {
    std::vector<std::pair<int32_t, float>> out;
    if (s.empty()) return out;
    const auto j = nlohmann::json::parse(s, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& e : j)
        if (e.is_array() && e.size() == 2) out.emplace_back(e[0].get<int32_t>(), e[1].get<float>());
    return out;
}

const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS steps(step INTEGER PRIMARY KEY, wall_time_s REAL, unix_time_s REAL, json TEXT);
CREATE TABLE IF NOT EXISTS tokens(step INTEGER NOT NULL, sample INTEGER NOT NULL, position INTEGER NOT NULL,
  stream TEXT, prompt_id TEXT, token_id INTEGER, text TEXT, student_lp REAL, teacher_lp REAL, advantage REAL,
  student_other_lp REAL, entropy REAL, masked INTEGER, student_topk TEXT, teacher_topk TEXT,
  PRIMARY KEY(step, sample, position)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS samples(step INTEGER NOT NULL, sample INTEGER NOT NULL, stream TEXT, prompt_id TEXT,
  prompt_text TEXT, response_text TEXT, length INTEGER, eos INTEGER, truncated INTEGER,
  PRIMARY KEY(step, sample)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS evaluations(id INTEGER PRIMARY KEY AUTOINCREMENT, step INTEGER, name TEXT, value REAL,
  json TEXT, unix_time_s REAL);
CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY AUTOINCREMENT, step INTEGER, unix_time_s REAL, kind TEXT,
  name TEXT, value REAL, message TEXT, pid INTEGER);
INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '1');
)SQL";

/// Creates the store file at `path` with its schema, atomically: built under a temporary name and
/// renamed into place, so a reader (the run history scans run folders while runs start) never
/// opens a metrics.sqlite that exists without its tables. A temporary left by a crash is replaced.
void createStoreFile(const std::string& path) {
    const std::string tmp = path + ".creating";
    std::error_code ec;
    const auto removeTemporary = [&] {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(tmp + suffix, ec);
    };
    removeTemporary();
    sqlite3* db = nullptr;
    std::string problem;
    if (sqlite3_open_v2(tmp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        problem = db ? sqlite3_errmsg(db) : "out of memory";
    } else {
        for (const char* sql : {"PRAGMA journal_mode=WAL;", kSchema}) {
            char* err = nullptr;
            if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
                problem = sqlite3_errcode(db) == SQLITE_FULL ? sqliteError(db) : err ? err : "unknown error";
                sqlite3_free(err);
                break;
            }
        }
    }
    sqlite3_close(db);  // the last connection: the WAL is checkpointed into the file and removed
    if (problem.empty()) {
        fs::rename(tmp, path, ec);
        if (ec) problem = "cannot rename '" + tmp + "' into place: " + ec.message();
    }
    if (!problem.empty()) {
        removeTemporary();
        XOPD_FAIL("'" << path << "': cannot create the run store (" << problem << ")");
    }
}

}  // namespace

// ---------------------------------------------------------------- RunStore

RunStore::RunStore(const std::string& run_dir) : path_((fs::path(run_dir) / kMetricsFile).string()), run_dir_(run_dir) {
    XOPD_CHECK(fs::is_directory(run_dir), "'" << run_dir << "': run folder does not exist");
    if (!fs::exists(path_)) createStoreFile(path_);
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        XOPD_FAIL("'" << path_ << "': cannot open (" << msg << ")");
    }
    sqlite3_busy_timeout(db_, 5000);
    try {
        exec("PRAGMA journal_mode=WAL;");
        exec("PRAGMA synchronous=NORMAL;");
        exec(kSchema);
        Stmt info(db_, path_, "PRAGMA table_info(steps)");
        while (info.step()) columns_.insert(info.str(1));
    } catch (...) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

RunStore::~RunStore() {
    tb_.reset();
    if (db_) sqlite3_close(db_);
}

TensorBoardWriter& RunStore::tensorBoard(int64_t start_step) {
    if (tb_) return *tb_;
    const std::string dir = (fs::path(run_dir_) / TensorBoardWriter::kFolder).string();
    const bool fresh = !TensorBoardWriter::holdsEventFiles(dir);
    auto writer = std::make_unique<TensorBoardWriter>(dir);
    if (fresh) writeRunHistory(run_dir_, *writer);
    writer->writeSessionStart(start_step, nowUnixSeconds());
    tb_ = std::move(writer);
    return *tb_;
}

void RunStore::exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string msg = sqlite3_errcode(db_) == SQLITE_FULL ? sqliteError(db_) : err ? err : "unknown error";
        sqlite3_free(err);
        XOPD_FAIL("'" << path_ << "': " << msg);
    }
}

void RunStore::ensureColumn(const std::string& name) {
    if (columns_.count(name)) return;
    exec("ALTER TABLE steps ADD COLUMN " + quoteIdent(name) + " REAL;");
    columns_.insert(name);
}

void RunStore::commitStep(const StepMetrics& m, const std::vector<TokenDivergenceBatch>& tokens,
                          const std::vector<SampleRecord>& samples) {
    auto& tb = tensorBoard(lastStep() + 1);  // before the step is stored: a new log's history must not hold it
    exec("BEGIN IMMEDIATE;");
    try {
        for (const auto& [k, v] : m.scalars) ensureColumn(k);
        {
            std::string cols = "step, wall_time_s, unix_time_s, json", vals = "?, ?, ?, ?";
            for (const auto& [k, v] : m.scalars) {
                cols += ", " + quoteIdent(k);
                vals += ", ?";
            }
            Stmt st(db_, path_, "INSERT OR REPLACE INTO steps(" + cols + ") VALUES(" + vals + ")");
            nlohmann::json j = nlohmann::json::object();
            for (const auto& [k, v] : m.json) j[k] = nlohmann::json::parse(v, nullptr, false);
            st.bind(1, m.step).bind(2, m.wall_time_s).bind(3, m.unix_time_s).bind(4, j.dump());
            int i = 5;
            for (const auto& [k, v] : m.scalars) st.bind(i++, v);
            st.step();
        }
        {
            Stmt st(db_, path_,
                    "INSERT OR REPLACE INTO tokens(step, sample, position, stream, prompt_id, token_id, text, student_lp, "
                    "teacher_lp, advantage, student_other_lp, entropy, masked, student_topk, teacher_topk) "
                    "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
            for (const auto& b : tokens)
                for (const auto& t : b.tokens) {
                    st.bind(1, b.step).bind(2, int64_t(b.sample_index)).bind(3, int64_t(t.position));
                    st.bind(4, b.stream).bind(5, b.prompt_id).bind(6, int64_t(t.token_id)).bind(7, t.text);
                    st.bind(8, double(t.student_logprob)).bind(9, double(t.teacher_logprob)).bind(10, double(t.advantage));
                    st.bind(11, double(t.student_other_logprob)).bind(12, double(t.entropy));
                    st.bind(13, int64_t(t.masked ? 1 : 0)).bind(14, topkJson(t.student_topk)).bind(15, topkJson(t.teacher_topk));
                    st.step();
                    st.reset();
                }
        }
        {
            Stmt st(db_, path_,
                    "INSERT OR REPLACE INTO samples(step, sample, stream, prompt_id, prompt_text, response_text, length, "
                    "eos, truncated) VALUES(?,?,?,?,?,?,?,?,?)");
            for (const auto& s : samples) {
                st.bind(1, s.step).bind(2, int64_t(s.sample_index)).bind(3, s.stream).bind(4, s.prompt_id);
                st.bind(5, s.prompt_text).bind(6, s.response_text).bind(7, int64_t(s.length));
                st.bind(8, int64_t(s.eos ? 1 : 0)).bind(9, int64_t(s.truncated ? 1 : 0));
                st.step();
                st.reset();
            }
        }
        exec("COMMIT;");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
        throw;
    }
    tb.writeStep(m);
}

void RunStore::addEvaluation(const EvaluationRecord& r) {
    Stmt st(db_, path_, "INSERT INTO evaluations(step, name, value, json, unix_time_s) VALUES(?,?,?,?,?)");
    st.bind(1, r.step).bind(2, r.name).bind(3, r.value).bind(4, r.json).bind(5, r.unix_time_s > 0 ? r.unix_time_s : nowUnixSeconds());
    st.step();
}

void RunStore::addEvent(RunEventRecord e) {
    if (e.unix_time_s <= 0) e.unix_time_s = nowUnixSeconds();
    if (e.pid == 0) e.pid = int64_t(::getpid());
    auto& tb = tensorBoard(lastStep() + 1);
    Stmt st(db_, path_, "INSERT INTO events(step, unix_time_s, kind, name, value, message, pid) VALUES(?,?,?,?,?,?,?)");
    st.bind(1, e.step).bind(2, e.unix_time_s).bind(3, e.kind).bind(4, e.name).bind(5, e.value).bind(6, e.message).bind(7, e.pid);
    st.step();
    tb.writeRunEvent(e);
}

void RunStore::deleteAfter(int64_t step) {
    exec("BEGIN IMMEDIATE;");
    try {
        for (const char* table : {"steps", "tokens", "samples", "evaluations"}) {
            Stmt st(db_, path_, std::string("DELETE FROM ") + table + " WHERE step > ?");
            st.bind(1, step);
            st.step();
        }
        exec("COMMIT;");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
        throw;
    }
    // The steps after `step` are recomputed: TensorBoard drops what it read for them at this START
    // (a log opened just now holds only what is left, and starts there).
    const bool opened = tb_ != nullptr;
    auto& tb = tensorBoard(step + 1);
    if (opened) tb.writeSessionStart(step + 1, nowUnixSeconds());
}

int64_t RunStore::lastStep() {
    Stmt st(db_, path_, "SELECT COALESCE(MAX(step), 0) FROM steps");
    return st.step() ? st.i64(0) : 0;
}

// ---------------------------------------------------------------- RunReader

RunReader::RunReader(const std::string& run_dir) : path_((fs::path(run_dir) / kMetricsFile).string()) {
    XOPD_CHECK(fs::exists(path_), "'" << path_ << "': no run store (is '" << run_dir << "' a run folder?)");
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        XOPD_FAIL("'" << path_ << "': cannot open (" << msg << ")");
    }
    sqlite3_busy_timeout(db_, 5000);
    try {
        Stmt st(db_, path_, "SELECT value FROM meta WHERE key = 'schema'");
        XOPD_CHECK(st.step(), "'" << path_ << "': not a run store (no schema version)");
    } catch (...) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

RunReader::~RunReader() {
    if (db_) sqlite3_close(db_);
}

std::vector<StepMetrics> RunReader::stepsSince(int64_t after_step) {
    Stmt st(db_, path_, "SELECT * FROM steps WHERE step > ? ORDER BY step");
    st.bind(1, after_step);
    std::vector<StepMetrics> out;
    while (st.step()) {
        StepMetrics m;
        for (int c = 0; c < st.columns(); ++c) {
            const std::string name = st.columnName(c);
            if (name == "step") m.step = st.i64(c);
            else if (name == "wall_time_s") m.wall_time_s = st.dbl(c);
            else if (name == "unix_time_s") m.unix_time_s = st.dbl(c);
            else if (name == "json") {
                const auto j = nlohmann::json::parse(st.str(c), nullptr, false);
                if (j.is_object())
                    for (auto it = j.begin(); it != j.end(); ++it) m.json[it.key()] = it.value().dump();
            } else if (!st.isNull(c)) {
                m.scalars[name] = st.dbl(c);
            }
        }
        out.push_back(std::move(m));
    }
    return out;
}

std::vector<TokenDivergenceBatch> RunReader::tokensSince(int64_t after_step, int64_t max_batches) {
    Stmt st(db_, path_,
            "SELECT t.step, t.sample, t.position, t.stream, t.prompt_id, t.token_id, t.text, t.student_lp, t.teacher_lp, "
            "t.advantage, t.student_other_lp, t.entropy, t.masked, t.student_topk, t.teacher_topk, s.prompt_text, "
            "s.truncated FROM tokens t LEFT JOIN samples s ON s.step = t.step AND s.sample = t.sample "
            "WHERE t.step > ? ORDER BY t.step, t.sample, t.position");
    st.bind(1, after_step);
    std::vector<TokenDivergenceBatch> out;
    while (st.step()) {
        const int64_t step = st.i64(0);
        const int32_t sample = int32_t(st.i64(1));
        if (out.empty() || out.back().step != step || out.back().sample_index != sample) {
            if (int64_t(out.size()) >= max_batches) break;
            TokenDivergenceBatch b;
            b.step = step;
            b.sample_index = sample;
            b.stream = st.str(3);
            b.prompt_id = st.str(4);
            b.prompt_text = st.str(15);
            b.truncated = st.i64(16) != 0;
            out.push_back(std::move(b));
        }
        TokenRecord t;
        t.position = int32_t(st.i64(2));
        t.token_id = int32_t(st.i64(5));
        t.text = st.str(6);
        t.student_logprob = float(st.dbl(7));
        t.teacher_logprob = float(st.dbl(8));
        t.advantage = float(st.dbl(9));
        t.student_other_logprob = float(st.dbl(10));
        t.entropy = float(st.dbl(11));
        t.masked = st.i64(12) != 0;
        t.student_topk = parseTopk(st.str(13));
        t.teacher_topk = parseTopk(st.str(14));
        out.back().tokens.push_back(std::move(t));
    }
    return out;
}

std::vector<SampleRecord> RunReader::samplesSince(int64_t after_step) {
    Stmt st(db_, path_,
            "SELECT step, sample, stream, prompt_id, prompt_text, response_text, length, eos, truncated FROM samples "
            "WHERE step > ? ORDER BY step, sample");
    st.bind(1, after_step);
    std::vector<SampleRecord> out;
    while (st.step()) {
        SampleRecord s;
        s.step = st.i64(0);
        s.sample_index = int32_t(st.i64(1));
        s.stream = st.str(2);
        s.prompt_id = st.str(3);
        s.prompt_text = st.str(4);
        s.response_text = st.str(5);
        s.length = int32_t(st.i64(6));
        s.eos = st.i64(7) != 0;
        s.truncated = st.i64(8) != 0;
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<RunEventRecord> RunReader::eventsSince(int64_t after_id) {
    Stmt st(db_, path_, "SELECT id, step, unix_time_s, kind, name, value, message, pid FROM events WHERE id > ? ORDER BY id");
    st.bind(1, after_id);
    std::vector<RunEventRecord> out;
    while (st.step()) {
        RunEventRecord e;
        e.id = st.i64(0);
        e.step = st.i64(1);
        e.unix_time_s = st.dbl(2);
        e.kind = st.str(3);
        e.name = st.str(4);
        e.value = st.dbl(5);
        e.message = st.str(6);
        e.pid = st.i64(7);
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<EvaluationRecord> RunReader::evaluations() {
    Stmt st(db_, path_, "SELECT step, name, value, json, unix_time_s FROM evaluations ORDER BY id");
    std::vector<EvaluationRecord> out;
    while (st.step()) {
        EvaluationRecord e;
        e.step = st.i64(0);
        e.name = st.str(1);
        e.value = st.dbl(2);
        e.json = st.str(3);
        e.unix_time_s = st.dbl(4);
        out.push_back(std::move(e));
    }
    return out;
}

int64_t RunReader::lastStep() {
    Stmt st(db_, path_, "SELECT COALESCE(MAX(step), 0) FROM steps");
    return st.step() ? st.i64(0) : 0;
}

std::string RunReader::integrityCheck() {
    Stmt st(db_, path_, "PRAGMA integrity_check");
    std::string out;
    while (st.step()) out += (out.empty() ? "" : "; ") + st.str(0);
    return out;
}

namespace {

/// A run folder's summary before anything in it is read: every measured field unknown.
RunSummary unknownSummary(const fs::path& dir) {
    RunSummary s;
    s.dir = dir.string();
    s.id = dir.filename().string();
    s.state = "unknown";
    s.last_loss = s.last_divergence = s.lambda = s.lr = s.running_s = std::nan("");
    s.student.kind = s.teacher.kind = distill::ModelSourceKind::Invalid;
    return s;
}

}  // namespace

double runningSeconds(const std::vector<RunEventRecord>& events, double last_step_unix_s) {
    double total = 0.0, since = -1.0, last = last_step_unix_s;
    bool ran = false;
    for (const auto& e : events) {
        last = std::max(last, e.unix_time_s);
        if (e.kind != event_kind::kState) continue;
        // Pausing and stopping finish the step in flight: still running until the next state.
        const bool running = e.name == "running" || e.name == "pausing" || e.name == "stopping";
        if (running && since < 0) {
            since = e.unix_time_s;
            ran = true;
        } else if (!running && since >= 0) {
            total += std::max(0.0, e.unix_time_s - since);
            since = -1.0;
        }
    }
    if (since >= 0) total += std::max(0.0, last - since);  // still running, or its process died
    return ran ? total : std::numeric_limits<double>::quiet_NaN();
}

RunSummary RunReader::summarize(const std::string& run_dir) {
    const fs::path dir(run_dir);
    RunSummary s = unknownSummary(dir);
    try {
        const RunInfo info = RunFolder(run_dir).readInfo();
        s.method = info.method;
        s.max_steps = info.max_steps;
        s.created_unix_s = info.created_unix_s;
        s.lambda = info.lambda;
        s.lr = info.lr;
        s.student = info.student;
        s.teacher = info.teacher;
        s.parent = info.parent;
    } catch (const Error& e) {
        s.state = "unreadable";
        s.problem = e.what();
    }
    s.latest_checkpoint = latestCheckpointName(run_dir);
    std::error_code ec;
    if (!fs::exists(dir / kMetricsFile, ec)) return s;
    try {
        RunReader r(run_dir);
        s.steps = r.lastStep();
        const auto steps = r.stepsSince(s.steps - 1);
        if (!steps.empty()) {
            const auto& sc = steps.back().scalars;
            if (sc.count("loss")) s.last_loss = sc.at("loss");
            if (sc.count("speech/divergence")) s.last_divergence = sc.at("speech/divergence");
            else if (sc.count("text/divergence")) s.last_divergence = sc.at("text/divergence");
        }
        const auto events = r.eventsSince(0);
        s.running_s = runningSeconds(events, steps.empty() ? 0.0 : steps.back().unix_time_s);
        for (const auto& e : events) {
            if (e.kind == event_kind::kState) {
                s.state = e.name;
                const bool live = e.name == "running" || e.name == "pausing" || e.name == "paused" || e.name == "stopping";
                if (live && e.pid > 0 && ::kill(pid_t(e.pid), 0) != 0) s.state = "interrupted";
            } else if (e.kind == event_kind::kPlan) {
                s.max_steps = int64_t(e.value);
            }
        }
    } catch (const Error& e) {
        s.state = "unreadable";
        if (s.problem.empty()) s.problem = e.what();
    }
    return s;
}

std::vector<RunSummary> RunReader::listRuns(const std::string& root) {
    XOPD_CHECK(fs::is_directory(root), "'" << root << "': not a folder");
    std::vector<RunSummary> out;
    std::error_code ec;
    fs::directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    XOPD_CHECK(!ec, "'" << root << "': cannot list (" << ec.message() << ")");
    // One bad entry (unreadable, a link loop, a broken run.json) becomes a row saying what is wrong
    // with it; it never hides the others.
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) break;
        const std::string path = it->path().string();
        std::error_code entry_ec;
        const bool dir = it->is_directory(entry_ec);
        if (entry_ec) {
            RunSummary bad = unknownSummary(it->path());
            bad.state = "unreadable";
            bad.problem = "'" + path + "': " + entry_ec.message();
            out.push_back(bad);
            continue;
        }
        if (dir && RunFolder(path).holdsRun()) out.push_back(summarize(path));
    }
    std::sort(out.begin(), out.end(), [](const RunSummary& a, const RunSummary& b) {
        return a.created_unix_s != b.created_unix_s ? a.created_unix_s > b.created_unix_s : a.id < b.id;
    });
    return out;
}

}  // namespace xopd::run
