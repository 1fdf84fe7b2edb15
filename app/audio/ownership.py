"""Who is still writing a recording: a lock the recording process holds, which dies with it.

A PID alone is not enough: after a reboot or a power cut the PID in a marker
may belong to some other live process. The recorder therefore holds an OS
file lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows) on
``<file>.partial.lock`` for as long as it records; the OS drops it when the
process ends, however it ends. A scanner that can take the lock knows the
writer is gone. Markers without a lock (written by older versions, or on a
file system without locks) fall back to the PID plus the process's start
time where the platform tells it (Linux ``/proc``).
"""

from __future__ import annotations

import os
from pathlib import Path

MARKER_SUFFIX = ".partial.json"
LOCK_SUFFIX = ".partial.lock"
_START_SLACK = 2.0     # seconds: /proc's boot time is whole seconds


def marker_for(path: Path) -> Path:
    return Path(str(path) + MARKER_SUFFIX)


def lock_for(path: Path) -> Path:
    return Path(str(path) + LOCK_SUFFIX)


class OwnerLock:
    """An exclusive, non-blocking OS lock on ``path``; OSError when it is held or unsupported."""

    def __init__(self, path: Path, *, create: bool = True):
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDWR | (os.O_CREAT if create else 0), 0o600)
        try:
            _lock(self._fd)
        except OSError:
            os.close(self._fd)
            raise

    def release(self, *, remove: bool = True) -> None:
        if self._fd is None:
            return
        if remove:   # unlink while still holding it, so no scanner takes a lock on a file about to vanish
            try:
                self.path.unlink()
            except OSError:
                pass
        try:
            _unlock(self._fd)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None
        if remove and os.name == "nt":   # Windows cannot unlink an open file
            try:
                self.path.unlink()
            except OSError:
                pass


if os.name == "nt":  # pragma: no cover - exercised on Windows runners
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def lock_held(path: Path) -> bool | None:
    """True: a live process holds the lock; False: it is free (its holder is gone); None: no lock file."""
    try:
        probe = OwnerLock(path, create=False)
    except FileNotFoundError:
        return None
    except OSError:
        return True   # held (or locking broke on this file system since: err on the side of "in use")
    probe.release(remove=False)
    return False


# -- PID plus start time, for markers without a lock -----------------------------------------
def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), None elsewhere or when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])   # field 22; the name in () may hold spaces
    except (IndexError, ValueError):
        return None


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def identity(pid: int | None = None) -> dict:
    """What a marker stores to tell this process from a later one with the same PID."""
    pid = os.getpid() if pid is None else pid
    out: dict = {"pid": pid}
    ticks, boot = _start_ticks(pid), _boot_id()
    if ticks is not None and boot:
        out.update(boot_id=boot, start_ticks=ticks)
    return out


def _pid_exists(pid: int) -> bool:
    if os.name == "nt":   # os.kill(pid, 0) would signal it there; without /proc we cannot tell: gone
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:     # EPERM: someone else's process
        return True
    return True


def pid_owner_alive(meta: dict) -> bool:
    """Whether the process named by a marker (no lock) is plausibly still the recorder."""
    pid = int(meta.get("pid", 0) or 0)
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if not _pid_exists(pid):
        return False
    ticks = _start_ticks(pid)
    if ticks is None:           # no /proc: the PID is all we have
        return True
    if meta.get("boot_id") and meta.get("start_ticks") is not None:
        return meta["boot_id"] == _boot_id() and int(meta["start_ticks"]) == ticks
    # an old marker: the recorder started before it wrote the marker; a later process only reuses the PID
    boot = _boot_time()
    started = meta.get("started")
    if boot is None or started is None:
        return True
    clk = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return boot + ticks / clk <= float(started) + _START_SLACK
