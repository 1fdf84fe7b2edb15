#!/usr/bin/env bash
# One command from a fresh checkout: system libraries (when we may install them),
# the .venv with every Python package and the speech models, then the app's main job:
# transcribing a real recording offline with the local engine.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libportaudio2                      # the recorder (sounddevice)
  gnome-keyring dbus-daemon dbus-bin # the OS keyring (Secret Service) for AWS keys
  xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1  # Qt windows, screenshots
  libpulse0                          # QtMultimedia playback
  fonts-dejavu-core                  # a Unicode font embedded in PDF exports
  espeak-ng                          # the tests render dictations with spoken voice commands
  postgresql                         # tests/pg: a real PostgreSQL (initdb in a temp folder) for the worker pool
)
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    if $SUDO true 2>/dev/null; then
      echo "Installing system packages: ${missing[*]}"
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "Note: cannot install ${missing[*]} (needs root); recording/keyring/windows may be unavailable." >&2
    fi
  fi
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[gui,base,dev]"

# the real FHIR R4 server the EHR tests start (tests/servers/fhir: @medplum/fhir-router, pinned by its lock file)
if command -v npm >/dev/null 2>&1; then
  (cd tests/servers/fhir && npm ci --no-audit --no-fund --loglevel=error)
else
  echo "Note: npm is not installed; the FHIR send tests (tests/ehr) will be skipped." >&2
fi

if [ -d ../shared/data/audio ]; then
  .venv/bin/clinscribe transcribe ../shared/data/audio/jfk.flac --text
else
  echo "Installed. Transcribe a recording with: .venv/bin/clinscribe transcribe FILE --text"
fi
