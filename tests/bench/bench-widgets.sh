#!/usr/bin/env bash
# GUI responsiveness: event-loop latency (1 ms precise timer; p50/p99/max lateness) of the
# workbench's GUI thread while a toy X-OPD run trains with every chart visible, against the same
# window with the run paused as the baseline. Offscreen unless QT_QPA_PLATFORM says otherwise.
# usage: tests/bench/bench-widgets.sh BUILD_DIR [--seconds S] [--threads N]
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # idle OpenMP threads sleep (core/common/TorchRuntime.h)
build_dir=${1:-build}
shift || true
exe="$build_dir/tests/bench/bench_gui_latency"
[[ -x "$exe" ]] || { echo "bench_gui_latency not built in $build_dir (make bench, or: cmake -B $build_dir -DXOPD_BUILD_BENCH=ON && cmake --build $build_dir --target bench_gui_latency)" >&2; exit 1; }
machine=$(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//')
echo "Machine (lscpu): $machine, $(nproc) cores"
echo
QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen} "$exe" "$@"
