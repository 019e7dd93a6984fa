#!/usr/bin/env bash
# Data-parallel scaling on this machine's CPU: samples (prompts) per second of `xopd distill` with
# toy models as the plain single process, as 1 rank and as 2 ranks under
# `python3 -m torch.distributed.run --no_python` (Gloo over 127.0.0.1), one thread per rank.
# Scaling efficiency = samples/s(2 ranks) / (2 x samples/s(1 rank)). Prints markdown.
#   tests/bench/bench-dp.sh BUILD_DIR [STEPS]
# samples/s = prompts per step (train.batch_size; m = 2 rollouts each, 2 streams) / median step
# time (rank 0's metrics, "time/step_s", the slowest rank's; the first 2 steps are warm-up and left
# out), so start-up and model building are excluded. The plain process samples each stream's batch
# in one draw; ranks sample in groups of train.dp_sample_group prompts (DataParallel.h): 1 (prompt
# by prompt, the default) and 8 are measured.
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
build_dir=${1:-build}
steps=${2:-30}
xopd="$build_dir/app/xopd"
[[ -x "$xopd" ]] || xopd=$(find "$build_dir" -name xopd -type f -perm -u+x | head -1)
[[ -x "$xopd" ]] || { echo "xopd not built in $build_dir" >&2; exit 1; }
xopd=$(realpath "$xopd")
py=""
for c in ${XOPD_PYTHON:-} /usr/bin/python3 python3; do
  if "$c" -c 'import torch.distributed.run' 2>/dev/null; then py=$c; break; fi
done
[[ -n "$py" ]] || { echo "bench-dp: no python3 with torch.distributed (Debian: python3-torch)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
machine=$(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//')

run_one() {  # name ranks(0 = no launcher) prompts_per_step sample_group
  local name=$1 ranks=$2 batch=$3 group=$4 dir="$tmp/$1"
  cat > "$tmp/$name.json" <<JSON
{"student": {"kind": "toy"}, "teacher": {"kind": "toy"}, "data": {"toy_prompts": 512},
 "rollout": {"rollouts_per_prompt": 2, "max_new_tokens": 24}, "loss": {"method": "x-opd", "lambda": 0.5},
 "train": {"batch_size": $batch, "lr": 0.01, "max_steps": $steps, "checkpoint_every": 0, "seed": 7,
           "dp_sample_group": $group}}
JSON
  local port=$((29600 + RANDOM % 2000))
  if [[ $ranks == 0 ]]; then
    XOPD_THREADS=1 "$xopd" distill --config "$tmp/$name.json" --run-dir "$dir" > "$tmp/$name.log" 2>&1
  else
    XOPD_THREADS=1 OMP_NUM_THREADS=1 "$py" -m torch.distributed.run --no_python --nproc_per_node "$ranks" \
      --master_port $port -r 1 -t 1 --log_dir "$tmp/$name-logs" "$xopd" distill --config "$tmp/$name.json" \
      --run-dir "$dir" > "$tmp/$name.log" 2>&1
  fi || { cat "$tmp/$name.log" >&2; exit 1; }
  python3 - "$dir/metrics.sqlite" "$batch" <<'PY'
import sqlite3, statistics, sys
db, batch = sys.argv[1], int(sys.argv[2])
rows = sqlite3.connect(db).execute('SELECT "time/step_s" FROM steps ORDER BY step').fetchall()
t = [r[0] for r in rows][2:]
print(f"{batch / statistics.median(t):.1f}")
PY
}

echo "### Data parallel on the CPU (toy models, Gloo over 127.0.0.1)"
echo
echo "Machine: $machine, $(nproc) cores; one thread per rank; $steps steps, median step time after 2 warm-up steps."
echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (2 ranks need 2 idle cores to scale)."
echo
echo "| prompts per step | dp_sample_group | plain process prompts/s | 1 rank prompts/s | 2 ranks prompts/s | scaling efficiency (2 vs 1 rank) |"
echo "|---|---|---|---|---|---|"
for batch in 16 256; do
  plain=$(run_one "plain-$batch" 0 "$batch" 1)
  for group in 1 8; do
    one=$(run_one "one-$batch-$group" 1 "$batch" "$group")
    two=$(run_one "two-$batch-$group" 2 "$batch" "$group")
    eff=$(python3 -c "print(f'{$two / (2 * $one):.0%}')")
    echo "| $batch | $group | $plain | $one | $two | $eff |"
  done
done
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
