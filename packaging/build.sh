#!/usr/bin/env bash
# Build the one-folder bundle dist/clinscribe/ from the .venv (PyInstaller), then the .deb
# (installers/deb/build-deb.sh) when dpkg-deb is there.  One command:  bash packaging/build.sh
#   --no-deb   only the bundle
set -euo pipefail
umask 022   # a package is world-readable: never inherit the app's owner-only umask (dpkg-deb refuses 0700)
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-.venv/bin/python}
DEB=1
for arg in "$@"; do
  case "$arg" in
    --no-deb) DEB=0 ;;
    *) echo "usage: bash packaging/build.sh [--no-deb]" >&2; exit 2 ;;
  esac
done
[ -x "$PY" ] || { echo "build.sh: no $PY: run bash scripts/setup.sh first" >&2; exit 1; }
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  echo "Installing PyInstaller into the .venv"
  "$PY" -m pip install -q "pyinstaller>=6.10"
fi

start=$(date +%s)
rm -rf build/pyinstaller dist/clinscribe
# HF_HUB_OFFLINE: nothing at build time may reach a hub either
HF_HUB_OFFLINE=1 QT_QPA_PLATFORM=offscreen "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/clinscribe.spec
# blis links all of BLIS statically into both its extensions; thinc calls blis.py only for gemm, which
# numpy's BLAS does as well: blis.py becomes packaging/blis_py.py (18 MB less; tests/test_blis_shim.py)
for so in dist/clinscribe/_internal/blis/py.*.so; do
  [ -f "$so" ] || continue
  rm "$so"
  install -m 644 packaging/blis_py.py dist/clinscribe/_internal/blis/py.py
done
# Strip the debug information some wheels ship (ctranslate2's extension: 64 MB of it; libpython),
# checking each stripped copy still loads (patchelf'd libraries can break: packaging/strip_bundle.py).
if command -v strip >/dev/null 2>&1 && command -v readelf >/dev/null 2>&1; then
  "$PY" packaging/strip_bundle.py dist/clinscribe
  # blis.cy (all of BLIS again, 17 MB) becomes packaging/blis_cy.c: the five functions thinc and spaCy
  # call, on numpy's OpenBLAS (tests/test_blis_cy_shim.py); kept as it is where that cannot be checked
  "$PY" packaging/blis_cy.py dist/clinscribe
  # PyAV's video-encoder and TLS libraries (x265, SVT-AV1, x264, libvpx, dav1d, GnuTLS: ~38 MB) become
  # stubs: the app decodes only audio, with FFmpeg's own decoders (packaging/stub_libs.py)
  "$PY" packaging/stub_libs.py dist/clinscribe
  # Qt's ICU data (31 MB) with English and root locale data only (packaging/trim_icu.py)
  for icu in dist/clinscribe/_internal/PySide6/Qt/lib/libicudata.so.*; do
    [ -f "$icu" ] && [ ! -L "$icu" ] && "$PY" packaging/trim_icu.py "$icu" "$icu"
  done
fi
# Libraries the bundle takes from the system, not from itself (for the .deb's Depends; PyInstaller
# bundles most others): dist/clinscribe-system-libs.txt.
find dist/clinscribe -type f \( -name '*.so' -o -name '*.so.*' -o -name clinscribe \) -print0 \
  | LD_LIBRARY_PATH="$ROOT/dist/clinscribe/_internal" xargs -0 ldd 2>/dev/null | grep '=> /' | grep -v "$ROOT/dist/clinscribe" \
  | awk '{print $3}' | sort -u > dist/clinscribe-system-libs.txt || true
took=$(( $(date +%s) - start ))
echo "Bundle: dist/clinscribe/ ($(du -sh dist/clinscribe | cut -f1)) built in ${took} s"

if [ "$DEB" = 1 ]; then
  if command -v dpkg-deb >/dev/null 2>&1; then
    bash installers/deb/build-deb.sh
  else
    echo "No dpkg-deb here: the .deb was not built (the bundle was)." >&2
  fi
fi
