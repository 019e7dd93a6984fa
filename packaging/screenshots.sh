#!/usr/bin/env bash
# Renders a PNG of every workbench screen in a real X11 window under Xvfb into docs/screenshots/
# (the README's Workbench section shows them). The window runs a short real distillation run (the
# demo kit when it is built, else the built-in toy models), asks the Ask screen one question, sets up
# an ABX test, then raises each screen in turn and grabs it (xopd-workbench --screenshots); on the
# kit it then stops the run with a checkpoint, computes the gap explorer before/after it and sends
# two of its clips to A/B listening with a loop set (10-gap-explorer.png, 11-ab-loop.png).
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
# A recorded two-rank data-parallel run (toy models, Gloo over 127.0.0.1, seconds) in the workspace:
# the tour overlays it on the live run, so the monitor's Data parallel panel has ranks to show.
cli=$build/app/cli/xopd
py=/usr/bin/python3
if [[ -x $cli ]] && "$py" -c 'import torch.distributed.run' 2>/dev/null; then
  mkdir -p "$tmp/workspace/runs"
  cat > "$tmp/dp.json" <<'JSON'
{"student": {"kind": "toy"}, "teacher": {"kind": "toy"}, "data": {"toy_prompts": 64},
 "rollout": {"rollouts_per_prompt": 2, "max_new_tokens": 24}, "loss": {"method": "x-opd", "lambda": 0.5},
 "train": {"batch_size": 4, "lr": 0.01, "max_steps": 30, "checkpoint_every": 0, "seed": 7}}
JSON
  XOPD_THREADS=1 OMP_NUM_THREADS=1 timeout 300 "$py" -m torch.distributed.run --no_python --nproc_per_node 2 \
    --master_port $((29600 + RANDOM % 2000)) -r 1 -t 1 --log_dir "$tmp/dp-logs" "$cli" distill --config "$tmp/dp.json" \
    --run-dir "$tmp/workspace/runs/toy-x-opd-2-ranks" > "$tmp/dp.log" 2>&1 ||
    { echo "screenshots: the two-rank toy run failed (the monitor shots show no Data parallel panel):" >&2; tail -5 "$tmp/dp.log" >&2; }
else
  echo "screenshots: no $cli or no python3 torch.distributed: no data-parallel run to show" >&2
fi
args=(--workspace "$tmp/workspace" --fresh-layout --screenshots "$out")
if [[ -n ${XOPD_DEMO_KIT:-} ]]; then args+=(--demo-kit "$XOPD_DEMO_KIT"); fi
xvfb-run -a -s "-screen 0 1920x1200x24" timeout 900 "$bin" "${args[@]}"
# Lossless recompression (optipng, in the GUI packages of setup-debian.sh): about a fifth smaller.
if command -v optipng >/dev/null; then
  optipng -quiet -o2 -strip all "$out"/*.png
else
  echo "screenshots: optipng is not installed: the PNGs stay as Qt wrote them (Debian: apt-get install optipng)" >&2
fi
n=$(find "$out" -maxdepth 1 -name '*.png' | wc -l)
echo "screenshots: $n PNG files in $out"
[[ $n -ge 10 ]]
