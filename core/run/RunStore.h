#pragma once
// The run store: metrics.sqlite of one run folder (DESIGN.md "A run on disk"), in WAL mode so a
// GUI or CLI can read it while the run writes.
//
// Tables
//   steps(step PRIMARY KEY, wall_time_s, unix_time_s, json, "<metric>" REAL ...)  one column per
//        scalar metric (added on first use: "loss", "speech/adv_mean", "modality_gap_mean", ...);
//        `json` holds the JSON-valued metrics as one object ("speech/position_profile": {...}).
//   tokens(step, sample, position, stream, prompt_id, token_id, text, student_lp, teacher_lp,
//        advantage, student_other_lp, entropy, masked, student_topk, teacher_topk)  per-token records
//   samples(step, sample, stream, prompt_id, prompt_text, response_text, length, eos, truncated)
//   evaluations(id, step, name, value, json, unix_time_s)
//   events(id, step, unix_time_s, kind, name, value, message, pid)  knob edits, pauses, NaN,
//        checkpoints, state changes, resumes
//
// The store also keeps the run's TensorBoard log, RUN/tb/ (TensorBoardWriter.h): every committed
// step's scalars and every run event go there too, right after metrics.sqlite, so both hold the
// same steps. The log is opened at the first write; a run folder whose tb/ holds no event file yet
// (a fork, a run from before the log existed) gets its stored history written into it first, and a
// deleteAfter (resume from a checkpoint) writes a SessionLog START so TensorBoard drops the steps
// the run recomputes.
//
// RunStore writes (the run's worker thread only); RunReader reads (any thread, any process,
// including while the run is live). Both are torch-free: widgets/ and the CLI include this header.
// Every error is an xopd::Error naming the database file.

#include "core/run/RunEvents.h"
#include "core/run/RunFolder.h"

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

struct sqlite3;

namespace xopd::run {

class TensorBoardWriter;

/// One row of the events table.
struct RunEventRecord {
    int64_t id = 0;
    int64_t step = 0;
    double unix_time_s = 0.0;
    std::string kind;     ///< one of run::event_kind (RunFolder.h)
    std::string name;     ///< state name, knob name, checkpoint folder, ...
    double value = 0.0;   ///< knob value (NaN when not applicable)
    std::string message;  ///< free text (reason, old value, ...)
    int64_t pid = 0;      ///< process that wrote the event
};

/// One row of the evaluations table.
struct EvaluationRecord {
    int64_t step = 0;
    std::string name;     ///< e.g. "speech_accuracy", "text_accuracy", "avg_drop"
    double value = 0.0;
    std::string json;     ///< details
    double unix_time_s = 0.0;
};


class RunStore {
public:
    /// Opens (creating when missing) DIR/metrics.sqlite in WAL mode and creates the tables.
    explicit RunStore(const std::string& run_dir);
    ~RunStore();
    RunStore(const RunStore&) = delete;
    RunStore& operator=(const RunStore&) = delete;

    /// Writes one step's scalars, token records and samples in ONE transaction (all or nothing).
    /// Replaces rows of the same step (a recomputed step after resume).
    void commitStep(const StepMetrics& metrics, const std::vector<TokenDivergenceBatch>& tokens,
                    const std::vector<SampleRecord>& samples);
    /// Appends an evaluation result.
    void addEvaluation(const EvaluationRecord& record);
    /// Appends an event (unix time and pid filled in when 0).
    void addEvent(RunEventRecord event);
    /// Deletes steps, tokens, samples and evaluations of steps > step (resume from a checkpoint).
    void deleteAfter(int64_t step);
    /// Largest step in the steps table (0 when empty).
    int64_t lastStep();
    /// Path of the database.
    const std::string& path() const { return path_; }

private:
    void exec(const std::string& sql);
    void ensureColumn(const std::string& name);
    /// The TensorBoard log, opened (with the stored history when new, then a START at start_step)
    /// at the first call.
    TensorBoardWriter& tensorBoard(int64_t start_step);
    sqlite3* db_ = nullptr;
    std::string path_;
    std::string run_dir_;
    std::set<std::string> columns_;
    std::unique_ptr<TensorBoardWriter> tb_;
};

/// Summary of one run folder, for run lists (CLI `xopd runs list`, GUI run history).
struct RunSummary {
    std::string id;            ///< folder name
    std::string dir;           ///< folder path
    std::string method;        ///< from run.json ("x-opd", "gkd", ...)
    int64_t steps = 0;         ///< last recorded step
    int64_t max_steps = 0;     ///< planned steps (last plan event, else run.json)
    std::string state;         ///< last state event; "interrupted" when its process is gone
    double last_loss = 0.0;    ///< NaN when no step yet
    double last_divergence = 0.0;  ///< speech/divergence, else text/divergence; NaN when unknown
    double created_unix_s = 0.0;
    std::string latest_checkpoint;  ///< folder name from checkpoints/latest, "" when none
    double lambda = 0.0;             ///< from run.json; NaN when unknown
    double lr = 0.0;                 ///< from run.json; NaN when unknown
    distill::ModelSource student;    ///< from run.json; kind Invalid when unknown
    distill::ModelSource teacher;
    std::optional<RunParent> parent; ///< set for a forked run
    std::string problem;             ///< why run.json or the store could not be read ("" when they could)
    /// Seconds the run was running, from its own state events: each span from "running" to the next
    /// pause, stop, finish or failure; an open span ends at the last thing the run wrote (a step or
    /// an event). NaN when it never ran.
    double running_s = 0.0;
};

/// RunSummary::running_s of a run's events (in order) and its last step's unix time (0 when none).
double runningSeconds(const std::vector<RunEventRecord>& events, double last_step_unix_s);

class RunReader {
public:
    /// Opens DIR/metrics.sqlite read-only. Throws xopd::Error when it is missing or not a run store.
    explicit RunReader(const std::string& run_dir);
    ~RunReader();
    RunReader(const RunReader&) = delete;
    RunReader& operator=(const RunReader&) = delete;

    /// Steps with step > after_step, in order.
    std::vector<StepMetrics> stepsSince(int64_t after_step);
    /// Token records of steps > after_step, grouped per (step, sample), at most max_batches groups.
    std::vector<TokenDivergenceBatch> tokensSince(int64_t after_step, int64_t max_batches = 1 << 30);
    /// Samples of steps > after_step.
    std::vector<SampleRecord> samplesSince(int64_t after_step);
    /// Events with id > after_id.
    std::vector<RunEventRecord> eventsSince(int64_t after_id = 0);
    /// All evaluations.
    std::vector<EvaluationRecord> evaluations();
    /// Last step (0 when none).
    int64_t lastStep();
    /// Result of PRAGMA integrity_check ("ok" when sound).
    std::string integrityCheck();

    /// Summaries of every run folder directly under root (folders holding run.json), newest first.
    static std::vector<RunSummary> listRuns(const std::string& root);
    /// Summary of one run folder.
    static RunSummary summarize(const std::string& run_dir);

private:
    sqlite3* db_ = nullptr;
    std::string path_;
};

}  // namespace xopd::run
