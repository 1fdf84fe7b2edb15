"""The About text (app/about.py) and: the app makes no network call at start (no update ping, no telemetry)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from helpers import ROOT

from app import __version__
from app.about import about_summary, about_text, licence_of

GUARD = r"""
import os, socket, sys, atexit
attempts = []
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
def _blocked(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        attempts.append(f"connect {address!r}")
        raise OSError("network blocked by the test")
def connect(self, address):
    _blocked(self, address); return _connect(self, address)
def connect_ex(self, address):
    _blocked(self, address); return _connect_ex(self, address)
def getaddrinfo(host, *args, **kwargs):
    attempts.append(f"getaddrinfo {host!r}"); raise socket.gaierror("name lookup blocked by the test")
socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
atexit.register(lambda: open(os.environ["NET_LOG"], "w").write("\n".join(attempts)))
sys.argv = ["clinscribe"]
from app.cli import main
sys.exit(main([]))
"""


def test_about_says_version_model_and_licences():
    text = about_text(model="tiny.en (local engine, device auto)")
    assert f"ClinScribe {__version__}" in text and "Model in use: tiny.en" in text
    for model in ("Whisper tiny.en", "Silero VAD", "segmentation-3.0", "CAM++", "en_core_web_sm"):
        assert model in text
    assert "Apache-2.0" in text and "MIT" in text
    assert re.search(r"PySide6-Essentials [\d.]+: LGPL-3\.0", text)
    assert licence_of("faster-whisper")[1].startswith("MIT")
    assert licence_of("no-such-distribution-here") is None
    assert "no update check, no telemetry" in about_summary(model="x")


def test_no_network_call_at_start(tmp_path):
    """A fresh installation (AWS not configured) starts, draws its window and idles 3 s with every IP
    connection refused and recorded: at Python level (socket guard) and, where strace is installed, at
    the system-call level (Qt's own C++ code included). Once the user configures AWS (keys in the OS
    keyring or a profile), the Jobs view lists their AWS jobs at start: that is the user's own service,
    not a ping, so the test keeps the session's keyring (and any AWS_* variable) away from the app."""
    drop = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("AWS_")}
    env.update(PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", CLINSCRIBE_QUIT_AFTER_SHOW="3",
               CLINSCRIBE_HOME=str(tmp_path / "home"), HOME=str(tmp_path), NET_LOG=str(tmp_path / "net.log"),
               QT_LOGGING_RULES="qt.multimedia.*=false")
    cmd = [sys.executable, "-c", GUARD]
    strace = shutil.which("strace")
    if strace:
        cmd = [strace, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(tmp_path / "strace.log"), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "first paint" in proc.stdout, proc.stdout + proc.stderr
    assert (tmp_path / "net.log").read_text() == ""
    if strace:
        calls = (tmp_path / "strace.log").read_text().splitlines()
        ip = [c for c in calls if "AF_INET" in c]
        assert ip == [], "\n".join(ip)
