#!/usr/bin/env bash
# CI check of the Linux package, on this machine (root, Debian/Ubuntu):
#   build (packaging/build.sh; --reuse keeps an existing dist/), install the .deb with apt (pulls its
#   Depends), run the installed `clinscribe --self-test` with no network (an empty network namespace)
#   and HF_HUB_OFFLINE=1, start the installed app under Xvfb (it must draw its window, stay up 3 s and
#   exit cleanly; prints the cold start), purge it and check that nothing is left (file lists of
#   /opt /usr/bin /usr/share/applications /usr/share/icons /usr/share/doc before and after) while the
#   user's data stays.
#   bash packaging/check.sh [--reuse] [--cold]   (--cold: drop the page cache before the timed start)
set -euo pipefail
umask 022   # a package is world-readable: never inherit the app's owner-only umask (dpkg-deb refuses 0700)
cd "$(dirname "$0")/.."
ROOT=$(pwd)
REUSE=0; COLD=0
for arg in "$@"; do
  case "$arg" in
    --reuse) REUSE=1 ;;
    --cold) COLD=1 ;;
    *) echo "usage: bash packaging/check.sh [--reuse] [--cold]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "check.sh: installs a package: run it as root (CI)" >&2; exit 1; }
t0=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - t0 )) s)"; }
fail() { echo "CHECK FAILED: $*" >&2; exit 1; }

VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' app/__init__.py)
DEB=$(ls dist/clinscribe_"${VERSION}"_*.deb 2>/dev/null | head -1 || true)
if [ "$REUSE" = 0 ] || [ -z "$DEB" ] || [ ! -x dist/clinscribe/clinscribe ]; then
  step "build"
  bash packaging/build.sh
  DEB=$(ls dist/clinscribe_"${VERSION}"_*.deb | head -1)
fi
[ -f "$DEB" ] || fail "no .deb in dist/"
dpkg -s clinscribe >/dev/null 2>&1 && fail "clinscribe is already installed here: purge it first (dpkg --purge clinscribe)"
for tool in xvfb-run; do command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install xvfb xauth)"; done

WORK=$(mktemp -d /tmp/clinscribe-check.XXXXXX)
USERHOME="$WORK/user"; mkdir -p "$USERHOME"
snapshot() { find /opt /usr/bin /usr/share/applications /usr/share/icons /usr/share/doc 2>/dev/null | sort; }
snapshot > "$WORK/before.txt"

step "install $DEB ($(du -h "$DEB" | cut -f1))"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$ROOT/$DEB" >"$WORK/apt.log" 2>&1; then
  cat "$WORK/apt.log" >&2; fail "apt-get install of $DEB"
fi
[ -x /usr/bin/clinscribe ] || fail "/usr/bin/clinscribe not installed"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate /usr/share/applications/clinscribe.desktop || fail "the desktop entry"
else
  echo "(desktop-file-validate not installed: the desktop entry was not validated)"
fi
for s in 16 24 32 48 64 128 256 512; do
  [ -f "/usr/share/icons/hicolor/${s}x${s}/apps/clinscribe.png" ] || fail "icon ${s}x${s} missing"
done
echo "installed: $(du -sh /opt/clinscribe | cut -f1) in /opt/clinscribe"
missing=$(find /opt/clinscribe -type f -name '*.so*' -print0 | xargs -0 ldd 2>/dev/null | grep 'not found' | sort -u || true)
[ -z "$missing" ] || echo "libraries not found (optional plugins only, or a missing Depends):"$'\n'"$missing"

step "self-test of the installed app (no network: unshare -n; HF_HUB_OFFLINE=1)"
NONET=""
unshare -n true 2>/dev/null && NONET="unshare -n"
s0=$(date +%s%N)
env -u DISPLAY -u WAYLAND_DISPLAY HOME="$USERHOME" HF_HUB_OFFLINE=1 QT_QPA_PLATFORM=offscreen \
  $NONET /usr/bin/clinscribe --self-test 2>"$WORK/selftest.err" || { tail -20 "$WORK/selftest.err" >&2; fail "self-test"; }
echo "self-test took $(( ($(date +%s%N) - s0) / 1000000 )) ms (whole process)"

step "the installed app under Xvfb: draws its window, stays up 3 s, exits cleanly"
# user data written here by the app (settings, window state) must survive the purge
mkdir -p "$USERHOME/.local/share/ClinScribe" && echo keep > "$USERHOME/.local/share/ClinScribe/user-data.txt"
[ "$COLD" = 1 ] && { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || echo "(cannot drop the page cache)"; }
for run in first second; do
  out=$(env HOME="$USERHOME" CLINSCRIBE_QUIT_AFTER_SHOW=3 QT_QPA_PLATFORM=xcb \
        timeout 120 xvfb-run -a -s "-screen 0 1280x800x24" $NONET /usr/bin/clinscribe 2>"$WORK/gui.err") \
    || { tail -20 "$WORK/gui.err" >&2; fail "the app did not start, draw and quit cleanly (exit $?)"; }
  echo "$out" | grep -q "first paint" || fail "no first paint: $out"
  echo "$run start: $out"
done

step "purge"
dpkg --purge clinscribe >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log" >&2; fail "dpkg --purge"; }
snapshot > "$WORK/after.txt"
if ! diff -u "$WORK/before.txt" "$WORK/after.txt" > "$WORK/left.diff"; then
  cat "$WORK/left.diff" >&2; fail "the purge left files behind or removed others"
fi
[ -f "$USERHOME/.local/share/ClinScribe/user-data.txt" ] || fail "the purge removed the user's data"
echo "nothing left; the user's data stays"
rm -rf "$WORK"
echo; echo "check.sh passed in $(( $(date +%s) - t0 )) s"
