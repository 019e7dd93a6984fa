#!/usr/bin/env bash
# Builds and runs every libFuzzer target (fuzz_*) under ASan + UBSan.
#   tests/fuzz/run-fuzzers.sh [SECONDS] [TARGET...]
# SECONDS per target (default 300). Configures the `fuzz` preset (clang) into build-fuzz, installs
# clang and its runtime (packaging/setup-debian.sh --fuzz) when missing, builds the fuzz_* targets
# and runs each with its seed corpus tests/fuzz/corpus/<name without fuzz_>/ (copied to a scratch
# folder, so new inputs never land in git) and dictionary tests/fuzz/<name without fuzz_>.dict when
# present. Findings (crash-*, leak-*, timeout-*) are written to build-fuzz/findings/<target>/.
# Exit status: 0 when every target ran its time without a finding, 1 otherwise.
set -euo pipefail

seconds=${1:-300}
shift || true
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-fuzz
jobs=${FUZZ_BUILD_JOBS:-2}

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  bash "$root/packaging/setup-debian.sh" --fuzz
fi

cd "$root"
cmake --preset fuzz >/dev/null
mapfile -t targets < <(cmake --build "$build" --target help | sed -n 's/^\(fuzz_[A-Za-z0-9_]*\):.*/\1/p' | sort -u)
if [[ $# -gt 0 ]]; then targets=("$@"); fi
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "run-fuzzers.sh: no fuzz_* targets in $build" >&2
  exit 1
fi
cmake --build "$build" --target "${targets[@]}" -j "$jobs"

status=0
for t in "${targets[@]}"; do
  bin=$(find "$build" -type f -name "$t" -perm -u+x | head -1)
  short=${t#fuzz_}
  work=$(mktemp -d)
  findings=$build/findings/$t
  rm -rf "$findings"; mkdir -p "$findings"
  if [[ -d $root/tests/fuzz/corpus/$short ]]; then cp -r "$root/tests/fuzz/corpus/$short/." "$work/"; fi
  args=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$findings/" -timeout=10 -rss_limit_mb=2048)
  if [[ -f $root/tests/fuzz/$short.dict ]]; then args+=(-dict="$root/tests/fuzz/$short.dict"); fi
  echo "== $t for ${seconds}s ($(lscpu | sed -n 's/^Model name: *//p'))"
  log=$build/findings/$t.log
  set +e
  "$bin" "${args[@]}" "$work" >"$log" 2>&1
  rc=$?
  set -e
  grep -E "^(#[0-9]+ +(INITED|DONE)|stat::|==[0-9]+==ERROR|SUMMARY)" "$log" || true
  if [[ $rc -ne 0 ]] || [[ -n $(ls -A "$findings") ]]; then
    echo "== $t: FINDINGS in $findings (log $log)"
    status=1
  else
    echo "== $t: no findings"
  fi
  rm -rf "$work"
done
exit $status
