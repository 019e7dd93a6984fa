#!/usr/bin/env bash
# Renders a PNG of every workbench screen in a real X11 window under Xvfb into docs/screenshots/
# (the README's Workbench section shows them). The window runs a short real distillation run (the
# demo kit when it is built, else the built-in toy models), asks the Ask screen one question, sets up
# an ABX test, then raises each screen in turn and grabs it (xopd-workbench --screenshots).
#
#   packaging/screenshots.sh [BUILD_DIR] [OUT_DIR]        (defaults: build, docs/screenshots)
#   XOPD_DEMO_KIT=/path/to/kit packaging/screenshots.sh   (use a kit built elsewhere)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
out=${2:-$root/docs/screenshots}
bin=$build/app/workbench/xopd-workbench
if [[ ! -x $bin ]]; then
  echo "screenshots: $bin is not built (build it with: cmake --build $build --target xopd-workbench)" >&2
  exit 1
fi
if ! command -v xvfb-run >/dev/null; then
  echo "screenshots: xvfb-run is not installed (Debian: apt-get install xvfb)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out" "$tmp/home"
# A fresh HOME: no saved layout or theme, and the user's settings are never touched.
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config JACK_NO_START_SERVER=1 QT_QPA_PLATFORM=xcb
args=(--workspace "$tmp/workspace" --fresh-layout --screenshots "$out")
if [[ -n ${XOPD_DEMO_KIT:-} ]]; then args+=(--demo-kit "$XOPD_DEMO_KIT"); fi
xvfb-run -a -s "-screen 0 1920x1200x24" timeout 600 "$bin" "${args[@]}"
n=$(find "$out" -maxdepth 1 -name '*.png' | wc -l)
echo "screenshots: $n PNG files in $out"
[[ $n -ge 9 ]]
