"""What the views share: the home folder, settings, engines, and local media of jobs."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy

from ..core.config import Settings, home as default_home

ENGINE_LABELS = {"local": "Local (this computer)", "aws": "AWS Transcribe Medical"}


def describe_error(exc: BaseException) -> str:
    """A message for the user: AWS's own message for ClientErrors, the text otherwise."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error", {}).get("Message"):
        return response["Error"]["Message"]
    text = str(exc).strip()
    return text or type(exc).__name__


def unique_job_name(stem: str | None = None) -> str:
    """A fresh job name (neutral unless ``stem`` is given: see app.core.outputs.job_name)."""
    from ..core.outputs import job_name

    return job_name(stem)


def dark_theme() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def confidence_color(conf: float | None, dark: bool | None = None) -> QColor | None:
    """Foreground for a word: none for confident words, amber and red for doubtful ones. Each is
    readable (WCAG AA, 4.5:1) on the window's background and on the PHI highlight."""
    if conf is None:
        return None
    dark = dark_theme() if dark is None else dark
    if conf < 0.5:
        return QColor("#ff8a80" if dark else "#c62828")
    if conf < 0.8:
        return QColor("#ffb74d" if dark else "#8a4f00")
    return None


def phi_background(dark: bool | None = None) -> QColor:
    """The highlight behind PHI words."""
    return QColor("#463800" if (dark_theme() if dark is None else dark) else "#fff1b8")


def hint_label(text: str = "", *, error: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(label.textInteractionFlags())
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    label.setProperty("role", "error" if error else "hint")
    return label


def say(label: QLabel, text: str, *, error: bool = False) -> None:
    """A status line: problems in the error style (as hint_label(error=True)), the rest as a hint."""
    label.setText(text)
    label.setProperty("role", "error" if error else "hint")
    label.style().unpolish(label)
    label.style().polish(label)


class MediaIndex:
    """Which local file a job was made from (for playback), kept in ``<home>/gui/media.json``."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}

    def get(self, engine: str, job: str) -> Path | None:
        value = self.data.get(f"{engine}/{job}")
        return Path(value) if value else None

    def set(self, engine: str, job: str, path: Path | None) -> None:
        key = f"{engine}/{job}"
        if path is None:
            self.data.pop(key, None)
        else:
            self.data[key] = str(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.data, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)


class AppContext(QObject):
    """One per window: settings, engines (created on demand, thread-safe) and app-wide signals."""

    jobs_changed = Signal()
    settings_changed = Signal()
    notice = Signal(str)  # one line the user must see (e.g. a damaged job database was rebuilt)

    def __init__(self, home: Path | None = None):
        super().__init__()
        self.home = Path(home) if home else default_home()
        self.settings = Settings.load(self.home)
        self.media = MediaIndex(self.home / "gui" / "media.json")
        self._engines: dict = {}
        self._lock = threading.Lock()
        self.recordings_dir = self.home / "recordings"
        self.vocabularies_dir = self.home / "vocabularies"

    def engine(self, kind: str):
        """The engine ``kind`` (raises with a user-readable message when it cannot be made)."""
        with self._lock:
            if kind not in self._engines:
                from ..engine import create_engine
                try:
                    self._engines[kind] = create_engine(kind, settings=self.settings, base=self.home)
                except ImportError as exc:
                    raise RuntimeError(f"The {ENGINE_LABELS.get(kind, kind)} engine is not available "
                                       f"in this installation ({exc}).") from exc
                if getattr(self._engines[kind], "notice", None):
                    self.notice.emit(self._engines[kind].notice)
                resume = getattr(self._engines[kind], "resume_polling", None)
                if resume is not None:  # AWS jobs a previous session left running
                    resume(background=True)
            return self._engines[kind]

    def known_engines(self) -> list[str]:
        """Engines whose jobs to list: local always, AWS once it is configured."""
        kinds = ["local"]
        if self.settings.engine == "aws" or "aws" in self._engines or self._aws_configured():
            kinds.append("aws")
        return kinds

    def _aws_configured(self) -> bool:
        if self.settings.aws_profile:
            return True
        try:
            from ..store import credentials
            return credentials.load_aws_keys() is not None
        except Exception:
            return False

    def apply_settings(self, settings: Settings) -> None:
        settings.save(self.home)
        self.settings = settings
        with self._lock:
            for engine in self._engines.values():
                try:
                    engine.close()
                except Exception:
                    pass
            self._engines.clear()
        self.settings_changed.emit()
        self.jobs_changed.emit()
