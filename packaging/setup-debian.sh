#!/usr/bin/env bash
# Installs every Debian 12 package X-OPD Workbench needs to build, test and run.
# Idempotent: packages already present are skipped, and apt is not touched at all
# when nothing is missing. Usage: packaging/setup-debian.sh [--gui|--no-gui] [--fuzz]
set -euo pipefail

# Build toolchain and core (no Qt) dependencies.
core_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev            # LibTorch 1.13.1, CPU
  libopenblas0-openmp     # Debian's LibTorch links the reference BLAS otherwise (17x slower)
  libsndfile1-dev libsoxr-dev libebur128-dev portaudio19-dev
  libsox-dev              # libsox's effects (speed, tempo, reverb, sinc, synth noise): xopd prompts augment
  libespeak-ng-dev espeak-ng-data
  libpcre2-dev libicu-dev nlohmann-json3-dev libsqlite3-dev libcli11-dev
  libssl-dev              # OpenSSL libcrypto: sha256 fingerprints of models and data in run.json
  libasound2-plugins alsa-utils   # ALSA file and pulse plugins used by the audio tests
  pulseaudio pulseaudio-utils   # the tests' virtual microphone (module-pipe-source) and loudspeaker (null sink + parec)
  protobuf-compiler libprotobuf-dev python3-protobuf   # TensorBoard event files (RUN/tb/) and their test reader
  libisal-dev             # CRC32C (ISA-L crc32_iscsi) of the TensorBoard event files' TFRecord framing
  python3-torch python3-numpy     # float64 reference implementations used by the tests; torchrun
  libgloo-dev             # Gloo headers behind LibTorch's ProcessGroupGloo (data-parallel training)
  libcpp-httplib-dev      # HTTP server and client: xopd serve, a teacher served over HTTP
  # The .deb (make package) and its test (tests/package): manual pages from --help, CPack's file
  # types, and the checkers lintian, desktop-file-validate and appstreamcli.
  help2man file lintian desktop-file-utils appstream
)
# libFuzzer targets only (packaging/setup-debian.sh --fuzz, used by tests/fuzz/run-fuzzers.sh).
fuzz_packages=(
  clang libclang-rt-14-dev   # clang with -fsanitize=fuzzer,address,undefined runtimes
)
# GUI layer.
gui_packages=(
  qt6-base-dev qt6-svg-dev libqcustomplot-dev libqcustomplot2.1-qt6 libgl-dev
  xvfb xauth
  optipng                 # packaging/screenshots.sh: lossless recompression of the README's screenshots
)

want_gui=1
want_fuzz=0
for arg in "$@"; do
  case "$arg" in
    --no-gui) want_gui=0 ;;
    --gui) want_gui=1 ;;
    --fuzz) want_fuzz=1 ;;
    *) echo "setup-debian.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

packages=("${core_packages[@]}")
if [[ $want_gui == 1 ]]; then packages+=("${gui_packages[@]}"); fi
if [[ $want_fuzz == 1 ]]; then packages+=("${fuzz_packages[@]}"); fi

# Node.js runs the reference tokenizer and Whisper extractor in the tests; any node >= 18 works
# (Debian's nodejs or one already on the machine).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi

# One dpkg-query for all of them (one per package took seconds, and `make run` pays it every time).
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null | awk '/ install ok installed$/ {print $1}' || true)
missing=()
for p in "${packages[@]}"; do
  if ! grep -qxF "$p" <<<"$installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup-debian.sh: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
echo "setup-debian.sh: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
