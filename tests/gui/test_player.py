"""The transcript editor's player (PyAV + FFmpeg's atempo + QAudioSink): what a listener would check —
the speed changes and the voice's pitch does not, a click on a word starts playback at that word, the
position runs and stops at the end, and a broken file is said, not a traceback."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

RATE = 16000


@pytest.fixture
def tone(tmp_path):
    """4 s of a 440 Hz tone, then 2 s of an 880 Hz one (so where playback starts can be heard)."""
    t = np.arange(4 * RATE) / RATE
    audio = np.concatenate([0.4 * np.sin(2 * np.pi * 440 * t), 0.4 * np.sin(2 * np.pi * 880 * t[: 2 * RATE])])
    path = tmp_path / "tone.flac"
    sf.write(path, audio.astype("float32"), RATE)
    return path


def _render(path, seconds=0.0, rate=1.0):
    from app.gui.player import render

    start, pcm = render(path, seconds=seconds, rate=rate, sample_rate=RATE, channels=1)
    return start, np.frombuffer(pcm, dtype="<i2").astype("float32") / 32768


def _pitch(samples) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * RATE / len(samples))


@pytest.mark.parametrize("rate", [0.75, 1.0, 1.5, 2.0])
def test_speed_changes_and_the_pitch_stays(tone, rate):
    _, out = _render(tone, rate=rate)
    assert len(out) / RATE == pytest.approx(6.0 / rate, abs=0.08)         # faster or slower ...
    first = out[: int(3.0 / rate * RATE)]                                  # ... within the 440 Hz part
    assert _pitch(first) == pytest.approx(440, abs=5)                      # ... same pitch


def test_playback_starts_at_the_asked_time(tone):
    start, out = _render(tone, seconds=4.5)
    assert 4.3 <= start <= 4.5                                             # the frame holding 4.5 s
    assert len(out) / RATE == pytest.approx(6.0 - start, abs=0.05)
    assert _pitch(out[: RATE // 2]) == pytest.approx(880, abs=5)           # the second tone is heard


def test_the_position_runs_to_the_end_and_stops(qapp, qtbot, tone):
    from app.gui.player import Player

    player = Player()
    states = []
    player.state_changed.connect(states.append)
    player.load(tone)
    assert player.duration == pytest.approx(6.0, abs=0.01)
    player.set_rate(2.0)
    player.seek_and_play(4.0)
    assert player.playing and states == [True]
    qtbot.waitUntil(lambda: player.position > 4.3, timeout=3000)
    qtbot.waitUntil(lambda: not player.playing, timeout=5000)              # 2 s at 2x: about 1 s
    assert states == [True, False] and player.position == pytest.approx(6.0, abs=0.05)
    player.play()                                                          # at the end, Play starts over
    qtbot.waitUntil(lambda: 0.1 < player.position < 2.0, timeout=3000)
    player.pause()
    here = player.position
    qtbot.wait(200)
    assert player.position == here and not player.playing
    player.skip(-10)
    assert player.position == 0.0                                          # never before the start


def test_a_file_that_is_not_audio_is_said_and_nothing_plays(qapp, tmp_path):
    from app.gui.player import Player

    bad = tmp_path / "dictation.wav"
    bad.write_bytes(b"RIFF not really a wave file" * 50)
    player = Player()
    problems = []
    player.problem.connect(problems.append)
    player.load(bad)
    assert problems and problems[0].startswith("The audio cannot be played:")
    problems.clear()
    player.play()                                                          # Play says it again
    assert not player.playing and problems and "cannot be played" in problems[0]
