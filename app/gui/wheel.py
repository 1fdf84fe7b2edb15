"""The mouse wheel changes a value only when the user means it.

Scrolling a long form passes the pointer over combo boxes and spin boxes; Qt lets each one take
the wheel and change its value (wav → mp3, a language, a preset) without the user noticing. This
application-wide filter gives such a control the wheel only while it has keyboard focus (clicked
or tabbed into); otherwise the event goes on to the scroll area under it, which scrolls. Wheel
focus is turned off for them, so the wheel alone never focuses one.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QWidget

_GUARDED = (QComboBox, QAbstractSpinBox)


def _control(obj: QObject) -> QWidget | None:
    """The combo or spin box an event is for (also through an editable one's line edit)."""
    for candidate in (obj, obj.parent() if isinstance(obj, QWidget) else None):
        if isinstance(candidate, _GUARDED):
            return candidate
    return None


class WheelGuard(QObject):
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish and isinstance(obj, _GUARDED):
            if obj.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                obj.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif kind == QEvent.Type.Wheel:
            control = _control(obj)
            if control is not None and not control.hasFocus():
                event.ignore()   # not ours: Qt passes it on to the parent (the form's scroll area)
                return True
        return False


def install(app) -> WheelGuard:
    guard = getattr(app, "_clinscribe_wheel_guard", None)
    if guard is None:
        guard = WheelGuard(app)
        app.installEventFilter(guard)
        app._clinscribe_wheel_guard = guard
    return guard
