#!/usr/bin/env bash
# dist/clinscribe/ (packaging/build.sh) -> dist/clinscribe_<version>_amd64.deb, with dpkg-deb.
#   /opt/clinscribe/                 the bundle
#   /usr/bin/clinscribe              a launcher (exec's the bundle; the CLI and the app)
#   /usr/share/applications/clinscribe.desktop, /usr/share/icons/hicolor/*/apps/clinscribe.{png,svg}
#   /usr/share/doc/clinscribe/copyright
# Purge removes exactly these (and /opt/clinscribe); user data (~/.local/share/ClinScribe) stays.
set -euo pipefail
umask 022   # a package is world-readable: never inherit the app's owner-only umask (dpkg-deb refuses 0700)
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUNDLE=dist/clinscribe
[ -x "$BUNDLE/clinscribe" ] || { echo "build-deb.sh: no $BUNDLE: run bash packaging/build.sh" >&2; exit 1; }
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' app/__init__.py)
ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
OUT="dist/clinscribe_${VERSION}_${ARCH}.deb"
STAGE=build/deb/clinscribe
rm -rf build/deb && mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/doc/clinscribe"

cp -a "$BUNDLE" "$STAGE/opt/clinscribe"
find "$STAGE/opt/clinscribe" -name __pycache__ -prune -exec rm -rf {} +
chmod -R u+rwX,go+rX,go-w "$STAGE/opt/clinscribe"   # readable by every user, whatever made the bundle
cat > "$STAGE/usr/bin/clinscribe" <<'SH'
#!/bin/sh
# ClinScribe: the desktop app with no arguments, the command line otherwise (clinscribe --help).
exec /opt/clinscribe/clinscribe "$@"
SH
chmod 755 "$STAGE/usr/bin/clinscribe"
install -m 644 resources/clinscribe.desktop "$STAGE/usr/share/applications/clinscribe.desktop"
for png in resources/icons/clinscribe-*.png; do
  size=$(basename "$png" .png); size=${size#clinscribe-}
  install -D -m 644 "$png" "$STAGE/usr/share/icons/hicolor/${size}x${size}/apps/clinscribe.png"
done
install -D -m 644 resources/clinscribe.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/clinscribe.svg"
{  # the About dialog's text (app/about.py): the bundled models' and libraries' licences
  PYTHONPATH="$ROOT" "${PYTHON:-.venv/bin/python}" -c \
    'from app.about import about_text; print(about_text(model="tiny.en (the default)"))'
  echo
  echo "Each library's own licence text: /opt/clinscribe/_internal/*.dist-info/; the models': \
/opt/clinscribe/_internal/app/assets/LICENSE.*, /opt/clinscribe/_internal/resources/sample/LICENSE.*"
} > "$STAGE/usr/share/doc/clinscribe/copyright"
chmod 644 "$STAGE/usr/share/doc/clinscribe/copyright"

# glibc >= 2.36: the bundle carries Debian 12's own copies of many libraries (objdump -T: GLIBC_2.36).
# Taken from the system (packaging/build.sh writes dist/clinscribe-system-libs.txt): libc, GL/EGL/GLX,
# libdrm, libxcb, Wayland's client libraries. Declared too, though PyInstaller bundled a copy, for the
# libraries loaded by name at run time or that the platform must match (X11/xcb, PulseAudio, PortAudio).
DEPENDS="libc6 (>= 2.36), libstdc++6, libgcc-s1, zlib1g, libgl1, libegl1, libdrm2, libglib2.0-0, libdbus-1-3, \
libfontconfig1, libfreetype6, libx11-6, libx11-xcb1, libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-image0, \
libxcb-keysyms1, libxcb-randr0, libxcb-render-util0, libxcb-render0, libxcb-shape0, libxcb-shm0, libxcb-sync1, \
libxcb-xfixes0, libxcb-xkb1, libxkbcommon0, libxkbcommon-x11-0, libwayland-client0, libwayland-cursor0, \
libwayland-egl1, libpulse0, libportaudio2"
# The libraries PyInstaller copied from this system are left to Debian: removed from the package and
# declared with the version built against (installers/deb/system_libs.py; ~40 MB less installed).
# psycopg's binary build (its own libpq, OpenSSL, Kerberos, LDAP: 12 MB) too: psycopg then loads Debian's
# libpq5 (its Python implementation; the self-test's "store" check loads it).
rm -rf "$STAGE"/opt/clinscribe/_internal/psycopg_binary "$STAGE"/opt/clinscribe/_internal/psycopg_binary.libs \
  "$STAGE"/opt/clinscribe/_internal/psycopg_binary-*.dist-info
DEPENDS="$DEPENDS, libpq5"
# soundfile's own libsndfile (3 MB) too: soundfile then loads Debian's libsndfile1 (declared: the
# system's copy of it was bundled; the self-test's "recording" check writes and reads a FLAC)
rm -rf "$STAGE"/opt/clinscribe/_internal/_soundfile_data
DEPENDS="$DEPENDS, libsndfile1"
DEPENDS=$("${PYTHON:-.venv/bin/python}" installers/deb/system_libs.py "$STAGE/opt/clinscribe/_internal" "$DEPENDS")
RECOMMENDS="fonts-dejavu-core"
INSTALLED_KB=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CTRL
Package: clinscribe
Version: ${VERSION}
Architecture: ${ARCH}
Maintainer: ClinScribe <clinscribe@localhost>
Section: sound
Priority: optional
Installed-Size: ${INSTALLED_KB}
Depends: ${DEPENDS}
Recommends: ${RECOMMENDS}
Description: Medical dictation and transcription, offline or on AWS Transcribe Medical
 ClinScribe records or imports a consultation or a dictation and transcribes it on this computer
 (Whisper tiny.en, no network) or on AWS Transcribe Medical, with speaker labels, PHI
 identification, a transcript editor, exports and sending to the EHR (FHIR, HL7 v2).
 Python, Qt and the models are in /opt/clinscribe; common system libraries come from
 Debian (the Depends). Check it with
 'clinscribe --self-test'.
CTRL

# caches: refreshed only where they already exist (so that a purge leaves no new file behind)
cat > "$STAGE/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ -f /usr/share/icons/hicolor/icon-theme.cache ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
  gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
fi
if [ -f /usr/share/applications/mimeinfo.cache ] && command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q /usr/share/applications || true
fi
exit 0
SH
cat > "$STAGE/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
case "$1" in
  remove|purge)
    # anything written at run time under the install folder (never the users' data, kept in their homes)
    rm -rf /opt/clinscribe
    if [ -f /usr/share/icons/hicolor/icon-theme.cache ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
      gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
    fi
    if [ -f /usr/share/applications/mimeinfo.cache ] && command -v update-desktop-database >/dev/null 2>&1; then
      update-desktop-database -q /usr/share/applications || true
    fi
    ;;
esac
exit 0
SH
chmod 755 "$STAGE/DEBIAN/postinst" "$STAGE/DEBIAN/postrm"

start=$(date +%s)
dpkg-deb --build --root-owner-group -Zzstd "$STAGE" "$OUT" >/dev/null
echo "Package: $OUT ($(du -h "$OUT" | cut -f1), installed $(( INSTALLED_KB / 1024 )) MB) in $(( $(date +%s) - start )) s"
