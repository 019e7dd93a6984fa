#!/usr/bin/env bash
# Runs HERE (the Debian 12 development machine, which reaches Debian's package registry), never on
# the GPU machine (which reaches nothing). Downloads the Debian packages that a headless
# (-DXOPD_GUI=OFF) build of core + kernels + CLI needs besides LibTorch, with the shared libraries
# they pull in, into .gpu-deps/ at the repository root (ignored through .git/info/exclude). A
# device run then names `.gpu-deps` in `carry`, and tests/gpu/run-gpu-checks.sh unpacks them with
# `dpkg-deb -x` into a private prefix (never into /) for every module the GPU machine lacks.
#
# Debian 12 binaries need glibc >= 2.36; the GPU image's Python 3.12 suggests Ubuntu 24.04 (glibc
# 2.39), so they load there. Header-only packages (nlohmann-json, CLI11) need nothing at all.
#
# usage: bash tests/gpu/fetch-deps.sh            (about 36 MB; reruns reuse what is there)
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=.gpu-deps
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF "/$dest/" "$exclude" 2>/dev/null || echo "/$dest/" >>"$exclude"
mkdir -p "$dest"

# What cmake/Dependencies.cmake and core/*/CMakeLists.txt find, besides Torch, Threads and Qt.
top=(pkgconf libpkgconf3
     nlohmann-json3-dev libcli11-dev
     libsndfile1-dev libsoxr-dev libebur128-dev portaudio19-dev libasound2-dev
     libpcre2-dev libicu-dev libsqlite3-dev libespeak-ng-dev libssl-dev
     libprotobuf-dev protobuf-compiler libisal-dev)
# Present on any glibc Linux the GPU image can be; never unpacked.
skip='^(espeak-ng-data|libc6|libc6-dev|libgcc-s1|libstdc\+\+6|gcc-.*-base|libc-dev-bin|linux-libc-dev|libcrypt1|libcrypt-dev|libnsl.*|libtirpc.*|rpcsvc-proto|zlib1g|debconf|dpkg|perl-base|libselinux1|libpcre3|libzstd1|liblzma5|libbz2-1.0|libmd0|libdb5.3|libgmp10|libgpg-error0|libgcrypt20|libsystemd0|libcap2|liblz4-1|libudev1|libexpat1|libffi8|libuuid1|libmount1|libblkid1|tar|coreutils|libacl1|libattr1|libaudit1|libaudit-common|libcap-ng0|libpam0g|adduser|passwd|login|util-linux|lsb-base|sysvinit-utils|init-system-helpers|mount|libsemanage.*|libsepol2|libsmartcols1|libtinfo6|ncurses-base|libncursesw6|libstdc\+\+-.*-dev|libgcc-.*-dev|gcc-.*|cpp-.*)$'

# Closure of the Depends (and Pre-Depends) of the top packages, minus the skip set.
mapfile -t all < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "${top[@]}" | grep -v '^ ' | grep -v '^<' | sort -u | grep -Ev "$skip")
echo "fetch-deps: ${#all[@]} packages"
(cd "$dest" && for p in "${all[@]}"; do
    ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -q "$p" >/dev/null 2>&1 || echo "fetch-deps: could not download $p (skipped)" >&2
done)
du -sh "$dest"
ls "$dest" | wc -l
