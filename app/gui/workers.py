"""Run blocking work (engine calls, media probing) off the GUI thread."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class _Relay(QObject):
    """Lives in the GUI thread: results cross threads through its queued signals."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, on_done, on_error):
        super().__init__()
        self._on_done, self._on_error = on_done, on_error
        self.done.connect(self._deliver_done)
        self.failed.connect(self._deliver_error)

    @Slot(object)
    def _deliver_done(self, value):
        _pending.discard(self)
        if self._on_done:
            self._on_done(value)

    @Slot(object)
    def _deliver_error(self, exc):
        _pending.discard(self)
        if self._on_error:
            self._on_error(exc)


_pending: set[_Relay] = set()


class _Task(QRunnable):
    def __init__(self, fn: Callable, relay: _Relay):
        super().__init__()
        self.fn, self.relay = fn, relay
        self.setAutoDelete(True)

    def run(self):
        try:
            value = self.fn()
        except BaseException as exc:  # delivered to the GUI thread
            self.relay.failed.emit(exc)
        else:
            self.relay.done.emit(value)


def pool() -> QThreadPool:
    return QThreadPool.globalInstance()


def run_async(fn: Callable, on_done: Callable | None = None, on_error: Callable | None = None) -> None:
    """Call ``fn()`` on a pool thread; ``on_done(result)`` / ``on_error(exc)`` run on the GUI thread."""
    relay = _Relay(on_done, on_error)
    _pending.add(relay)
    pool().start(_Task(fn, relay))


def busy() -> bool:
    return bool(_pending)


def wait_idle(ms: int = 10000) -> bool:
    return pool().waitForDone(ms)
