#pragma once
// A run's TensorBoard log: RUN/tb/events.out.tfevents.<unix s>.<host>.<pid>.<n>, TFRecord files
// (TfRecordWriter.h) of TensorFlow Event protocol buffers (core/run/proto/event.proto, with
// TensorFlow's field numbers), so that `tensorboard --logdir WORKSPACE/runs` shows every run and
// `wandb sync` uploads them.
//
// What it writes
//   - the first record of a file: Event{file_version: "brain.Event:2"};
//   - one Event per step: Summary values tagged with the run store's metric names ("loss",
//     "speech/adv_mean", ...), each as simple_value (float32). simple_value rather than a scalars-
//     plugin tensor: TensorBoard's scalar plugin reads both (it migrates simple_value on load), and
//     it is the form every other reader takes, W&B's `wandb sync` among them. Non-finite values
//     ("not measured this step", NULL in metrics.sqlite) are left out;
//   - run events (pause, resume, hot edits, NaN guard, checkpoints, forks) as text summaries: a
//     scalar DT_STRING tensor with plugin_data.plugin_name "text", tagged "events/<kind>";
//   - Event{session_log: START} where a writing session starts at a step: TensorBoard drops what it
//     read earlier for steps >= that step when a START is not the log's first, which is how a run
//     resumed from a checkpoint replaces the steps it recomputes (as metrics.sqlite does).
//
// One file per writer: a resumed run adds a file, never appends to an old one. Every record is
// handed to the OS when written (the store writes at step boundaries). The header is torch-free and
// protobuf-free. Threading: one thread per object. Every error is an xopd::Error naming the file.

#include "core/run/RunStore.h"

#include <memory>
#include <string>

namespace xopd::run {

class TfRecordWriter;

class TensorBoardWriter {
public:
    /// The log's folder inside a run folder.
    static constexpr const char* kFolder = "tb";

    /// Starts a new event file in dir (created when missing). With staging, the file is written
    /// under a temporary name that TensorBoard ignores and appears only on commit().
    explicit TensorBoardWriter(const std::string& dir, bool staging = false);
    ~TensorBoardWriter();
    TensorBoardWriter(const TensorBoardWriter&) = delete;
    TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

    /// One step's finite scalars, at the step's unix time.
    void writeStep(const StepMetrics& metrics);
    /// A run event as a text summary; returns false (and writes nothing) for kinds the log leaves
    /// out (log lines, plans).
    bool writeRunEvent(const RunEventRecord& event);
    /// A text summary under tag at step.
    void writeText(int64_t step, double unix_time_s, const std::string& tag, const std::string& text);
    /// SessionLog START at step: a restart there (see above).
    void writeSessionStart(int64_t step, double unix_time_s);
    /// A staged file: renames it to its final name.
    void commit();
    /// The event file (its final name).
    const std::string& path() const { return final_path_; }

    /// Whether dir holds a TensorBoard event file (a name containing "tfevents", as TensorBoard
    /// looks for).
    static bool holdsEventFiles(const std::string& dir);

private:
    void append(const std::string& serialized_event);
    std::unique_ptr<TfRecordWriter> file_;
    std::string final_path_;
};

}  // namespace xopd::run
