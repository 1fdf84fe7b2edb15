"""``clinscribe --self-test`` (app/selftest.py) and the resource helper (app/resources.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

from app import resources
from app.selftest import word_error_rate


def _clinscribe() -> list[str]:
    script = ROOT / ".venv" / "bin" / "clinscribe"
    return [str(script)] if script.exists() else [sys.executable, "-m", "app"]


def _run(tmp_path: Path, **env_extra) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    # this checkout's app, not whichever the venv's editable install points at
    env.update(PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1",
               HOME=str(tmp_path / "user"), CLINSCRIBE_HOME=str(tmp_path / "user-home"), **env_extra)
    return subprocess.run([*_clinscribe(), "--self-test"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=240, stdin=subprocess.DEVNULL)


def test_self_test_passes_and_leaves_the_users_home_alone(tmp_path):
    proc = _run(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for name in ("resources", "model", "engine", "transcribe", "phi", "speakers", "aws", "recording", "store", "exports", "gui"):
        assert any(line.startswith("ok") and f" {name} " in line for line in lines), proc.stdout
    assert "WER 0.0" in proc.stdout and lines[-1].startswith("self-test passed in ")
    assert not (tmp_path / "user-home").exists()   # a temporary home, removed; never the user's


def test_self_test_says_what_is_broken(tmp_path):
    broken = tmp_path / "res"
    (broken / "sample").mkdir(parents=True)
    (broken / "sample" / "jfk.flac").write_bytes(b"this is not audio" * 100)
    proc = _run(tmp_path, CLINSCRIBE_RESOURCES=str(broken))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL transcribe" in proc.stdout and "SELF-TEST FAILED" in proc.stdout
    assert "ok   model" in proc.stdout   # what still works is said too
    assert "  - transcribe: job FAILED" in proc.stdout


def test_word_error_rate():
    assert word_error_rate("ask not what", "Ask not, what") == 0
    assert word_error_rate("ask not what", "ask what") == 1 / 3
    assert word_error_rate("a b", "a b c d") == 1.0


def test_resource_path_checkout_frozen_and_override(tmp_path, monkeypatch):
    monkeypatch.delenv("CLINSCRIBE_RESOURCES", raising=False)
    assert resources.resource_path("clinscribe.png") == ROOT / "resources" / "clinscribe.png"
    frozen = tmp_path / "meipass"
    (frozen / "resources" / "sample").mkdir(parents=True)
    (frozen / "resources" / "sample" / "jfk.flac").write_bytes(b"x")
    monkeypatch.setattr(sys, "_MEIPASS", str(frozen), raising=False)
    assert resources.resource_path("sample/jfk.flac") == frozen / "resources" / "sample" / "jfk.flac"
    assert resources.resource_path("clinscribe.svg") == ROOT / "resources" / "clinscribe.svg"  # falls through
    try:
        resources.resource_path("no-such-file")
    except resources.ResourceError as exc:
        assert "no-such-file" in str(exc) and str(frozen) in str(exc)
    else:
        raise AssertionError("no ResourceError")


def test_every_icon_size_and_the_desktop_entry():
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        assert (ROOT / "resources" / "icons" / f"clinscribe-{size}.png").is_file()
    entry = (ROOT / "resources" / "clinscribe.desktop").read_text()
    assert "Categories=Office;MedicalSoftware;" in entry and "Exec=clinscribe %F" in entry
