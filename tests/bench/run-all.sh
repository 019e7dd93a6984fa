#!/usr/bin/env bash
# Runs every benchmark script tests/bench/bench-*.sh with the build folder as argument.
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/../.."
for b in tests/bench/bench-*.sh; do
  [[ -e "$b" ]] || continue
  echo "== $b"
  bash "$b" "$build_dir"
done
