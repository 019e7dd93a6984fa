#!/usr/bin/env bash
# The Debian package as a user meets it (README "Install the package"): builds it from a build tree
# with cpack into a temporary folder, lints it, checks its metadata files, unpacks it into a
# temporary root and runs the programs from there, with no display and no source tree.
#   tests/package/check-package.sh BUILD_DIR VERSION gui|nogui
# Fails on any lintian error in the .deb or the -dbgsym .ddeb (warnings and notes are printed), a
# desktop entry or AppStream file that does not validate, a missing part (manual pages, copyright,
# changelog, icon), unstripped binaries, a missing dbgsym package, missing Depends/Recommends, or a
# program that does not run.
set -euo pipefail
build=$(cd "$1" && pwd)
version=$2
gui=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xopd-package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-package: FAIL: $*" >&2; exit 1; }
step() { echo "check-package: $*"; }

step "cpack -G DEB into $tmp/out"
start=$SECONDS
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; fail "cpack failed"; }
deb=$(ls "$tmp"/out/xopd-workbench_"$version"-*_*.deb 2>/dev/null) || fail "no xopd-workbench_${version}-*_*.deb"
ddeb=$(ls "$tmp"/out/xopd-workbench-dbgsym_"$version"-*_*.ddeb 2>/dev/null) ||
  fail "no xopd-workbench-dbgsym_${version}-*_*.ddeb (debug symbols not split off)"
step "built $(basename "$deb") ($(stat -c %s "$deb") bytes) and $(basename "$ddeb") ($(stat -c %s "$ddeb") bytes) in $((SECONDS - start)) s"

step "lintian"
lintian --info "$deb" >"$tmp/lintian.txt" 2>&1 || true
cat "$tmp/lintian.txt"
if grep -q '^E: ' "$tmp/lintian.txt"; then fail "lintian reports errors"; fi
lintian "$ddeb" >"$tmp/lintian-dbgsym.txt" 2>&1 || true
cat "$tmp/lintian-dbgsym.txt"
if grep -q '^E: ' "$tmp/lintian-dbgsym.txt"; then fail "lintian reports errors in the -dbgsym package"; fi

step "control fields"
control=$(dpkg-deb --field "$deb")
echo "$control" | grep -E '^(Package|Version|Maintainer|Depends|Recommends|Installed-Size):'
field() { echo "$control" | sed -n "s/^$1: //p"; }
[[ $(field Version) == "$version"-* ]] || fail "Version is '$(field Version)', not $version-REVISION"
for dep in libtorch espeak-ng-data libsndfile1 libportaudio2; do
  [[ $(field Depends) == *"$dep"* ]] || fail "Depends lacks $dep"
done
[[ $(field Recommends) == *libopenblas0-openmp* ]] || fail "Recommends lacks libopenblas0-openmp"
[[ $(field Maintainer) != *localhost* ]] || fail "Maintainer is on localhost"
# The extended description is packaging/debian/description, word for word.
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
dpkg-deb --field "$deb" Description | tail -n +2 | sed 's/^ //; s/^\.$//' >"$tmp/description"
diff -u "$source_dir/packaging/debian/description" "$tmp/description" ||
  fail "the extended description differs from packaging/debian/description"

step "unpack into $tmp/root"
dpkg-deb -x "$deb" "$tmp/root"
root=$tmp/root
expect=(usr/bin/xopd usr/share/man/man1/xopd.1.gz usr/share/doc/xopd-workbench/copyright
        usr/share/doc/xopd-workbench/changelog.Debian.gz)
if [[ $gui == gui ]]; then
  expect+=(usr/bin/xopd-workbench usr/share/man/man1/xopd-workbench.1.gz
           usr/share/applications/org.xopd.workbench.desktop
           usr/share/metainfo/org.xopd.workbench.metainfo.xml
           usr/share/icons/hicolor/scalable/apps/org.xopd.workbench.svg)
fi
for f in "${expect[@]}"; do [[ -f $root/$f ]] || fail "the package has no /$f"; done
top=$(zcat "$root/usr/share/doc/xopd-workbench/changelog.Debian.gz" | head -1)
[[ $top == "xopd-workbench ($(field Version)) "* ]] || fail "the changelog's top entry '$top' is not version $(field Version)"
for b in "$root"/usr/bin/*; do
  [[ $(file -b "$b") == *', stripped'* ]] || fail "$(basename "$b") is not stripped: $(file -b "$b")"
done
zcat "$root/usr/share/man/man1/xopd.1.gz" >"$tmp/xopd.1"
grep -q 'demo-kit build' "$tmp/xopd.1" || fail "xopd.1 does not document the subcommands"
dpkg-deb -c "$ddeb" >"$tmp/ddeb.txt"
grep -q '/usr/lib/debug/.build-id/.*\.debug' "$tmp/ddeb.txt" || fail "the .ddeb holds no debug files"

if [[ $gui == gui ]]; then
  step "desktop-file-validate, appstreamcli validate"
  desktop-file-validate "$root/usr/share/applications/org.xopd.workbench.desktop" ||
    fail "desktop-file-validate rejects the desktop entry"
  appstreamcli validate --no-net --pedantic "$root/usr/share/metainfo/org.xopd.workbench.metainfo.xml" ||
    fail "appstreamcli rejects the metainfo"
fi

# The programs run from the unpacked root: no display, no source tree, a fresh home, no
# LD_LIBRARY_PATH (every library comes from Depends).
home=$tmp/home
mkdir -p "$home"
run() { env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"; }

step "xopd --version"
out=$(run "$root/usr/bin/xopd" --version) || fail "xopd --version failed"
echo "$out"
[[ $out == "xopd $version" ]] || fail "xopd --version says '$out', not 'xopd $version'"

step "xopd selftest"
out=$(run "$root/usr/bin/xopd" selftest 2>&1) || { echo "$out"; fail "xopd selftest failed"; }
echo "$out"
for key in "xopd: $version" "libtorch:" "cuda available:" "blas:" "threads:" "audio"; do
  grep -q "^$key" <<<"$out" || fail "xopd selftest has no '$key' line"
done

step "xopd demo-kit info (no kit yet: names the user's kit folder)"
if out=$(run "$root/usr/bin/xopd" demo-kit info 2>&1); then fail "demo-kit info succeeded without a kit"; fi
echo "$out"
grep -q "$home/.local/share/xopd/demo-kit" <<<"$out" ||
  fail "an installed xopd should look for the kit in ~/.local/share/xopd/demo-kit"

if [[ $gui == gui ]]; then
  step "xopd-workbench --version and --help without a display"
  out=$(run "$root/usr/bin/xopd-workbench" --version 2>&1) || { echo "$out"; fail "xopd-workbench --version failed"; }
  [[ $out == "xopd-workbench $version" ]] || fail "xopd-workbench --version says '$out'"
  out=$(run "$root/usr/bin/xopd-workbench" --help 2>&1) || { echo "$out"; fail "xopd-workbench --help failed"; }
  grep -q -- '--workspace' <<<"$out" || fail "xopd-workbench --help does not list --workspace"
  step "xopd-workbench without a display"
  if out=$(run "$root/usr/bin/xopd-workbench" 2>&1); then fail "the workbench started without a display"; fi
  echo "$out"
  grep -q "no display found" <<<"$out" || fail "the workbench does not say that no display was found"
fi
step "PASS"
