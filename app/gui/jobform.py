"""The job form: every StartMedicalTranscriptionJob field, validated live by the core.

Its field groups are built in jobgroups.py; what it knows without widgets is in jobrules.py."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QScrollArea, QTableWidgetItem, QVBoxLayout, QWidget)

from ..core.validation import START, validate
from .common import ENGINE_LABELS, AppContext, describe_error, hint_label, unique_job_name
from .jobgroups import JobFields
from .jobrules import PRESETS, describe_media, field_for, split_errors
from .workers import run_async

__all__ = ["JobForm", "describe_media", "field_for", "split_errors"]


class JobForm(JobFields, QWidget):
    submitted = Signal(str, str)  # engine, job name

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.local_path: Path | None = None
        self.last_job: tuple[str, dict] | None = None   # (engine, request) of the job submitted last
        self.errors: dict[str, str] = {}
        self._building = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(24, 16, 24, 16)

        title = QLabel("<h2>New transcription job</h2>")
        lay.addWidget(title)

        top = QHBoxLayout()
        top.addWidget(QLabel("Preset:"))
        self.preset = QComboBox()
        self.preset.setAccessibleName("Preset")
        self.preset.addItem("Custom")
        self.preset.addItems(list(PRESETS))
        self.preset.currentTextChanged.connect(self.apply_preset)
        top.addWidget(self.preset)
        top.addSpacing(24)
        top.addWidget(QLabel("Engine:"))
        self.engine = QComboBox()
        self.engine.setAccessibleName("Engine")
        for kind, label in ENGINE_LABELS.items():
            self.engine.addItem(label, kind)
        top.addWidget(self.engine)
        top.addStretch(1)
        lay.addLayout(top)
        self.general_error = hint_label(error=True)
        lay.addWidget(self.general_error)

        self.labels: dict[str, QLabel] = {}

        for build in (self._build_what, self._build_who, self._build_extras, self._build_where, self._build_tags):
            build(lay)

        # -- name + submit -------------------------------------------------------
        bottom = QGroupBox("Job")
        f = QFormLayout(bottom)
        self.name = QLineEdit(unique_job_name())
        self._row(f, "Job name:", self.name, "name", "Letters, digits, dot, dash and underscore; unique.")
        lay.addWidget(bottom)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.status = hint_label()
        buttons.addWidget(self.status, 1)
        self.reuse_button = QPushButton("Use last job's settings")
        self.reuse_button.setToolTip("Fill in the settings of the job submitted last (the audio stays)")
        self.reuse_button.setEnabled(False)
        self.reuse_button.clicked.connect(self.reuse_last)
        buttons.addWidget(self.reuse_button)
        self.submit_button = QPushButton("Submit")
        self.submit_button.setDefault(True)
        self.submit_button.setAccessibleName("Submit job")
        self.submit_button.clicked.connect(self.submit)
        buttons.addWidget(self.submit_button)
        lay.addLayout(buttons)
        lay.addStretch(1)

        for w in (self.media_uri, self.vocabulary, self.bucket, self.key, self.kms, self.context, self.name):
            w.textChanged.connect(self.revalidate)
        for w in (self.max_speakers, self.max_alternatives, self.rate):
            w.valueChanged.connect(self.revalidate)
        for w in (self.media_format, self.specialty, self.engine, self.template):
            w.currentIndexChanged.connect(self.revalidate)
        self.language.currentTextChanged.connect(self.revalidate)
        for b in (self.dictation, self.conversation, self.who_none, self.who_speakers, self.who_channels):
            b.toggled.connect(self.revalidate)
        for b in (self.show_alternatives, self.phi):
            b.toggled.connect(self.revalidate)
        self.tags.itemChanged.connect(self.revalidate)
        for w in (self.dictation, self.conversation, self.who_none, self.who_speakers, self.who_channels,
                  self.show_alternatives, self.max_alternatives, self.max_speakers):
            (w.toggled if hasattr(w, "toggled") else w.valueChanged).connect(self._mark_custom)
        self.engine.currentIndexChanged.connect(self.refresh_vocabularies)
        index = self.engine.findData(ctx.settings.engine)
        self.engine.setCurrentIndex(max(index, 0))
        self.refresh_vocabularies()
        self.preset.setCurrentText("Dictation")
        self.revalidate()

    def refresh_vocabularies(self, *_) -> None:
        """Offer the chosen engine's READY vocabularies (listed off the GUI thread)."""
        kind = self.engine.currentData()

        def work():
            engine = self.ctx.engine(kind)
            names, token = [], None
            while True:
                page = engine.list_medical_vocabularies(StateEquals="READY", MaxResults=100,
                                                        **({"NextToken": token} if token else {}))
                names += [v["VocabularyName"] for v in page["Vocabularies"]]
                token = page.get("NextToken")
                if not token:
                    return sorted(names)

        def done(names):
            if self.engine.currentData() != kind:
                return
            current = self.vocabulary.text()
            self.vocabulary_box.blockSignals(True)
            self.vocabulary_box.clear()
            self.vocabulary_box.addItem("")
            self.vocabulary_box.addItems(names)
            self.vocabulary_box.setEditText(current)
            self.vocabulary_box.blockSignals(False)

        run_async(work, done, lambda exc: None)  # no list (e.g. AWS offline): typing a name still works

    # -- presets and loading -----------------------------------------------------------
    def _mark_custom(self, *_):
        if not self._building:
            self.preset.blockSignals(True)
            self.preset.setCurrentIndex(0)
            self.preset.blockSignals(False)

    def apply_preset(self, name: str) -> None:
        preset = PRESETS.get(name)
        if not preset:
            return
        self._building = True
        try:
            (self.dictation if preset["type"] == "DICTATION" else self.conversation).setChecked(True)
            {"none": self.who_none, "speakers": self.who_speakers, "channels": self.who_channels}[preset["who"]] \
                .setChecked(True)
            if "speakers" in preset:
                self.max_speakers.setValue(preset["speakers"])
            if "alternatives" in preset:
                self.show_alternatives.setChecked(preset["alternatives"])
        finally:
            self._building = False
        self.revalidate()

    def add_tag(self, key: str, value: str) -> None:
        r = self.tags.rowCount()
        self.tags.insertRow(r)
        self.tags.setItem(r, 0, QTableWidgetItem(key))
        self.tags.setItem(r, 1, QTableWidgetItem(value))
        self.revalidate()

    def set_media(self, path: Path | None, uri: str = "", info=None) -> None:
        """Start a new job for a local file (uploaded to the engine on submit) or a URI: a clean form."""
        self.reset()
        self.local_path = Path(path) if path else None
        self.media_uri.setText(uri or (self.local_path.resolve().as_uri() if self.local_path else ""))
        if info is not None:
            text = describe_media(info)
            if info.channels == 2 and info.channel_layout == "distinct" and self.who_none.isChecked():
                self.preset.setCurrentText("Two-channel recording")
                text += " · a different voice on each channel: one speaker per channel"
            elif info.channels == 2 and info.channel_layout in ("same", "one-silent"):
                text += (" · the same sound on both channels" if info.channel_layout == "same"
                         else " · only one channel has sound") + ": transcribed as one recording"
            elif info.channels == 2:
                text += " · if each person has a channel of their own, choose one speaker per channel"
            self.media_info.setText(text)
        else:
            self.media_info.setText("")
        if self.local_path:
            self.name.setText(unique_job_name())  # never the file name: it may name the patient

    def reset(self) -> None:
        """A clean form: the chosen preset's defaults (Dictation when Custom), nothing left from the job
        before, scrolled to the top. The last job's settings come back only with reuse_last()."""
        preset = self.preset.currentText() if self.preset.currentText() in PRESETS else "Dictation"
        self._building = True
        try:
            self.local_path = None
            self.media_uri.clear()
            self.media_info.clear()
            self.engine.setCurrentIndex(max(self.engine.findData(self.ctx.settings.engine), 0))
            self.language.setCurrentText("en-US")
            self.media_format.setCurrentIndex(0)
            self.rate.setValue(0)
            self.max_speakers.setValue(2)
            self.show_alternatives.setChecked(False)
            self.max_alternatives.setValue(3)
            self.vocabulary.clear()
            self.phi.setChecked(False)
            self.template.setCurrentIndex(0)
            self.bucket.setText(self.ctx.settings.default_output_bucket)
            for w in (self.key, self.kms, self.context):
                w.clear()
            self.tags.setRowCount(0)
            self.name.setText(unique_job_name())
            self.status.clear()
            for label in self.labels.values():
                label.clear()
        finally:
            self._building = False
        self.preset.blockSignals(True)
        self.preset.setCurrentText(preset)
        self.preset.blockSignals(False)
        self.apply_preset(preset)
        self.reuse_button.setEnabled(self.last_job is not None)
        self.scroll.verticalScrollBar().setValue(0)

    def reuse_last(self) -> None:
        """Fill in the last submitted job's settings, keeping the audio chosen for this one."""
        if not self.last_job:
            return
        engine, request = self.last_job
        local, uri, info = self.local_path, self.media_uri.text(), self.media_info.text()
        self.load_request(engine, dict(request, Media={"MediaFileUri": uri}), local)
        self.local_path = local
        self.media_uri.setText(uri)
        self.media_info.setText(info)
        self.name.setText(unique_job_name())

    def load_request(self, engine: str, job: dict, local_path: Path | None) -> None:
        """Fill the form from an existing job (re-run with changed settings)."""
        self._building = True
        try:
            self.preset.setCurrentIndex(0)
            self.engine.setCurrentIndex(max(self.engine.findData(engine), 0))
            self.local_path = local_path if local_path and local_path.exists() else None
            self.media_uri.setText(self.local_path.resolve().as_uri() if self.local_path
                                   else job.get("Media", {}).get("MediaFileUri", ""))
            (self.conversation if job.get("Type") == "CONVERSATION" else self.dictation).setChecked(True)
            self.language.setCurrentText(job.get("LanguageCode", "en-US"))
            self.media_format.setCurrentIndex(0)
            self.rate.setValue(0)
            settings = job.get("Settings", {})
            if settings.get("ShowSpeakerLabels"):
                self.who_speakers.setChecked(True)
                self.max_speakers.setValue(settings.get("MaxSpeakerLabels", 2))
            elif settings.get("ChannelIdentification"):
                self.who_channels.setChecked(True)
            else:
                self.who_none.setChecked(True)
            self.show_alternatives.setChecked(bool(settings.get("ShowAlternatives")))
            if settings.get("MaxAlternatives"):
                self.max_alternatives.setValue(settings["MaxAlternatives"])
            self.vocabulary.setText(settings.get("VocabularyName", ""))
            self.phi.setChecked(job.get("ContentIdentificationType") == "PHI")
            self.tags.setRowCount(0)
            self.template.setCurrentIndex(0)
            for tag in job.get("Tags", []) or []:
                if tag.get("Key") == "clinscribe:template":
                    self.template.setCurrentIndex(max(self.template.findData(tag.get("Value", "")), 0))
                else:
                    self.add_tag(tag.get("Key", ""), tag.get("Value", ""))
            base = re.sub(r"-(rerun-)?\d{8}-\d{6}$", "", job.get("MedicalTranscriptionJobName", "job"))
            self.name.setText(unique_job_name(base))
        finally:
            self._building = False
        self.revalidate()

    # -- the request ---------------------------------------------------------------------
    def params(self) -> dict:
        p: dict = {
            "MedicalTranscriptionJobName": self.name.text(),
            "LanguageCode": self.language.currentText().strip(),
            "Media": {"MediaFileUri": self.media_uri.text().strip()},
            "OutputBucketName": self.bucket.text().strip(),
            "Specialty": self.specialty.currentData(),
            "Type": "DICTATION" if self.dictation.isChecked() else "CONVERSATION",
        }
        if self.media_format.currentData():
            p["MediaFormat"] = self.media_format.currentData()
        if self.rate.value():
            p["MediaSampleRateHertz"] = self.rate.value()
        if self.key.text().strip():
            p["OutputKey"] = self.key.text().strip()
        if self.kms.text().strip():
            p["OutputEncryptionKMSKeyId"] = self.kms.text().strip()
        if self.context.text().strip():
            ctx = {}
            for part in self.context.text().split(","):
                k, _, v = part.partition("=")
                ctx[k.strip()] = v.strip()
            p["KMSEncryptionContext"] = ctx
        settings: dict = {}
        if self.who_speakers.isChecked():
            settings["ShowSpeakerLabels"] = True
            settings["MaxSpeakerLabels"] = self.max_speakers.value()
        elif self.who_channels.isChecked():
            settings["ChannelIdentification"] = True
        if self.show_alternatives.isChecked():
            settings["ShowAlternatives"] = True
            settings["MaxAlternatives"] = self.max_alternatives.value()
        if self.vocabulary.text().strip():
            settings["VocabularyName"] = self.vocabulary.text().strip()
        if settings:
            p["Settings"] = settings
        if self.phi.isChecked():
            p["ContentIdentificationType"] = "PHI"
        from ..live.templates import TEMPLATE_TAG

        tags = []
        if self.template.currentData():
            tags.append({"Key": TEMPLATE_TAG, "Value": self.template.currentData()})
        for r in range(self.tags.rowCount()):
            k = self.tags.item(r, 0).text() if self.tags.item(r, 0) else ""
            v = self.tags.item(r, 1).text() if self.tags.item(r, 1) else ""
            if (k or v) and k != TEMPLATE_TAG:
                tags.append({"Key": k, "Value": v})
        if tags:
            p["Tags"] = tags
        return p

    def revalidate(self, *_) -> None:
        self.max_speakers.setEnabled(self.who_speakers.isChecked())
        self.max_alternatives.setEnabled(self.show_alternatives.isChecked())
        errors: dict[str, list[str]] = {}
        try:
            validate(START, self.params(), allow_file_uri=True)
        except Exception as exc:  # ParamValidationError or BadRequestException
            for message in split_errors(describe_error(exc)):
                errors.setdefault(field_for(message), []).append(message)
        if not self.media_uri.text().strip():
            errors.pop("media", None)
            errors.setdefault("media", []).append("Choose a recording or an audio file first.")
        self.errors = {k: "\n".join(v) for k, v in errors.items()}
        for field, label in self.labels.items():
            text = self.errors.get(field, "")
            label.setText(text)
            label.setVisible(bool(text))
        self.general_error.setText(self.errors.get("general", ""))
        self.general_error.setVisible("general" in self.errors)
        self.submit_button.setEnabled(not self.errors)

    # -- submit ------------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        # Enter in a field (which passes it on) submits a valid form, as in a dialog.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.submit_button.isEnabled():
            self.submit()
            return
        super().keyPressEvent(event)

    def submit(self) -> None:
        if self.errors:
            return
        kind = self.engine.currentData()
        params = self.params()
        local = self.local_path
        self.submit_button.setEnabled(False)
        self.status.setText("Submitting…")
        ctx = self.ctx

        def work():
            engine = ctx.engine(kind)
            if local is not None:
                put = getattr(engine, "put_media", None)
                if put is None:
                    raise RuntimeError("This engine cannot upload local files: give an s3:// address instead.")
                params["Media"]["MediaFileUri"] = put(local)
            engine.start_medical_transcription_job(**params)
            return params["MedicalTranscriptionJobName"]

        def done(name):
            ctx.media.set(kind, name, local)
            self.last_job = (kind, params)
            self.reset()   # the next job starts clean; the window says this one was submitted
            ctx.jobs_changed.emit()
            self.submitted.emit(kind, name)

        def failed(exc):
            message = describe_error(exc)
            self.status.setText("")
            field = field_for(message)
            label = self.labels.get(field, self.general_error)
            label.setText(message)
            label.show()
            self.submit_button.setEnabled(True)

        run_async(work, done, failed)
