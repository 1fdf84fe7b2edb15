"""Crash-safe recording: chunks on disk as they come, interrupted recordings found and repaired."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.audio import recording
from app.audio.recording import FileInputStream, Recorder

JFK = __import__("helpers").AUDIO / "jfk.flac"


def fake(speed=4.0):
    return functools.partial(FileInputStream, JFK, speed=speed)


@pytest.mark.parametrize("fmt,channels", [("WAV", 1), ("FLAC", 2)])
def test_record_pause_resume_stop(tmp_path, fmt, channels):
    rec = Recorder(tmp_path, samplerate=16000, channels=channels, file_format=fmt, stream_factory=fake())
    path = rec.start()
    assert recording.marker_for(path).exists()
    time.sleep(0.6)
    rec.pause()
    time.sleep(0.3)
    paused_at = rec.elapsed
    time.sleep(0.5)
    assert rec.elapsed == pytest.approx(paused_at, abs=0.15)   # nothing recorded while paused
    rec.resume()
    time.sleep(0.6)
    assert rec.level > 0.01
    assert rec.stop() == path
    assert not recording.marker_for(path).exists()
    info = soundfile.info(str(path))
    assert info.channels == channels and info.samplerate == 16000
    assert info.duration == pytest.approx(rec.elapsed, abs=0.01)
    assert 3.0 < info.duration < 7.0     # ~1.2 s wall at 4x speed, the pause excluded
    data, _ = soundfile.read(str(path))
    assert np.abs(data).max() > 0.05     # real speech, not silence
    assert recording.find_interrupted(tmp_path) == []


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_killed_recording_is_found_and_playable(tmp_path, fmt):
    script = textwrap.dedent(f"""
        import functools, sys, time
        from pathlib import Path
        from app.audio.recording import Recorder, FileInputStream
        r = Recorder(Path({str(tmp_path)!r}), file_format={fmt!r},
                     stream_factory=functools.partial(FileInputStream, Path({str(JFK)!r}), speed=4.0))
        r.start()
        print("started", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert proc.stdout.readline().strip() == "started"
    time.sleep(2.5)                         # ~10 s of audio at 4x
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    found = recording.find_interrupted(tmp_path)
    assert len(found) == 1
    item = found[0]
    # at most about a second (4 s of audio at 4x pace, plus FLAC's block) is lost
    assert item.duration > 5.0
    path = recording.recover(item)
    assert not item.marker.exists()
    data, rate = soundfile.read(str(path))
    assert rate == 16000 and len(data) / rate == pytest.approx(item.duration, abs=0.01)
    assert recording.find_interrupted(tmp_path) == []


def test_running_recording_is_not_offered(tmp_path):
    rec = Recorder(tmp_path, stream_factory=fake())
    rec.start()
    try:
        assert recording.find_interrupted(tmp_path) == []
    finally:
        rec.stop()


def test_no_portaudio_gives_clear_message(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fail(name, *args, **kwargs):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", fail)
    with pytest.raises(recording.AudioUnavailable, match="PortAudio"):
        recording.list_input_devices()


def test_no_input_device_message(monkeypatch):
    class SD:
        default = type("D", (), {"device": [-1, -1]})()

        @staticmethod
        def query_devices():
            return []

    monkeypatch.setattr(recording, "_sounddevice", lambda: SD)
    with pytest.raises(recording.AudioUnavailable, match="No microphone"):
        recording.list_input_devices()
