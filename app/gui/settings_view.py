"""Settings: engine, model, device, storage, AWS (keys go to the OS keyring, never to a file)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QFrame, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from .common import AppContext, ENGINE_LABELS, hint_label, say


class SettingsView(QWidget):
    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        outer = QVBoxLayout(self)  # scrolls: the window fits a small screen whatever the groups add up to
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(QWidget())
        outer.addWidget(scroll)
        lay = QVBoxLayout(scroll.widget())
        lay.setContentsMargins(24, 16, 24, 16)
        lay.addWidget(QLabel("<h2>Settings</h2>"))

        box = QGroupBox("Transcription")
        f = QFormLayout(box)
        self.engine = QComboBox()
        for kind, label in ENGINE_LABELS.items():
            self.engine.addItem(label, kind)
        self.engine.setAccessibleName("Default engine")
        f.addRow("Default engine:", self.engine)
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.addItems(["tiny.en", "base"])
        self.model.setAccessibleName("Speech model")
        f.addRow("Model:", self._folder_row(self.model, "model folder", self.model.setCurrentText))
        f.addRow("", hint_label("tiny.en is fast; base is more accurate; or a CTranslate2 Whisper folder."))
        self.device = QComboBox()
        self.device.addItem("Automatic", "auto")
        self.device.addItem("CPU", "cpu")
        self.device.addItem("NVIDIA GPU (CUDA)", "cuda")
        self.device.setAccessibleName("Device")
        f.addRow("Device:", self.device)
        self.storage = QLineEdit()
        self.storage.setPlaceholderText(str(ctx.home / "buckets"))
        self.storage.setAccessibleName("Storage folder")
        f.addRow("Storage folder:", self._folder_row(self.storage, "storage folder", self.storage.setText))
        self.encrypt_audio = QCheckBox("Encrypt recordings and stored audio (key in the system keyring)")
        self.encrypt_audio.setAccessibleName("Encrypt audio at rest")
        f.addRow("", self.encrypt_audio)
        self.voice_commands = QCheckBox("Voice commands in dictations (“period”, “new paragraph”, “scratch that”…)")
        self.voice_commands.setAccessibleName("Voice commands")
        f.addRow("", self.voice_commands)
        lay.addWidget(box)

        aws = QGroupBox("AWS")
        f = QFormLayout(aws)
        self.region = QLineEdit()
        self.region.setAccessibleName("AWS region")
        f.addRow("Region:", self.region)
        self.profile = QLineEdit()
        self.profile.setPlaceholderText("none (use the keys below)")
        self.profile.setAccessibleName("AWS profile")
        f.addRow("Profile:", self.profile)
        self.input_bucket = QLineEdit()
        self.input_bucket.setAccessibleName("AWS input bucket")
        self.input_bucket.setPlaceholderText("S3 bucket for uploaded audio")
        f.addRow("Upload bucket:", self.input_bucket)
        self.access_key = QLineEdit()
        self.access_key.setAccessibleName("AWS access key ID")
        f.addRow("Access key ID:", self.access_key)
        self.secret_key = QLineEdit()
        self.secret_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_key.setAccessibleName("AWS secret access key")
        f.addRow("Secret access key:", self.secret_key)
        self.session_token = QLineEdit()
        self.session_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.session_token.setAccessibleName("AWS session token")
        self.session_token.setPlaceholderText("optional")
        f.addRow("Session token:", self.session_token)
        keys = QHBoxLayout()
        self.save_keys_button = QPushButton("Save keys to keyring")
        self.delete_keys_button = QPushButton("Remove keys")
        self.save_keys_button.clicked.connect(self.save_keys)
        self.delete_keys_button.clicked.connect(self.delete_keys)
        keys.addWidget(self.save_keys_button)
        keys.addWidget(self.delete_keys_button)
        keys.addStretch(1)
        f.addRow("", keys)
        self.keys_status = hint_label()
        self.keys_status.setAccessibleName("Keys status")
        f.addRow("", self.keys_status)
        lay.addWidget(aws)

        ehr = QGroupBox("Notes and EHR")
        f = QFormLayout(ehr)
        self.note_author, self.note_author_id, self.note_organization, self.fhir_base_url, self.mllp_host = (
            QLineEdit() for _ in range(5))
        for edit, label, hint in ((self.note_author, "Author", "the reviewing clinician, on new notes"),
                                  (self.note_author_id, "Author ID (NPI)", "e.g. 1234567893"),
                                  (self.note_organization, "Organisation", "the clinic or hospital"),
                                  (self.fhir_base_url, "FHIR server", "R4 base URL, e.g. https://fhir.clinic.example/r4"),
                                  (self.mllp_host, "Interface engine", "HL7 MLLP host (Mirth Connect, Rhapsody…)")):
            edit.setAccessibleName(label)
            edit.setPlaceholderText(hint)
            f.addRow(f"{label}:", edit)
        self.fhir_auth = QComboBox()
        for value, label in (("none", "None"), ("bearer", "Bearer token (clinscribe ehr-login)"),
                             ("smart", "SMART Backend Services (clinscribe ehr-smart-key)")):
            self.fhir_auth.addItem(label, value)
        self.fhir_auth.setAccessibleName("FHIR authentication")
        f.insertRow(4, "FHIR authentication:", self.fhir_auth)
        self.mllp_port = QSpinBox()
        self.mllp_port.setRange(1, 65535)
        self.mllp_port.setAccessibleName("Interface engine port")
        self.mllp_tls = QCheckBox("TLS")
        self.mllp_tls.setAccessibleName("Interface engine TLS")
        port = QHBoxLayout()
        port.addWidget(self.mllp_port)
        port.addWidget(self.mllp_tls)
        port.addStretch(1)
        f.addRow("Port:", port)
        lay.addWidget(ehr)

        from .templates_box import TemplatesBox

        self.templates = TemplatesBox(ctx.home)
        lay.addWidget(self.templates)

        appearance = QGroupBox("Appearance")
        f = QFormLayout(appearance)
        f.addRow("Theme:", QLabel("Follows the system's light or dark setting."))
        lay.addWidget(appearance)

        buttons = QHBoxLayout()
        self.status = hint_label()
        buttons.addWidget(self.status, 1)
        self.save_button = QPushButton("Save settings")
        self.save_button.setAccessibleName("Save settings")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.save_button)
        lay.addLayout(buttons)
        lay.addStretch(1)
        self.load()

    def load(self) -> None:
        s = self.ctx.settings
        self.engine.setCurrentIndex(max(self.engine.findData(s.engine), 0))
        self.model.setCurrentText(s.model)
        self.device.setCurrentIndex(max(self.device.findData(s.device), 0))
        self.storage.setText(s.storage_root)
        self.region.setText(s.aws_region)
        self.profile.setText(s.aws_profile)
        self.input_bucket.setText(s.aws_input_bucket)
        for name in ("note_author", "note_author_id", "note_organization", "fhir_base_url", "mllp_host"):
            getattr(self, name).setText(getattr(s, name))
        self.fhir_auth.setCurrentIndex(max(self.fhir_auth.findData(s.fhir_auth), 0))
        self.mllp_port.setValue(s.mllp_port)
        self.mllp_tls.setChecked(s.mllp_tls)
        self.encrypt_audio.setChecked(s.encrypt_audio)
        self.voice_commands.setChecked(s.voice_commands)
        try:
            from ..store import credentials
            stored = credentials.load_aws_keys()
        except Exception:
            stored = None
        say(self.keys_status, "Keys are stored in the system keyring." if stored else "No keys stored.")

    def _folder_row(self, field: QWidget, what: str, set_path) -> QHBoxLayout:
        """``field`` with a "Folder…" button that picks a folder into it."""
        row = QHBoxLayout()
        row.addWidget(field, 1)
        browse = QPushButton("Folder…")
        browse.setAccessibleName(f"Choose {what}")

        def choose() -> None:
            path = QFileDialog.getExistingDirectory(self, what.capitalize())
            if path:
                set_path(path)

        browse.clicked.connect(choose)
        row.addWidget(browse)
        return row

    def save(self) -> bool:
        s = replace(self.ctx.settings, engine=self.engine.currentData(), model=self.model.currentText().strip(),
                    device=self.device.currentData(), storage_root=self.storage.text().strip(),
                    aws_region=self.region.text().strip(), aws_profile=self.profile.text().strip(),
                    aws_input_bucket=self.input_bucket.text().strip(), note_author=self.note_author.text().strip(),
                    note_author_id=self.note_author_id.text().strip(),
                    note_organization=self.note_organization.text().strip(),
                    fhir_base_url=self.fhir_base_url.text().strip(), fhir_auth=self.fhir_auth.currentData(),
                    mllp_host=self.mllp_host.text().strip(), mllp_port=self.mllp_port.value(),
                    mllp_tls=self.mllp_tls.isChecked(), encrypt_audio=self.encrypt_audio.isChecked(),
                    voice_commands=self.voice_commands.isChecked())
        model = s.model
        if model not in ("tiny.en", "base") and not (Path(model).expanduser() / "model.bin").is_file():
            say(self.status, f"'{model}' is not tiny.en, base, or a folder with a model.bin.", error=True)
            return False
        if s.fhir_base_url and not s.fhir_base_url.startswith(("https://", "http://")):
            say(self.status, "The FHIR server must be a URL starting with https://.", error=True)
            return False
        self.ctx.apply_settings(s)
        say(self.status, "Settings saved.")
        return True

    def save_keys(self) -> None:
        access, secret = self.access_key.text().strip(), self.secret_key.text().strip()
        if not access or not secret:
            say(self.keys_status, "Enter both the access key ID and the secret access key.", error=True)
            return
        try:
            from ..store import credentials
        except ImportError:
            say(self.keys_status, "Storing AWS keys is not available in this installation.", error=True)
            return
        try:
            credentials.save_aws_keys(access, secret, self.session_token.text().strip() or None)
        except Exception as exc:  # CredentialStoreError: no keyring and the like
            say(self.keys_status, f"The keys could not be stored: {exc}", error=True)
            return
        self.secret_key.clear()
        self.session_token.clear()
        say(self.keys_status, "Keys are stored in the system keyring.")
        self.ctx.apply_settings(self.ctx.settings)

    def delete_keys(self) -> None:
        try:
            from ..store import credentials
            credentials.delete_aws_keys()
        except Exception as exc:
            say(self.keys_status, f"The keys could not be removed: {exc}", error=True)
            return
        self.access_key.clear()
        say(self.keys_status, "No keys stored.")
