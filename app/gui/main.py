"""Entry point of the desktop app: ``clinscribe`` with no arguments, or ``python -m app``."""

from __future__ import annotations

import os
import sys

STYLE_NAME = "Fusion"


def create_app(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "clinscribe", *(argv or [])])
    app.setApplicationName("ClinScribe")
    app.setOrganizationName("ClinScribe")
    app.setApplicationDisplayName("ClinScribe")
    app.setStyle(STYLE_NAME)   # honours the system's light/dark palette on every platform
    from .window import STYLE
    app.setStyleSheet(STYLE)
    from . import wheel
    wheel.install(app)         # form controls change with the wheel only when focused
    return app


def settings_problem() -> str | None:
    """Why the app must not start (a damaged settings.json), or None."""
    from ..core.config import Settings, SettingsError

    try:
        Settings.load()
    except SettingsError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    app = create_app(argv)
    problem = settings_problem()
    if problem:  # never start on defaults: PHI would go to the default storage root
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "ClinScribe cannot start", problem)
        return 1
    from .window import MainWindow

    window = MainWindow()
    if os.environ.get("CLINSCRIBE_QUIT_AFTER_SHOW"):  # cold start to a drawn window (packaging/check.sh)
        from .firstpaint import quit_after_first_paint
        quit_after_first_paint(window, os.environ["CLINSCRIBE_QUIT_AFTER_SHOW"])
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
