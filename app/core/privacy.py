"""PHI stays private on disk: everything under the home folder (and a chosen storage root) is
owner-only — folders 0700, files 0600 — on every platform that has POSIX modes.

New files get it from the process's umask (set by the entry points and the local engine);
folders and files that already exist (a home made by an older version, a copied backup) are
tightened once per process when the folder is first used. Nothing here may stop the app:
a path that cannot be changed is left as it is.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

PRIVATE_UMASK = 0o077
_done: set[str] = set()
_lock = threading.Lock()


def restrict_new_files() -> None:
    """Files and folders this process creates from now on are owner-only."""
    if os.name == "posix":
        os.umask(PRIVATE_UMASK)


def private_folder(path: Path) -> Path:
    """``path`` created if need be, owner-only, with everything already in it tightened once."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = str(path.resolve())
    with _lock:
        if key in _done:
            return path
        _done.add(key)
    tighten(path)
    return path


def tighten(root: Path) -> None:
    """Remove group and other permissions from ``root`` and everything below it (links are not followed)."""
    if os.name != "posix":
        return
    _strip(root)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            _strip(Path(folder) / name)


def _strip(path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode) or not mode & 0o077:
            return
        os.chmod(path, stat.S_IMODE(mode) & 0o700)
    except OSError:  # not ours, read-only media: leave it, never fail a command over it
        pass


def write_private(path: Path, body: bytes) -> None:
    """``body`` into ``path`` atomically, the file readable by its owner only."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        if os.name == "posix":
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
