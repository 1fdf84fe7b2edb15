#!/usr/bin/env bash
# Runs the test suite. When the Secret Service keyring is installed, the tests run
# inside a private D-Bus session with an unlocked gnome-keyring (a real OS keyring).
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
PYTEST=(.venv/bin/python -m pytest "$@")
if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
  export TMPHOME=$(mktemp -d)
  exec dbus-run-session -- bash -c '
    export HOME="$TMPHOME" XDG_DATA_HOME="$TMPHOME/.local/share"
    eval "$(printf clinscribe-test | gnome-keyring-daemon --unlock --components=secrets)"
    export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
    exec "$@"' bash "${PYTEST[@]}"
fi
exec "${PYTEST[@]}"
