#!/usr/bin/env bash
# Time per X-OPD step on this machine, split into rollout, teacher scoring and update, and the
# rollout's share of the step (the baseline in the same run is the whole step). Prints markdown.
#   tests/bench/bench-distill.sh BUILD_DIR
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # idle OpenMP threads sleep (core/common/TorchRuntime.h)
build_dir=${1:-build}
bin="$build_dir/tests/bench/bench_distill"
[[ -x "$bin" ]] || bin=$(find "$build_dir" -name bench_distill -type f -perm -u+x | head -1)
[[ -x "$bin" ]] || { echo "bench_distill not built in $build_dir (make bench, or: cmake -B $build_dir -DXOPD_BUILD_BENCH=ON && cmake --build $build_dir --target bench_distill)" >&2; exit 1; }
machine=$(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//')
echo "### X-OPD step time (toy models, CPU)"
echo
echo "Machine: $machine, $(nproc) cores. Median over 8 steps after one warm-up; 2 streams (speech + text)."
echo
echo "| model | prompts x m | rollout s | teacher s | update s | step s | rollout share | tokens/s |"
echo "|---|---|---|---|---|---|---|---|"
for cfg in "--vocab 32 --hidden 32 --batch 4 --m 2 --max-new-tokens 24" \
           "--vocab 512 --hidden 256 --batch 8 --m 4 --max-new-tokens 64" \
           "--vocab 4096 --hidden 512 --batch 8 --m 4 --max-new-tokens 64"; do
  # shellcheck disable=SC2086
  "$bin" $cfg | python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
print("| {model} | {batch_prompts} x {rollouts_per_prompt} | {rollout_s:.4f} | {teacher_s:.4f} | {update_s:.4f} | {step_s:.4f} | {share:.0%} | {tokens_per_s:.0f} |".format(share=j["rollout_share"], **j))'
done
