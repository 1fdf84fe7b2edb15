"""``CLINSCRIBE_QUIT_AFTER_SHOW=<seconds>``: print the time from process start to the main window's
first paint, then quit that many seconds later (packaging/check.sh measures cold start with it)."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget


def process_age() -> float:
    """Seconds since this process began (the bootloader's start, for the frozen bundle)."""
    try:  # Linux: both relative to boot, 10 ms precision (psutil's create_time has whole-second btime)
        import os

        ticks = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
        uptime = float(open("/proc/uptime").read().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except Exception:
        import psutil

        return time.time() - psutil.Process().create_time()


class _FirstPaint(QObject):
    def __init__(self, window: QWidget, linger: float):
        super().__init__(window)
        self.linger, self.done = linger, False
        window.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            print(f"first paint {process_age():.2f} s after process start", file=sys.stdout, flush=True)
            QTimer.singleShot(int(self.linger * 1000), QApplication.instance().quit)
        return False


def quit_after_first_paint(window: QWidget, linger: str) -> None:
    try:
        seconds = max(0.0, float(linger))
    except ValueError:
        seconds = 0.0
    window._first_paint = _FirstPaint(window, seconds)
