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
    # the daemon takes the Secret Service name a moment after it forks; a test that asked before it had
    # (or after it failed to) would start a second, locked one that can only prompt: wait for the name
    up() { ! command -v dbus-send >/dev/null || dbus-send --session --print-reply --dest=org.freedesktop.DBus \
      /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; }
    for attempt in 1 2 3; do
      again=; [ "$attempt" = 1 ] || again=--replace
      eval "$(printf clinscribe-test | gnome-keyring-daemon $again --unlock --components=secrets)"
      for i in $(seq 50); do up && break; sleep 0.1; done
      up && break
      echo "test.sh: the test keyring did not come up (attempt $attempt of 3)" >&2
    done
    export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
    exec "$@"' bash "${PYTEST[@]}"
fi
exec "${PYTEST[@]}"
