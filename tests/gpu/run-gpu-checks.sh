#!/usr/bin/env bash
# The GPU machine's one script (issue 6): builds core + kernels + CLI + GPU benchmarks headless
# (-DXOPD_GUI=OFF) against the LibTorch inside the machine's PyTorch, runs `xopd selftest --device
# cuda`, generates the Hugging Face parity fixtures, and runs the GPU benchmarks. Everything it
# writes goes under $OUT (else /tmp/xopd-gpu-out): log.txt, selftest-cuda.txt, hf_parity.tar.gz (unpack
# into tests/data/hf_parity/ and commit), results/gpu-*.md (commit into tests/bench/results/) and
# summary.txt (one line per step, with its time and status).
#
# Written on a development machine with no GPU and a CPU-only LibTorch: NOT RUN THERE. The build
# part was checked as far as a CPU-only LibTorch allows; see the report of the session that wrote it.
#
# Needs on the GPU machine: python3 with torch (CUDA) and transformers, nvcc, cmake >= 3.25, ninja,
# a C++17 compiler. The Debian-only libraries of the build (sndfile, soxr, ebur128, portaudio,
# pcre2, icu, sqlite3, espeak-ng, libcrypto, libisal, protobuf + protoc, nlohmann-json, CLI11, pkg-config) are taken from the
# system when present, else from .gpu-deps/ (Debian 12 packages fetched on the development
# machine by tests/gpu/fetch-deps.sh and carried along: device run with carry [".gpu-deps"]),
# unpacked into a private prefix; a module found in neither fails the build step with its name.
#
# usage (device run, repository root):   bash tests/gpu/run-gpu-checks.sh [--skip-build] [--only STEP...]
#   steps: build selftest hf_parity bench_kernels bench_rollout bench_hf_generate bench_step
# Budget on an H200 with 16 cores: build ~3-4 min, selftest ~1 min, fixtures ~0.5 min, benches ~4 min.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
out=${OUT:-/tmp/xopd-gpu-out}
mkdir -p "$out/results"
log="$out/log.txt"
summary="$out/summary.txt"
: >"$summary"
exec > >(tee -a "$log") 2>&1
export PYTHONUNBUFFERED=1

only=()
skip_build=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --skip-build) skip_build=1 ;;
    --only) shift; while [[ $# -gt 0 && "$1" != --* ]]; do only+=("$1"); shift; done; continue ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
want() { [[ ${#only[@]} -eq 0 ]] || [[ " ${only[*]} " == *" $1 "* ]]; }

failed=0
step() {  # step NAME TIMEOUT_S COMMAND...: runs, times and records one step; continues on failure
  local name=$1 limit=$2
  shift 2
  want "$name" || return 0
  echo "=== $name ($(date -u +%T))"
  local t0=$SECONDS rc=0
  # Shell functions run in a child bash (exported below), so that timeout can stop them.
  timeout --kill-after=10 "$limit" bash -c '"$@"' _ "$@" || rc=$?
  local dt=$((SECONDS - t0))
  if [[ $rc -eq 0 ]]; then echo "$name: ok (${dt} s)" >>"$summary"
  else echo "$name: FAILED rc=$rc (${dt} s)" >>"$summary"; failed=1; fi
  echo "=== $name: rc=$rc in ${dt} s"
  return $rc
}

py=${XOPD_PYTHON:-python3}
build=$repo/build-gpu
jobs=$(nproc)

# ---- environment (also the header of every results file) -------------------------------------
env_md=/tmp/xopd-gpu-environment.md  # copied into every results file (keeps $OUT to 7 files)
{
  echo "- date: $(date -u +%FT%TZ)"
  echo "- commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet 2>/dev/null || echo ' (+ uncommitted changes)')"
  echo "- gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo 'nvidia-smi failed')"
  echo "- cuda (nvcc): $(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  echo "- python: $($py -c 'import sys; print(sys.version.split()[0])' 2>/dev/null)"
  echo "- torch: $($py -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)' 2>/dev/null)"
  echo "- transformers: $($py -c 'import transformers; print(transformers.__version__)' 2>/dev/null || echo missing)"
  echo "- cpu: $(lscpu 2>/dev/null | sed -n 's/Model name:[[:space:]]*//p'), $(nproc) cores"
} >"$env_md"
cat "$env_md"; cat "$env_md" >>"$summary"

# ---- dependencies ----------------------------------------------------------------------------
deps=/tmp/xopd-deps
prepare_deps() {  # sets PATH, PKG_CONFIG_PATH, extra_prefix, extra_link and extra_protoc in the calling shell
  local modules=(sndfile soxr libebur128 portaudio-2.0 libpcre2-8 icu-uc sqlite3 espeak-ng libcrypto libisal protobuf)
  local need_bundle=${XOPD_FORCE_BUNDLE:-0} missing=()
  command -v pkg-config >/dev/null || need_bundle=1
  if [[ $need_bundle -eq 0 ]]; then
    for m in "${modules[@]}"; do pkg-config --exists "$m" || missing+=("$m"); done
    [[ -f /usr/include/nlohmann/json.hpp ]] || missing+=(nlohmann-json)
    [[ -f /usr/include/CLI/CLI.hpp ]] || missing+=(CLI11)
    command -v protoc >/dev/null || missing+=(protoc)
    [[ ${#missing[@]} -gt 0 ]] && need_bundle=1
  fi
  [[ $need_bundle -eq 0 ]] && { echo "deps: all from the system"; return 0; }
  [[ ${#missing[@]} -eq 0 && $need_bundle -eq 1 ]] && command -v pkg-config >/dev/null && missing=(forced)
  if ! ls "$repo"/.gpu-deps/*.deb >/dev/null 2>&1; then
    echo "deps: MISSING on this machine: ${missing[*]:-pkg-config} and no .gpu-deps/ bundle." >&2
    echo "      Run 'bash tests/gpu/fetch-deps.sh' on the development machine and carry .gpu-deps." >&2
    return 1
  fi
  echo "deps: from the .gpu-deps bundle (system lacks: ${missing[*]:-pkg-config})"
  rm -rf "$deps"; mkdir -p "$deps"
  for f in "$repo"/.gpu-deps/*.deb; do dpkg-deb -x "$f" "$deps" 2>/dev/null || { mkdir -p /tmp/xd && (cd /tmp/xd && ar x "$f" && tar -xf data.tar.* -C "$deps" && rm -f data.tar.* control.tar.* debian-binary); }; done
  find "$deps" -name '*.pc' -exec sed -i -E "s#(^prefix[[:space:]]*=[[:space:]]*|^exec_prefix[[:space:]]*=[[:space:]]*|^libdir[[:space:]]*=[[:space:]]*|^includedir[[:space:]]*=[[:space:]]*|-I|-L)/usr(/|\$)#\1$deps/usr\2#g" {} +
  local lib=$deps/usr/lib/x86_64-linux-gnu:$deps/lib/x86_64-linux-gnu
  if ! command -v pkg-config >/dev/null; then
    mkdir -p "$deps/bin"
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$lib" "$deps/usr/bin/pkgconf" >"$deps/bin/pkg-config"
    chmod +x "$deps/bin/pkg-config"
    export PATH=$deps/bin:$PATH
  fi
  # protoc (the TensorBoard event protos, core/run/CMakeLists.txt) runs at build time: its own
  # libraries come from the bundle too.
  if [[ -x $deps/usr/bin/protoc ]]; then
    mkdir -p "$deps/bin"
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$lib" "$deps/usr/bin/protoc" >"$deps/bin/protoc"
    chmod +x "$deps/bin/protoc"
    extra_protoc=$deps/bin/protoc
  fi
  export PKG_CONFIG_PATH=$deps/usr/lib/x86_64-linux-gnu/pkgconfig:$deps/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
  extra_prefix=$deps/usr
  extra_link="-Wl,-rpath-link,$deps/usr/lib/x86_64-linux-gnu -Wl,-rpath-link,$deps/lib/x86_64-linux-gnu -Wl,-rpath,$deps/usr/lib/x86_64-linux-gnu -Wl,-rpath,$deps/lib/x86_64-linux-gnu"
  local still=()
  for m in "${modules[@]}"; do pkg-config --exists "$m" || still+=("$m"); done
  if [[ ${#still[@]} -gt 0 ]]; then echo "deps: still missing after the bundle: ${still[*]}" >&2; return 1; fi
}

do_build() {
  set -o pipefail
  prepare_deps || return 1
  local torch_prefix
  torch_prefix=$($py -c 'import torch; print(torch.utils.cmake_prefix_path)') || { echo "python3 has no torch" >&2; return 1; }
  $py -c 'import torch; assert torch.version.cuda, "this torch has no CUDA"' || return 1
  local nvcc_path
  nvcc_path=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
  local gen=Ninja
  command -v ninja >/dev/null || gen="Unix Makefiles"
  # CMAKE_POLICY_VERSION_MINIMUM: CMake 4 (pip) refuses package configs written for CMake < 3.5.
  cmake -S "$repo" -B "$build" -G "$gen" -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
    -DCMAKE_BUILD_TYPE=Release \
    -DXOPD_GUI=OFF -DXOPD_BUILD_TESTS=OFF -DXOPD_CUDA=ON -DXOPD_GPU_BENCH=ON \
    -DCMAKE_CUDA_COMPILER="$nvcc_path" -DCMAKE_CUDA_ARCHITECTURES="90-real;90-virtual" \
    -DCMAKE_PREFIX_PATH="$torch_prefix${extra_prefix:+;$extra_prefix}" \
    ${extra_protoc:+-DProtobuf_PROTOC_EXECUTABLE=$extra_protoc} \
    -DCMAKE_EXE_LINKER_FLAGS="${extra_link:-}" -DCMAKE_SHARED_LINKER_FLAGS="${extra_link:-}" || return 1
  grep -q 'XOPD_TORCH_CUDA:INTERNAL=ON\|xopd: LibTorch CUDA glue for the kernels: ON' "$build/CMakeCache.txt" "$log" 2>/dev/null ||
    echo "warning: the configure log does not show the kernels' CUDA glue as ON"
  cmake --build "$build" -j "$jobs" --target xopd test_cuda_backend || return 1
  # The benchmarks separately, so that one that fails to compile cannot stop the checks.
  local keep=-k0
  [[ $gen == Ninja ]] || keep=-k
  cmake --build "$build" -j "$jobs" --target bench_kernels bench_gpu_rollout bench_gpu_step -- $keep ||
    echo "warning: a GPU benchmark failed to build (see above); its step will fail"
}

show_deps() {
  set -o pipefail  # --only deps: the bundle (or system) resolution alone
  prepare_deps || return 1
  for m in sndfile soxr libebur128 portaudio-2.0 libpcre2-8 icu-uc sqlite3 espeak-ng libcrypto libisal protobuf; do
    echo "$m: $(pkg-config --cflags --libs "$m" | tr -s ' ')"
  done
  echo "cmake prefix: ${extra_prefix:-system}"
}
export repo out log build py jobs env_md deps summary
export -f prepare_deps show_deps do_build
if [[ ${#only[@]} -gt 0 && " ${only[*]} " == *" deps "* ]]; then
  step deps 120 show_deps
  cat "$summary"
  exit $failed
fi

hf_fixtures() {
  set -o pipefail
  rm -rf "$repo/tests/data/hf_parity"
  $py "$repo/tests/reference/hf_parity/make_fixtures.py" --out "$repo/tests/data/hf_parity" || return 1
  tar -C "$repo/tests/data" -czf "$out/hf_parity.tar.gz" hf_parity
  du -sh "$repo/tests/data/hf_parity"
}
export -f hf_fixtures

# The fixtures need only python (CPU) and no build: made while the build runs (no timing involved).
hf_pid=
if want hf_parity; then
  (step hf_parity 180 hf_fixtures >/tmp/xopd-hf-parity.log 2>&1) &
  hf_pid=$!
fi
hf_wait() {
  [[ -n $hf_pid ]] || return 0
  wait "$hf_pid" || failed=1
  hf_pid=
  cat /tmp/xopd-hf-parity.log
}

if [[ $skip_build -eq 0 ]]; then
  step build 420 do_build || { echo "build failed: nothing else can run"; hf_wait; cat "$summary"; exit 1; }
fi
xopd=$build/app/cli/xopd
[[ -x $xopd ]] || xopd=$(find "$build" -name xopd -type f -perm -u+x | head -1)

# ---- checks ----------------------------------------------------------------------------------
step selftest 240 bash -c "set -o pipefail; export NVIDIA_TF32_OVERRIDE=0; '$xopd' selftest --device cuda | tee '$out/selftest-cuda.txt'"


hf_wait

# ---- benchmarks (each writes its markdown table under $out/results) --------------------------
bench_md() {  # bench_md FILE TITLE: starts a results file with the environment
  { echo "# $2"; echo; cat "$env_md"; echo; } >"$1"
}
bk() {
  set -o pipefail
  local f=$out/results/gpu-divergence-kernels.md
  bench_md "$f" "Divergence kernels vs plain LibTorch (bf16, fwd + bwd)"
  "$build/tests/bench/gpu/bench_kernels" --tokens 1024 8192 --vocab 151936 | tee -a "$f"
}
export -f bench_md bk
step bench_kernels 150 bk

br() {
  set -o pipefail
  local f=$out/results/gpu-rollout.md
  bench_md "$f" "Rollout decoding: xopd runtime vs Hugging Face generate (random bf16 weights)"
  echo "## xopd (C++ runtime)" >>"$f"
  "$build/tests/bench/gpu/bench_gpu_rollout" --shapes 0.5b 7b --batch 1 64 --prompt 64 --new 64 | tee -a "$f"
}
export -f br
step bench_rollout 200 br

bh() {
  set -o pipefail
  local f=$out/results/gpu-rollout.md
  echo >>"$f"; echo "## Hugging Face transformers generate (same shapes, same run)" >>"$f"
  $py "$repo/tests/bench/gpu/bench_hf_generate.py" --shapes 0.5b 7b --batch 1 64 --prompt 64 --new 64 | tee -a "$f"
}
export -f bh
step bench_hf_generate 200 bh

bs() {
  set -o pipefail
  local f=$out/results/gpu-xopd-step.md
  bench_md "$f" "One X-OPD step: 7B-shaped student (LoRA) + 7B-shaped teacher, m = 4, both streams, 256 tokens"
  "$build/tests/bench/gpu/bench_gpu_step" --shape 7b --m 4 --new 256 --prompts 2 | tee -a "$f"
}
export -f bs
step bench_step 240 bs

echo "=== summary"
cat "$summary"
exit $failed
