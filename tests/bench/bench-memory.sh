#!/usr/bin/env bash
# The run-memory estimate of `xopd inspect --memory` (ModelBudget.h) against the peak resident memory
# of a real forward + backward of a Qwen3-MoE-shaped model, at four batch × length shapes.
# usage: tests/bench/bench-memory.sh BUILD_DIR
set -euo pipefail
build_dir=${1:-build}
exe="$build_dir/tests/bench/bench_memory_estimate"
[[ -x "$exe" ]] || { echo "bench_memory_estimate not built in $build_dir (make bench, or: cmake -B $build_dir -DXOPD_BUILD_BENCH=ON && cmake --build $build_dir --target bench_memory_estimate)" >&2; exit 1; }
machine=$(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//')
echo "### Run memory: estimate vs measured"
echo
echo "Machine: $machine, $(nproc) cores"
for shape in "16 128" "8 256" "4 512" "2 1024"; do
    set -- $shape
    echo
    "$exe" --batch "$1" --length "$2"
done
