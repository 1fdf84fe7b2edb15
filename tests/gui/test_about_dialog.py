"""Help > About: the version, the model in use and the licences (text from app/about.py)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from app import __version__


def test_about_dialog_shows_version_model_and_licences(make_window, monkeypatch):
    shown = {}

    def fake_exec(box):
        shown.update(title=box.windowTitle(), text=box.text(), details=box.detailedText())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    window = make_window()
    window._about()
    assert shown["title"] == "About ClinScribe"
    assert f"ClinScribe {__version__}" in shown["text"] and "Model in use: tiny.en" in shown["text"]
    assert "CAM++" in shown["text"] and "Apache-2.0" in shown["text"]
    assert "PySide6-Essentials" in shown["details"] and "faster-whisper" in shown["details"]
    assert not window.windowIcon().isNull()   # resources/clinscribe.png, found through app/resources.py
