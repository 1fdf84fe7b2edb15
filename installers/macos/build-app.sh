#!/usr/bin/env bash
# macOS only (a macOS runner; NOT runnable on Linux): dist/ClinScribe.app (PyInstaller's BUNDLE step of
# packaging/clinscribe.spec, Info.plist with NSMicrophoneUsageDescription) and dist/ClinScribe-<version>.dmg.
#   bash installers/macos/build-app.sh            (after bash scripts/setup.sh on the Mac)
# Signing: ad-hoc unless CODESIGN_IDENTITY names a Developer ID (then notarize with notarytool yourself).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname -s)" = Darwin ] || { echo "build-app.sh: needs macOS (hdiutil, codesign)" >&2; exit 1; }
PY=${PYTHON:-.venv/bin/python}
"$PY" -c "import PyInstaller" 2>/dev/null || "$PY" -m pip install -q "pyinstaller>=6.10"
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' app/__init__.py)

rm -rf build/pyinstaller dist/clinscribe dist/ClinScribe.app
CLINSCRIBE_WINDOWED=1 HF_HUB_OFFLINE=1 "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/clinscribe.spec
APP=dist/ClinScribe.app
/usr/libexec/PlistBuddy -c "Print :NSMicrophoneUsageDescription" "$APP/Contents/Info.plist"
plutil -lint "$APP/Contents/Info.plist"
codesign --force --deep --options runtime --sign "${CODESIGN_IDENTITY:--}" "$APP"
"$APP/Contents/MacOS/clinscribe" --self-test

DMG="dist/ClinScribe-${VERSION}.dmg"
STAGE=build/dmg && rm -rf "$STAGE" && mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/" && ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "ClinScribe ${VERSION}" -srcfolder "$STAGE" -ov -format UDZO "$DMG"
echo "Built $APP and $DMG ($(du -h "$DMG" | cut -f1))"
