"""A day's work in the app (issue 11): controls change only when the user means it, and more."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea


def wheel(widget, steps: int = -1) -> None:
    """A real wheel event over ``widget`` (one notch down by default), delivered as Qt delivers it."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_scrolling_the_job_form_never_changes_its_settings(make_window, qtbot):
    w = make_window(restore=False)
    w.show_page("New job")
    w.resize(900, 500)                      # a form taller than the window: it scrolls
    form = w.job_form
    form.media_uri.setText("s3://clinical-audio/visit.wav")
    form.media_uri.setFocus()
    scroll = form.findChild(QScrollArea)
    bar = scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=3000)
    before = {"format": form.media_format.currentText(), "language": form.language.currentText(),
              "preset": form.preset.currentText(), "specialty": form.specialty.currentText(),
              "rate": form.rate.value()}
    for control in (form.media_format, form.language, form.preset, form.specialty, form.rate):
        assert control.focusPolicy() != Qt.FocusPolicy.WheelFocus
        for _ in range(3):
            wheel(control)
    after = {"format": form.media_format.currentText(), "language": form.language.currentText(),
             "preset": form.preset.currentText(), "specialty": form.specialty.currentText(),
             "rate": form.rate.value()}
    assert after == before
    # a control the user clicked into still takes the wheel
    form.media_format.setFocus()
    qtbot.waitUntil(form.media_format.hasFocus, timeout=2000)
    wheel(form.media_format)
    assert form.media_format.currentText() != before["format"]
