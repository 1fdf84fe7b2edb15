"""Crash-safe recording: chunks on disk as they come, interrupted recordings found and repaired."""

from __future__ import annotations

import functools
import json
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
from helpers import AUDIO

JFK = AUDIO / "jfk.flac"


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


CHILD = textwrap.dedent("""
    import functools, sys, time
    from pathlib import Path
    from app.audio.recording import Recorder, FileInputStream

    class Idle:   # a microphone that has not delivered anything yet
        def __init__(self, **kwargs): pass
        def start(self): pass
        def stop(self): pass
        def close(self): pass

    folder, fmt, source, loop = sys.argv[1:5]
    mic = Idle if source == "idle" else functools.partial(FileInputStream, Path(source), speed=4.0,
                                                          loop=loop == "loop")
    r = Recorder(Path(folder), file_format=fmt, stream_factory=mic)
    r.start()
    print("started", flush=True)
    while True:                 # what the recorder has written so far, for the test to compare
        print(r.frames, flush=True)
        time.sleep(0.02)
""")


def start_recorder(folder, fmt, source=JFK, loop=True):
    """A recording app in its own process, fed by real audio (or by nothing, for source="idle")."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), fmt, str(source),
                             "loop" if loop else "once"],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    assert proc.stdout.readline().strip() == "started"
    return proc


def kill(proc) -> int:
    """SIGKILL the recorder; returns the frames it had written by then (as last reported)."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    counts = [int(x) for x in proc.stdout.read().split() if x.isdigit()]
    proc.stdout.close()
    return counts[-1] if counts else 0


def source_audio(frames: int) -> np.ndarray:
    """What FileInputStream fed the recorder: jfk at 16 kHz mono, looped."""
    data = FileInputStream(JFK, samplerate=16000, channels=1, callback=None).data[:, 0]
    cycle = data[: len(data) // 800 * 800]
    return np.tile(cycle, frames // len(cycle) + 1)[:frames]


# at 16 kHz libsndfile's FLAC encoder holds back one block of 4096 samples until it is full;
# WAV data reaches the disk as it is written
MAX_LOSS = {"WAV": 0.1, "FLAC": 4096 / 16000 + 0.05}


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_killed_recording_keeps_every_sample_on_disk(tmp_path, fmt):
    proc = start_recorder(tmp_path, fmt)
    time.sleep(2.5)                         # ~10 s of audio at 4x
    fed = kill(proc)
    found = recording.find_interrupted(tmp_path)
    assert len(found) == 1
    item = found[0]
    assert not item.empty
    path = recording.recover(item)
    assert not item.marker.exists() and not recording.lock_for(path).exists()
    data, rate = soundfile.read(str(path), dtype="float32")
    assert rate == 16000 and len(data) / rate == pytest.approx(item.duration, abs=0.001)
    loss = (fed - len(data)) / rate
    assert loss <= MAX_LOSS[fmt], f"{fmt}: {loss:.3f} s of {fed / rate:.2f} s lost"
    # what is recovered is the audio that was fed, sample for sample (16-bit rounding aside)
    assert np.abs(data - source_audio(len(data))).max() < 2 / 32768
    assert recording.find_interrupted(tmp_path) == []


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_killed_after_the_last_sound_keeps_all_but_the_encoder_block(tmp_path, fmt):
    proc = start_recorder(tmp_path, fmt, loop=False)        # jfk once: 11 s, 176000 samples
    total = len(source_audio(176000))
    deadline = time.monotonic() + 10
    for line in proc.stdout:
        if int(line) >= total or time.monotonic() > deadline:
            break
    time.sleep(0.8)                                          # a flush has happened since
    assert kill(proc) == total
    [item] = recording.find_interrupted(tmp_path)
    data, rate = soundfile.read(str(recording.recover(item)), dtype="float32")
    assert total - len(data) <= (0 if fmt == "WAV" else 4095)   # FLAC: only the unfinished block
    assert np.abs(data - source_audio(len(data))).max() < 2 / 32768


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_killed_before_any_sound_is_discarded_with_a_message(tmp_path, fmt):
    kill(start_recorder(tmp_path, fmt, source="idle"))
    [item] = recording.find_interrupted(tmp_path)
    assert item.empty and item.duration == 0.0
    with pytest.raises(recording.EmptyRecording) as exc:
        recording.recover(item)
    message = str(exc.value)
    assert "no audio" in message and item.path.name in message and "discarded" in message
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == []                   # no 0-byte file, marker or lock left
    assert recording.find_interrupted(tmp_path) == []


def test_flac_torn_at_the_end_keeps_the_frames_before_the_tear(tmp_path):
    """A power cut can leave the last FLAC frame half written: every whole frame before it is kept."""
    live = tmp_path / "live"
    rec = Recorder(live, channels=2, samplerate=48000, file_format="FLAC", stream_factory=fake(speed=8.0))
    path = rec.start()
    time.sleep(1.0)
    fed = rec.frames                             # written before the copy below
    raw = path.read_bytes()                      # the file as it is on disk mid-recording
    rec.stop()
    reference, _ = soundfile.read(str(path), dtype="float32")
    (tmp_path / "torn.flac").write_bytes(raw[:-700])
    recording.marker_for(tmp_path / "torn.flac").write_text(json.dumps({"file": "torn.flac", "pid": 0}))
    [item] = recording.find_interrupted(tmp_path)
    data, rate = soundfile.read(str(recording.recover(item)), dtype="float32")
    assert rate == 48000 and data.shape[1] == 2
    assert fed - len(data) < 2 * 4096            # the encoder's unfinished block and the torn frame
    assert np.array_equal(data, reference[: len(data)])


def _sleeper():
    return subprocess.Popen(["sleep", "30"])


def test_marker_whose_pid_now_belongs_to_another_process_is_interrupted(tmp_path):
    kill(start_recorder(tmp_path, "WAV"))
    [marker] = tmp_path.glob("*.partial.json")
    other = _sleeper()      # the recorder's PID, reused after a reboot by some unrelated live process
    try:
        meta = json.loads(marker.read_text())
        meta["pid"] = other.pid
        marker.write_text(json.dumps(meta))
        assert [i.path.name for i in recording.find_interrupted(tmp_path)] == [meta["file"]]
    finally:
        other.kill()
        other.wait()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times come from /proc")
def test_old_marker_with_pid_only(tmp_path):
    """Markers written by older versions carry a PID and a start time only."""
    kill(start_recorder(tmp_path, "WAV"))
    [marker] = tmp_path.glob("*.partial.json")
    meta = json.loads(marker.read_text())
    old = {k: meta[k] for k in ("file", "samplerate", "channels", "format")}
    other = _sleeper()
    try:
        time.sleep(0.1)
        # its PID was reused by a process that started after the recording did: interrupted
        marker.write_text(json.dumps({**old, "pid": other.pid, "started": time.time() - 60}))
        (tmp_path / (meta["file"] + ".partial.lock")).unlink(missing_ok=True)   # no lock back then
        assert len(recording.find_interrupted(tmp_path)) == 1
        # a live process that was already running when the recording started may be its recorder
        marker.write_text(json.dumps({**old, "pid": other.pid, "started": time.time() + 5}))
        assert recording.find_interrupted(tmp_path) == []
    finally:
        other.kill()
        other.wait()
    assert len(recording.find_interrupted(tmp_path)) == 1   # and once it is gone, it is offered


def test_live_recorder_in_another_process_is_not_offered(tmp_path):
    proc = start_recorder(tmp_path, "FLAC")
    try:
        time.sleep(0.5)
        assert recording.find_interrupted(tmp_path) == []
        assert len(list(tmp_path.glob("*.partial.json"))) == 1
    finally:
        kill(proc)
    assert len(recording.find_interrupted(tmp_path)) == 1


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
