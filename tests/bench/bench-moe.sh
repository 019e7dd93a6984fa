#!/usr/bin/env bash
# Tokens per second of a Qwen3-30B-A3B-shaped sparse MoE layer vs a dense SwiGLU layer with the
# same active parameters (random weights, CPU), for 1, 64 and 512 tokens, fp32 and bf16.
# usage: tests/bench/bench-moe.sh BUILD_DIR [--threads N] [--dtype fp32|bf16|both]
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
build_dir=${1:-build}
shift || true
exe="$build_dir/tests/bench/bench_moe"
[[ -x "$exe" ]] || { echo "bench_moe not built in $build_dir (make bench, or: cmake -B $build_dir -DXOPD_BUILD_BENCH=ON && cmake --build $build_dir --target bench_moe)" >&2; exit 1; }
machine=$(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//')
echo "### MoE layer vs dense layer with the same active parameters"
echo
echo "Machine: $machine, $(nproc) cores"
echo
"$exe" "$@"
