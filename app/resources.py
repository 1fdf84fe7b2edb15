"""The one way to find ClinScribe's resource files (icon, desktop entry, sample recording, licences).

``resource_path("clinscribe.png")`` works from:
- a frozen PyInstaller bundle: ``resources/`` under ``sys._MEIPASS`` (the spec puts it there);
- a checkout (or an editable install): ``resources/`` beside the ``app`` package;
- an installed wheel: ``<prefix>/share/clinscribe/resources`` (pyproject's data-files);
- anywhere, when ``CLINSCRIBE_RESOURCES`` names a folder (first, for packagers and tests).
Qt-free. The models in ``app/assets`` are package data and found next to the code in every case.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


class ResourceError(FileNotFoundError):
    pass


def resource_dirs() -> list[Path]:
    """Where resources are looked for, in order (only folders that exist)."""
    candidates: list[Path] = []
    if os.environ.get("CLINSCRIBE_RESOURCES"):
        candidates.append(Path(os.environ["CLINSCRIBE_RESOURCES"]))
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        candidates.append(Path(meipass) / "resources")
    candidates.append(PACKAGE_DIR.parent / "resources")
    for prefix in dict.fromkeys([sys.prefix, sys.base_prefix]):
        candidates.append(Path(prefix) / "share" / "clinscribe" / "resources")
    return [p for p in candidates if p.is_dir()]


def resource_path(name: str, *, must_exist: bool = True) -> Path:
    """The path of resource ``name`` (e.g. ``"sample/jfk.flac"``); ResourceError names where it looked."""
    dirs = resource_dirs()
    for folder in dirs:
        path = folder / name
        if path.exists():
            return path
    if must_exist:
        where = ", ".join(map(str, dirs)) or "no resources folder found"
        raise ResourceError(f"resource {name!r} not found (looked in: {where})")
    return (dirs[0] if dirs else PACKAGE_DIR.parent / "resources") / name
