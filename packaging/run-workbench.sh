#!/usr/bin/env bash
# Opens the workbench on the demo kit (building a missing kit in the window); explains how to run headless when there is no display.
#   packaging/run-workbench.sh [BUILD_DIR] [xopd-workbench options: --workspace DIR --run DIR ...]
set -euo pipefail
build_dir=${1:-build}
if [[ $# -gt 0 ]]; then shift; fi
if [[ ! -x $build_dir/app/workbench/xopd-workbench ]]; then
  echo "xopd-workbench: $build_dir/app/workbench/xopd-workbench is not built (make build)" >&2
  exit 1
fi
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" && "${QT_QPA_PLATFORM:-}" != "offscreen" ]]; then
  cat <<MSG
xopd-workbench: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the window
cannot open. Everything also runs headless from the CLI:

  $build_dir/app/cli/xopd selftest
  $build_dir/app/cli/xopd demo-kit build          (once: the tiny teacher, student and prompts)
  $build_dir/app/cli/xopd distill --demo --run-dir runs/demo --max-steps 20
  $build_dir/app/cli/xopd runs list runs

or open the window in a virtual display:  xvfb-run -a $build_dir/app/workbench/xopd-workbench
MSG
  exit 0
fi
# The demo kit is built, not committed (resources/README.md). The window opens at once; when the
# kit is missing it builds it in the background (progress bar and Cancel in the window) and takes
# it in when it is ready, the toy models serving meanwhile.
exec "$build_dir/app/workbench/xopd-workbench" --build-demo-kit "$@"
