"""GUI tests: real widgets (offscreen Qt) over the real core and local engine."""

from __future__ import annotations

import functools
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

import pytest  # noqa: E402

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

AUDIO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "audio"
JFK = AUDIO / "jfk.flac"


@pytest.fixture()
def make_window(qtbot, home):
    """Open the main window on the test's home folder, as the app does."""
    from app.gui.main import create_app
    from app.gui.window import MainWindow

    create_app([])
    windows = []

    def make(**kwargs):
        w = MainWindow(home, **kwargs)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        windows.append(w)
        return w

    yield make
    from app.gui.workers import wait_idle
    for w in windows:
        w.jobs.timer.stop()
    wait_idle(10000)


@pytest.fixture()
def fake_mic():
    """A microphone that speaks jfk.flac at four times real pace."""
    from app.recording import FileInputStream

    return functools.partial(FileInputStream, JFK, speed=4.0)


def item(i, word, start, end, conf="0.99", spk=None, kind="pronunciation"):
    out = {"id": i, "type": kind, "alternatives": [{"confidence": conf if kind == "pronunciation" else "0.0",
                                                     "content": word}]}
    if kind == "pronunciation":
        out["start_time"], out["end_time"] = str(start), str(end)
    if spk is not None:
        out["speaker_label"] = spk
    return out


@pytest.fixture()
def conversation():
    """A two-speaker AWS medical transcript with alternatives and a PHI entity (spec §2 shapes)."""
    items = [item(0, "Hello", 0.1, 0.4, spk="spk_0"), item(1, "John", 0.5, 0.8, "0.95", "spk_0"),
             item(2, "Smith", 0.8, 1.1, "0.45", "spk_0"), item(3, ".", 0, 0, spk="spk_0", kind="punctuation"),
             item(4, "I", 1.5, 1.6, spk="spk_1"), item(5, "have", 1.6, 1.8, "0.7", "spk_1"),
             item(6, "chest", 1.8, 2.1, spk="spk_1"), item(7, "pane", 2.1, 2.4, "0.4", "spk_1"),
             item(8, ".", 0, 0, spk="spk_1", kind="punctuation")]
    alt_items = [{"start_time": s, "end_time": e, "confidence": "0.9", "content": w, "type": "pronunciation"}
                 for w, s, e in (("I", "1.5", "1.6"), ("have", "1.6", "1.8"), ("chest", "1.8", "2.1"),
                                 ("pain", "2.1", "2.4"))]
    return {"jobName": "visit-1", "accountId": "0", "status": "COMPLETED", "results": {
        "transcripts": [{"transcript": "Hello John Smith. I have chest pane."}],
        "items": items,
        "audio_segments": [
            {"id": 0, "transcript": "Hello John Smith.", "start_time": "0.1", "end_time": "1.1",
             "speaker_label": "spk_0", "items": [0, 1, 2, 3]},
            {"id": 1, "transcript": "I have chest pane.", "start_time": "1.5", "end_time": "2.4",
             "speaker_label": "spk_1", "items": [4, 5, 6, 7, 8]}],
        "segments": [{"start_time": "1.5", "end_time": "2.4", "alternatives": [
            {"transcript": "I have chest pane.", "items": []},
            {"transcript": "I have chest pain.", "items": alt_items}]}],
        "entities": [{"start_time": 0.5, "end_time": 1.1, "category": "PHI-Personal", "content": "John Smith",
                      "confidence": 0.99}],
    }}


@pytest.fixture()
def jfk():
    return JFK
