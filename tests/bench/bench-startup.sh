#!/usr/bin/env bash
# The window first (issue 16): time from invoking `make run` to the workbench's first window on
# screen, with the programs already built and no demo kit (so the kit starts building in the
# background, as on a fresh clone), against the baseline of starting xopd-workbench directly with
# the same options. The window logs the moment it is first exposed (XOPD_LOG_STARTUP=1); each
# launch runs in its own session, killed (with the kit build it started) once the window is up.
# Runs under xvfb-run when there is no display. A throw-away HOME, workspace and kit folder.
# usage: tests/bench/bench-startup.sh BUILD_DIR [--repeat N]
set -euo pipefail
build_dir=${1:-build}
shift || true
repeat=3
[[ "${1:-}" == "--repeat" ]] && repeat=$2
cd "$(dirname "$0")/../.."
exe="$build_dir/app/workbench/xopd-workbench"
[[ -x "$exe" && -x "$build_dir/app/cli/xopd" ]] || { echo "build xopd and xopd-workbench in $build_dir first (make build)" >&2; exit 1; }
if [[ -z "${DISPLAY:-}" ]]; then exec xvfb-run -a -s "-screen 0 1600x1000x24" bash "$0" "$build_dir" --repeat "$repeat"; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir 2>/dev/null || echo "$HOME/.cache/ccache")}
export XOPD_LOG_STARTUP=1 XOPD_DEMO_KIT="$tmp/kit" HOME="$tmp/home" QT_QPA_PLATFORM=xcb
mkdir -p "$HOME"

# Milliseconds from launching "$@" to the window's "first window shown at" line.
time_to_window() {
  local log="$tmp/log" start shown pid
  : >"$log"
  start=$(date +%s%3N)
  setsid "$@" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 3000); do
    grep -q "first window shown at" "$log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "the launch ended before a window was shown" >&2; exit 1; }
    sleep 0.02
  done
  shown=$(sed -n 's/.*first window shown at \([0-9]*\) ms.*/\1/p' "$log" | head -1)
  kill -TERM -- "-$pid" 2>/dev/null || true  # the session: make, the window and its kit build
  wait "$pid" 2>/dev/null || true
  rm -rf "$XOPD_DEMO_KIT" "$XOPD_DEMO_KIT".tmp-*
  [[ -n "$shown" ]] || { cat "$log" >&2; exit 1; }
  echo $((shown - start))
}

machine=$(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//')
echo "Machine (lscpu): $machine, $(nproc) cores; programs already built in $build_dir; no demo kit"
for i in $(seq 1 "$repeat"); do
  direct=$(time_to_window "$exe" --workspace "$tmp/ws" --build-demo-kit --fresh-layout)
  viaMake=$(time_to_window make --no-print-directory run BUILD_DIR="$build_dir")
  echo "run $i: make run -> first window ${viaMake} ms; xopd-workbench directly (baseline) ${direct} ms;" \
       "ratio $(awk -v a="$viaMake" -v b="$direct" 'BEGIN { printf "%.2f", a / b }')"
done
