"""Jobs of both engines: queue and history, polled off the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMainWindow,
                               QMessageBox, QProgressBar, QPushButton, QStyle, QSystemTrayIcon, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from ..core.document import edits_path
from ..export.note import header_path
from .common import AppContext, describe_error, hint_label
from .jobdata import detail_key, fetch_details, fetch_jobs, fmt_duration, short_when, when as _when
from .workers import run_async

# Job and Transcript stretch (and elide); the rest fit their contents, so Status stays in view at 1024 px.
COLUMNS = ["Job", "Status", "Progress", "Duration", "Type", "Engine", "Created", "Completed", "Transcript"]
STRETCH = ("Job", "Transcript")
STATUS_TEXT = {"QUEUED": "Queued", "IN_PROGRESS": "In progress", "COMPLETED": "Completed", "FAILED": "Failed"}
TYPE_TEXT = {"DICTATION": "Dictation", "CONVERSATION": "Conversation"}
ENGINE_SHORT = {"local": "Local", "aws": "AWS"}
PREVIEW_WORDS = 12
TERMINAL = ("COMPLETED", "FAILED")
DETAILS_BATCH = 25   # transcripts read per trip off the GUI thread (the rows show before their words)
POLL_MS = 1000


class JobsView(QWidget):
    open_requested = Signal(str, str)             # engine, job
    rerun_requested = Signal(str, object, object)  # engine, job dict, local media path

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.jobs: list[dict] = []
        self._polling = False
        self._detailing = False
        self.details: dict = {}              # detail_key -> {"text", "duration"}, read off the GUI thread
        self._statuses: dict | None = None   # (engine, name) -> status at the last poll (None: not polled yet)
        self._notices_seen: dict = {}
        self.notifications: list[str] = []  # every "job finished" message raised, newest last
        self._tray: QSystemTrayIcon | None = None
        self.confirm_delete = self._ask_delete
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        head = QHBoxLayout()
        head.addWidget(QLabel("<h2>Jobs</h2>"))
        head.addStretch(1)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Search names and transcripts")
        self.filter.setAccessibleName("Search jobs")
        self.filter.setToolTip("Shows the jobs whose name or transcript contains these words")
        self.filter.setMinimumWidth(260)
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._fill)
        head.addWidget(self.filter)
        lay.addLayout(head)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Jobs")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for name in STRETCH:
            header.setSectionResizeMode(COLUMNS.index(name), QHeaderView.ResizeMode.Stretch)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)
        # activated: a double click, or Enter/Return on the selected row (the keyboard path)
        self.table.activated.connect(lambda _: self.open_selected())
        self.table.itemSelectionChanged.connect(self._update_buttons)
        lay.addWidget(self.table, 1)
        self.problem = hint_label(error=True)
        self.problem.hide()
        lay.addWidget(self.problem)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("Open transcript")
        self.rerun_button = QPushButton("Re-run with changes…")
        self.cancel_button = QPushButton("Cancel job")
        self.delete_button = QPushButton("Delete")
        for b in (self.open_button, self.rerun_button, self.cancel_button, self.delete_button):
            b.setAccessibleName(b.text().rstrip("…"))
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.status = hint_label()
        buttons.addWidget(self.status)
        lay.addLayout(buttons)
        self.open_button.clicked.connect(self.open_selected)
        self.rerun_button.clicked.connect(self.rerun_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.refresh)
        ctx.jobs_changed.connect(self.refresh)
        self._update_buttons()

    # -- polling -------------------------------------------------------------------
    def start_polling(self) -> None:
        self.timer.start()
        self.refresh()

    def refresh(self) -> None:
        if self._polling:
            return
        self._polling = True
        ctx = self.ctx
        run_async(lambda: fetch_jobs(ctx), self._loaded, self._failed)

    def _fetch_details(self) -> None:
        """Read what the rows lack (transcript words, duration) off the GUI thread, a batch at a time."""
        missing = [j for j in self.jobs if detail_key(j) not in self.details]
        if self._detailing or not missing:
            return
        self._detailing = True
        ctx, batch = self.ctx, missing[:DETAILS_BATCH]

        def done(details):
            self._detailing = False
            self.details.update(details)
            self._fill()
            self._fetch_details()   # the next batch, if any

        def failed(_exc):
            self._detailing = False

        run_async(lambda: fetch_details(ctx, batch, set()), done, failed)

    def _failed(self, exc) -> None:
        self._polling = False
        self.problem.setText(describe_error(exc))
        self.problem.show()

    def _loaded(self, result) -> None:
        self._polling = False
        self.jobs, problems = result
        current = {detail_key(j) for j in self.jobs}
        self.details = {k: v for k, v in self.details.items() if k in current}
        self._announce_finished()
        self.problem.setText("\n".join(problems))
        self.problem.setVisible(bool(problems))
        self._fill()
        self._fetch_details()

    def column(self, name: str) -> int:
        return COLUMNS.index(name)

    def text_of(self, job: dict) -> str:
        """The transcript text of a job as far as it is known here ("" when none)."""
        return self.details.get(detail_key(job), {}).get("text", "")

    def matches(self, job: dict, words: str) -> bool:
        """Whether every word of the search is in the job's name or its transcript."""
        haystack = f"{job['MedicalTranscriptionJobName']}\n{self.text_of(job)}".lower()
        return all(word in haystack for word in words.lower().split())

    def _fill(self, *_) -> None:
        selected = self.selected()
        key = (selected["engine"], selected["MedicalTranscriptionJobName"]) if selected else None
        words = self.filter.text()
        shown = [j for j in self.jobs if self.matches(j, words)]
        col = self.column
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(len(shown))
        for r, job in enumerate(shown):
            status = job["TranscriptionJobStatus"]
            info = self.details.get(detail_key(job), {})
            text = info.get("text", "")
            preview = " ".join(text.split()[:PREVIEW_WORDS]) + ("…" if len(text.split()) > PREVIEW_WORDS else "")
            values = {"Job": job["MedicalTranscriptionJobName"], "Status": STATUS_TEXT.get(status, status),
                      "Progress": "", "Duration": fmt_duration(info.get("duration")),
                      "Type": TYPE_TEXT.get(job.get("Type"), job.get("Type") or ""),
                      "Engine": ENGINE_SHORT.get(job["engine"], job["engine"]),
                      "Created": short_when(job.get("CreationTime")),
                      "Completed": short_when(job.get("CompletionTime")),
                      "Transcript": job.get("FailureReason", "") if status == "FAILED" else preview}
            tips = {"Job": values["Job"], "Created": _when(job.get("CreationTime")),
                    "Completed": _when(job.get("CompletionTime")),
                    "Status": "\n".join(([f"Started {_when(job.get('StartTime'))}"] if job.get("StartTime") else [])
                                         + [text for _, text in job.get("notices") or []]),
                    "Transcript": (f"Failure reason: {values['Transcript']}" if status == "FAILED"
                                   else " ".join(text.split()[:80]))}
            for name, value in values.items():
                item = QTableWidgetItem(value)
                if name == "Job":
                    item.setData(Qt.ItemDataRole.UserRole, job)
                if name in ("Status", "Transcript") and status == "FAILED":
                    item.setForeground(QColor("#c62828"))
                if tips.get(name):
                    item.setToolTip(tips[name])
                self.table.setItem(r, col(name), item)
            progress = col("Progress")
            if status in ("IN_PROGRESS", "QUEUED"):
                bar = self.table.cellWidget(r, progress)
                if not isinstance(bar, QProgressBar):
                    bar = QProgressBar()
                    bar.setRange(0, 100)
                    bar.setMaximumWidth(90)
                    bar.setAccessibleName("Job progress")
                    self.table.setCellWidget(r, progress, bar)
                bar.setValue(int((job.get("progress") or 0) * 100))
            else:
                self.table.removeCellWidget(r, progress)
                self.table.item(r, progress).setText("100 %" if status == "COMPLETED" else "")
            if key == (job["engine"], job["MedicalTranscriptionJobName"]):
                self.table.selectRow(r)
        self.table.setUpdatesEnabled(True)
        self._update_buttons()

    # -- "job finished" notifications -----------------------------------------------------
    def _announce_finished(self) -> None:
        """Say so for every job that became COMPLETED or FAILED since the last poll (not at the first)."""
        before = self._statuses
        self._statuses = {(j["engine"], j["MedicalTranscriptionJobName"]): j["TranscriptionJobStatus"]
                          for j in self.jobs}
        seen = self._notices_seen
        self._notices_seen = {(j["engine"], j["MedicalTranscriptionJobName"]): max(
            [n for n, _ in j.get("notices") or []], default=0) for j in self.jobs}
        if before is None:
            return
        for job in self.jobs:   # a stalled worker ended or replaced: said in the window, once
            key = (job["engine"], job["MedicalTranscriptionJobName"])
            for n, text in job.get("notices") or []:
                if n > seen.get(key, 0):
                    self.notify("Job stalled", text)
        for job in self.jobs:
            key = (job["engine"], job["MedicalTranscriptionJobName"])
            status = job["TranscriptionJobStatus"]
            if status in TERMINAL and before.get(key) not in TERMINAL:
                name = key[1]
                if status == "COMPLETED":
                    self.notify("Transcript ready", f"Job {name} is completed: its transcript is ready.")
                else:
                    self.notify("Job failed", f"Job {name} failed: {job.get('FailureReason') or 'no reason given'}.")

    def notify(self, title: str, text: str) -> None:
        """A desktop notification where there is a system tray, and always a line in the window."""
        self.notifications.append(text)
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            if self._tray is None:
                icon = self.window().windowIcon()
                if icon.isNull():
                    icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
                self._tray = QSystemTrayIcon(icon, self)
                self._tray.setToolTip("ClinScribe")
                self._tray.show()
            self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 8000)
        window = self.window()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(text, 15000)
        self.status.setText(text)

    # -- selection and actions ---------------------------------------------------------
    def selected(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def select(self, engine: str, name: str) -> bool:
        for r in range(self.table.rowCount()):
            job = self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)
            if job["engine"] == engine and job["MedicalTranscriptionJobName"] == name:
                self.table.selectRow(r)
                return True
        return False

    def job(self, engine: str, name: str) -> dict | None:
        return next((j for j in self.jobs if j["engine"] == engine and j["MedicalTranscriptionJobName"] == name),
                    None)

    def _update_buttons(self) -> None:
        job = self.selected()
        status = job["TranscriptionJobStatus"] if job else None
        self.open_button.setEnabled(status == "COMPLETED")
        self.rerun_button.setEnabled(job is not None)
        self.delete_button.setEnabled(status in ("COMPLETED", "FAILED"))
        can_cancel = False
        if job and status in ("QUEUED", "IN_PROGRESS"):
            try:
                can_cancel = getattr(self.ctx.engine(job["engine"]), "can_cancel", False)
            except Exception:
                can_cancel = False
        self.cancel_button.setEnabled(can_cancel)
        self.cancel_button.setToolTip("" if can_cancel or not job or status not in ("QUEUED", "IN_PROGRESS")
                                      else "This engine cannot cancel a job that has started.")

    def open_selected(self) -> None:
        job = self.selected()
        if job and job["TranscriptionJobStatus"] == "COMPLETED":
            self.open_requested.emit(job["engine"], job["MedicalTranscriptionJobName"])

    def rerun_selected(self) -> None:
        job = self.selected()
        if not job:
            return
        kind, name = job["engine"], job["MedicalTranscriptionJobName"]
        ctx = self.ctx

        def work():
            return ctx.engine(kind).get_medical_transcription_job(MedicalTranscriptionJobName=name)[
                "MedicalTranscriptionJob"]

        run_async(work, lambda full: self.rerun_requested.emit(kind, full, ctx.media.get(kind, name)),
                  lambda exc: self.status.setText(describe_error(exc)))

    def cancel_selected(self) -> None:
        job = self.selected()
        if not job:
            return
        kind, name = job["engine"], job["MedicalTranscriptionJobName"]
        ctx = self.ctx
        run_async(lambda: ctx.engine(kind).cancel_medical_transcription_job(MedicalTranscriptionJobName=name),
                  lambda _: (self.status.setText(f"Cancelled {name}."), ctx.jobs_changed.emit()),
                  lambda exc: self.status.setText(describe_error(exc)))

    def _ask_delete(self, name: str) -> bool:
        answer = QMessageBox.question(self, "Delete job",
                                      f"Delete the job {name}, its transcript and your edits?")
        return answer == QMessageBox.StandardButton.Yes

    def delete_selected(self) -> None:
        job = self.selected()
        if not job or not self.confirm_delete(job["MedicalTranscriptionJobName"]):
            return
        kind, name = job["engine"], job["MedicalTranscriptionJobName"]
        ctx = self.ctx

        def work():
            ctx.engine(kind).delete_medical_transcription_job(MedicalTranscriptionJobName=name)
            edits_path(ctx.home, kind, name).unlink(missing_ok=True)
            header_path(ctx.home, kind, name).unlink(missing_ok=True)  # the note header: PHI

        def done(_):
            ctx.media.set(kind, name, None)
            self.status.setText(f"Deleted {name}.")
            ctx.jobs_changed.emit()

        run_async(work, done, lambda exc: self.status.setText(describe_error(exc)))
