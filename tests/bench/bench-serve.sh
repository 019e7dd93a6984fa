#!/usr/bin/env bash
# Batching of `xopd serve`: requests/s and scored tokens/s of the trainer's scoring request (teacher
# prompt + response as token ids, prompt_logprobs 5) one at a time vs from 16 client threads at once
# (batched by the server), with the ratio; a small random Qwen2 model on the CPU, the server in the
# benchmark's process on 127.0.0.1.
# usage: tests/bench/bench-serve.sh BUILD_DIR [--requests N] [--concurrency C] [--tokens T] [--threads N]
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
build_dir=${1:-build}
shift || true
exe="$build_dir/tests/bench/bench_serve"
[[ -x "$exe" ]] || exe="$build_dir/bench_serve"
[[ -x "$exe" ]] || { echo "bench_serve not built in $build_dir (cmake --build $build_dir --target bench_serve)" >&2; exit 1; }
machine=$(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//')
echo "### xopd serve: batched vs one request at a time"
echo
echo "Machine: $machine, $(nproc) cores; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$exe" "$@"
