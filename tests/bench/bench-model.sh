#!/usr/bin/env bash
# Prefill / decode tokens per second of a Qwen2.5-0.5B-shaped model (random fp32 weights, CPU) at
# batch 1 and 8, with the ratio of a decode step to the memory-bandwidth floor.
# usage: tests/bench/bench-model.sh BUILD_DIR [--prompt N] [--decode N] [--threads N]
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # idle OpenMP threads sleep (core/common/TorchRuntime.h)
build_dir=${1:-build}
shift || true
exe="$build_dir/tests/bench/bench_model"
[[ -x "$exe" ]] || exe="$build_dir/bench_model"
[[ -x "$exe" ]] || { echo "bench_model not built in $build_dir (make bench, or: cmake -B $build_dir -DXOPD_BUILD_BENCH=ON && cmake --build $build_dir --target bench_model)" >&2; exit 1; }
machine=$(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//')
echo "### Model runtime: Qwen2.5-0.5B-shaped decoder, fp32, CPU"
echo
echo "Machine: $machine, $(nproc) cores"
echo
"$exe" "$@"
