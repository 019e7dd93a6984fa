#pragma once
// Exports of a run's step scalars for other tools (`xopd runs export`):
//   - TensorBoard: an event file (TensorBoardWriter.h) with every step's scalars and the run's
//     events as text, for runs written before the run store kept RUN/tb/ itself (and for forks,
//     whose copied steps the store writes into the child's new log the same way);
//   - CSV: one row per step: step, wall_time_s, unix_time_s, then one column per scalar metric
//     (sorted by name); an empty cell where a step has no value (NaN, "not measured").
// Both read metrics.sqlite through RunReader and write atomically (a file appears whole or not at
// all). Torch-free. Every error is an xopd::Error naming the file.

#include <string>

namespace xopd::run {

class TensorBoardWriter;

/// Writes every step and run event of the run store in run_dir to writer, in time order.
void writeRunHistory(const std::string& run_dir, TensorBoardWriter& writer);

/// Writes a new event file into out_dir (default "": RUN/tb) and returns its path. Refuses a folder
/// that already holds event files (TensorBoard would show both copies of the steps).
std::string exportTensorBoard(const std::string& run_dir, const std::string& out_dir = "");

/// Writes the step scalars as CSV to out_file (default "": RUN/metrics.csv) and returns its path.
std::string exportCsv(const std::string& run_dir, const std::string& out_file = "");

}  // namespace xopd::run
