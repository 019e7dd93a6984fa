#!/usr/bin/env bash
# Runs every benchmark script tests/bench/bench-*.sh with the build folder as argument.
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # idle OpenMP threads sleep (core/common/TorchRuntime.h)
build_dir=${1:-build}
cd "$(dirname "$0")/../.."
for b in tests/bench/bench-*.sh; do
  [[ -e "$b" ]] || continue
  echo "== $b"
  bash "$b" "$build_dir"
done
