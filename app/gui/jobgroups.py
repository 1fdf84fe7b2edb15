"""The job form's field groups (What, Who, Extras, Where, Tags) as a mixin of JobForm."""

from __future__ import annotations

from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QPushButton, QRadioButton, QSpinBox,
                               QTableWidget, QVBoxLayout, QWidget)

from .common import hint_label
from .jobrules import MEDIA_FORMATS


class JobFields:
    """Builds the request's fields; each error label is kept in self.labels under its field."""

    labels: dict[str, QLabel]

    def _row(self, form: QFormLayout, label: str, widget: QWidget, field: str, hint: str = ""):
        box = QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(widget)
        if hint:
            h = hint_label(hint)
            box.addWidget(h)
        err = hint_label(error=True)
        err.setAccessibleName(f"{label} error")
        err.hide()
        box.addWidget(err)
        self.labels[field] = err
        form.addRow(label, box)
        if not widget.accessibleName():
            widget.setAccessibleName(label.rstrip(":"))

    def _build_what(self, lay: QVBoxLayout) -> None:
        what = QGroupBox("What")
        f = QFormLayout(what)
        kind = QWidget()
        kl = QHBoxLayout(kind)
        kl.setContentsMargins(0, 0, 0, 0)
        self.dictation = QRadioButton("Dictation (one clinician)")
        self.conversation = QRadioButton("Conversation (clinician and patient)")
        self.dictation.setChecked(True)
        self.type_group = QButtonGroup(self)
        for b in (self.dictation, self.conversation):
            self.type_group.addButton(b)
            kl.addWidget(b)
        kl.addStretch(1)
        f.addRow("Type:", kind)
        self.media_uri = QLineEdit()
        self.media_uri.setPlaceholderText("Choose a recording or file, or type s3://bucket/key")
        self._row(f, "Audio:", self.media_uri, "media")
        self.media_info = hint_label()
        f.addRow("", self.media_info)
        self.specialty = QComboBox()
        self.specialty.addItem("Primary care", "PRIMARYCARE")
        self._row(f, "Specialty:", self.specialty, "specialty")
        self.language = QComboBox()
        self.language.setEditable(True)
        self.language.addItems(["en-US", "en-GB", "es-US"])
        self._row(f, "Language:", self.language, "language")
        self.media_format = QComboBox()
        self.media_format.addItem("Detect automatically", "")
        for fmt in MEDIA_FORMATS:
            self.media_format.addItem(fmt, fmt)
        self._row(f, "Media format:", self.media_format, "format")
        self.rate = QSpinBox()
        self.rate.setRange(0, 96000)
        self.rate.setSingleStep(1000)
        self.rate.setSpecialValueText("Detect automatically")
        self.rate.setSuffix(" Hz")
        self._row(f, "Sample rate:", self.rate, "rate")
        lay.addWidget(what)

    def _build_who(self, lay: QVBoxLayout) -> None:
        who = QGroupBox("Who")
        f = QFormLayout(who)
        self.who_none = QRadioButton("Don't separate voices")
        self.who_speakers = QRadioButton("Label speakers")
        self.who_channels = QRadioButton("One speaker per channel (two-channel recording)")
        self.who_none.setChecked(True)
        self.who_group = QButtonGroup(self)
        wbox = QVBoxLayout()
        for b in (self.who_none, self.who_speakers, self.who_channels):
            self.who_group.addButton(b)
            wbox.addWidget(b)
        f.addRow("Voices:", wbox)
        self.max_speakers = QSpinBox()
        self.max_speakers.setRange(0, 99)
        self.max_speakers.setValue(2)
        self._row(f, "Max. speakers:", self.max_speakers, "speakers")
        lay.addWidget(who)

    def _build_extras(self, lay: QVBoxLayout) -> None:
        extras = QGroupBox("Extras")
        f = QFormLayout(extras)
        self.show_alternatives = QCheckBox("Offer alternative transcriptions")
        f.addRow("", self.show_alternatives)
        self.max_alternatives = QSpinBox()
        self.max_alternatives.setRange(0, 99)
        self.max_alternatives.setValue(3)
        self._row(f, "Max. alternatives:", self.max_alternatives, "alternatives")
        # An editable list of the engine's READY vocabularies; typing any name is allowed too.
        self.vocabulary_box = QComboBox()
        self.vocabulary_box.setEditable(True)
        self.vocabulary_box.setAccessibleName("Custom vocabulary")
        self.vocabulary = self.vocabulary_box.lineEdit()
        self.vocabulary.setPlaceholderText("none")
        self._row(f, "Custom vocabulary:", self.vocabulary_box, "vocabulary")
        self.phi = QCheckBox("Identify protected health information (PHI)")
        f.addRow("", self.phi)
        # a note template for dictations (sections moved with "next field" / "go to plan"): a job tag
        self.template = QComboBox()
        self.template.setAccessibleName("Note template")
        self.refresh_templates()
        self._row(f, "Note template:", self.template, "template",
                  "Dictations: say \u201cnext field\u201d or \u201cgo to plan\u201d to move between sections.")
        lay.addWidget(extras)

    def refresh_templates(self) -> None:
        from ..live.templates import available_templates

        current = self.template.currentData()
        self.template.clear()
        self.template.addItem("None", "")
        templates, _problems = available_templates(self.ctx.home)
        for tid, tpl in sorted(templates.items(), key=lambda kv: kv[1].name):
            self.template.addItem(f"{tpl.name} ({', '.join(s.title for s in tpl.sections[:4])}"
                                  f"{', …' if len(tpl.sections) > 4 else ''})", tid)
        self.template.setCurrentIndex(max(self.template.findData(current or ""), 0))

    def _build_where(self, lay: QVBoxLayout) -> None:
        where = QGroupBox("Where")
        f = QFormLayout(where)
        self.bucket = QLineEdit(self.ctx.settings.default_output_bucket)
        self._row(f, "Output bucket:", self.bucket, "bucket")
        self.key = QLineEdit()
        self.key.setPlaceholderText("medical/<job name>.json")
        self._row(f, "Output key:", self.key, "key")
        self.kms = QLineEdit()
        self.kms.setPlaceholderText("none (S3-managed encryption)")
        self._row(f, "KMS key:", self.kms, "kms")
        self.context = QLineEdit()
        self.context.setPlaceholderText("key=value, key=value")
        self._row(f, "KMS encryption context:", self.context, "context")
        lay.addWidget(where)

    def _build_tags(self, lay: QVBoxLayout) -> None:
        tags = QGroupBox("Tags")
        tl = QVBoxLayout(tags)
        self.tags = QTableWidget(0, 2)
        self.tags.setAccessibleName("Tags")
        self.tags.setHorizontalHeaderLabels(["Key", "Value"])
        self.tags.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.tags.setMaximumHeight(140)
        tl.addWidget(self.tags)
        tb = QHBoxLayout()
        add, remove = QPushButton("Add tag"), QPushButton("Remove tag")
        add.clicked.connect(lambda: self.add_tag("", ""))
        remove.clicked.connect(lambda: self.tags.removeRow(max(self.tags.currentRow(), self.tags.rowCount() - 1)))
        tb.addWidget(add)
        tb.addWidget(remove)
        tb.addStretch(1)
        tl.addLayout(tb)
        self.labels["tags"] = hint_label(error=True)
        self.labels["tags"].hide()
        tl.addWidget(self.labels["tags"])
        lay.addWidget(tags)
