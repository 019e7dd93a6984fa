#!/usr/bin/env bash
# Whisper log-mel front end, 30 s clip, one thread: multiples of real time for the C++ front end
# and for the independent numpy float64 reference, measured in the same run.
# usage: tests/bench/bench-audio.sh BUILD_DIR [--mel-bins 80|128]
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # idle OpenMP threads sleep (core/common/TorchRuntime.h)
build_dir=${1:-build}
shift || true
mel_bins=128
[[ "${1:-}" == "--mel-bins" ]] && mel_bins=$2
exe="$build_dir/tests/bench/bench_audio"
[[ -x "$exe" ]] || { echo "bench_audio not built in $build_dir (make bench, or: cmake -B $build_dir -DXOPD_BUILD_BENCH=ON && cmake --build $build_dir --target bench_audio)" >&2; exit 1; }
machine=$(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//')
cpp=$("$exe" --mel-bins "$mel_bins")
c64=$(awk '/cpp_float64/ {print $2}' <<<"$cpp")
c32=$(awk '/cpp_float32/ {print $2}' <<<"$cpp")
ref=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/reference/audio/whisper_features_ref.py --bench 30 --mel-bins "$mel_bins")
echo "### Whisper log-mel features ($mel_bins bins, 30 s clip, 1 thread)"
echo
echo "Machine: $machine"
echo
echo "| implementation | × real time | ratio to reference |"
echo "|---|---|---|"
echo "| numpy float64 reference (baseline) | $ref | 1.00 |"
echo "| C++ float64 | $c64 | $(awk -v a="$c64" -v b="$ref" 'BEGIN {printf "%.2f", a/b}') |"
echo "| C++ float32 | $c32 | $(awk -v a="$c32" -v b="$ref" 'BEGIN {printf "%.2f", a/b}') |"
