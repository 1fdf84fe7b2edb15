"""Settings ▸ Note templates: the templates dictations can use, and the user's own (added here)."""

from __future__ import annotations

import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem,
                               QPlainTextEdit, QPushButton)

from ..live.templates import TemplateError, available_templates, save_user_template, user_templates_dir
from .common import hint_label, say


def template_id(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower()).strip("-")[:64]


class TemplatesBox(QGroupBox):
    changed = Signal()   # a template was added or removed (the job form lists them again)

    def __init__(self, home, parent=None):
        super().__init__("Note templates", parent)
        self.home = home
        f = QFormLayout(self)
        self.list = QListWidget()
        self.list.setAccessibleName("Note templates")
        self.list.setMaximumHeight(110)
        f.addRow("Available:", self.list)
        self.name = QLineEdit()
        self.name.setAccessibleName("New template name")
        self.name.setPlaceholderText("e.g. Cardiology follow-up")
        f.addRow("New template:", self.name)
        self.sections = QPlainTextEdit()
        self.sections.setAccessibleName("New template sections")
        self.sections.setPlaceholderText("One section per line, in order (History, Examination, Plan …)")
        self.sections.setMaximumHeight(90)
        f.addRow("Sections:", self.sections)
        row = QHBoxLayout()
        self.add_button = QPushButton("Save template")
        self.remove_button = QPushButton("Remove my template")
        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        f.addRow("", row)
        self.message = hint_label()
        f.addRow("", self.message)
        self.refresh()

    def _say(self, text: str, *, error: bool = False) -> None:
        say(self.message, text, error=error)

    def refresh(self) -> None:
        self.list.clear()
        templates, problems = available_templates(self.home)
        mine = user_templates_dir(self.home)
        for tid, tpl in sorted(templates.items(), key=lambda kv: kv[1].name):
            own = tpl.source and str(tpl.source).startswith(str(mine))
            item = QListWidgetItem(f"{tpl.name}: {', '.join(s.title for s in tpl.sections)}"
                                   f"{'  (yours)' if own else ''}")
            item.setData(256, (tid, own))
            self.list.addItem(item)
        if problems:
            self._say(problems[0], error=True)

    def add(self) -> None:
        name = self.name.text().strip()
        sections = [line.strip() for line in self.sections.toPlainText().splitlines() if line.strip()]
        tid = template_id(name)
        if not tid or not sections:
            self._say("Give the template a name and at least one section.", error=True)
            return
        try:
            save_user_template(self.home, tid, {"name": name, "sections": [{"title": s} for s in sections]})
        except (TemplateError, OSError) as exc:
            self._say(str(exc), error=True)
            return
        self.name.clear()
        self.sections.clear()
        self.refresh()
        self._say(f"Saved the template {name}: choose it in New job ▸ Note template.")
        self.changed.emit()

    def remove(self) -> None:
        item = self.list.currentItem()
        tid, own = item.data(256) if item else (None, False)
        if not own:
            self._say("Choose one of your own templates to remove (the shipped ones stay).", error=True)
            return
        (user_templates_dir(self.home) / f"{tid}.json").unlink(missing_ok=True)
        self.refresh()
        self._say("Removed.")
        self.changed.emit()
