"""GUI tests: real widgets (offscreen Qt) over the real core and local engine."""

from __future__ import annotations

import functools
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

import pytest  # noqa: E402

from helpers import AUDIO, conversation_transcript  # noqa: E402

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("pytestqt")

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
    from app.audio.recording import FileInputStream

    return functools.partial(FileInputStream, JFK, speed=4.0)


@pytest.fixture()
def conversation():
    return conversation_transcript()


@pytest.fixture()
def jfk():
    return JFK
