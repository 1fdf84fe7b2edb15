"""Jobs of both engines: queue and history, polled off the GUI thread."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox,
                               QProgressBar, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ..core.document import edits_path
from ..export.note import header_path
from .common import ENGINE_LABELS, AppContext, describe_error, hint_label
from .workers import run_async

COLUMNS = ["Job", "Engine", "Status", "Progress", "Created", "Started", "Completed", "Failure reason"]
STATUS_TEXT = {"QUEUED": "Queued", "IN_PROGRESS": "In progress", "COMPLETED": "Completed", "FAILED": "Failed"}
POLL_MS = 1000


def _when(value) -> str:
    if not value:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def fetch_jobs(ctx: AppContext) -> tuple[list[dict], list[str]]:
    """Every job of every known engine (newest first) and the problems met on the way."""
    rows, problems = [], []
    for kind in ctx.known_engines():
        try:
            engine = ctx.engine(kind)
            token, pages = None, 0
            while pages < 20:
                kwargs = {"MaxResults": 100, **({"NextToken": token} if token else {})}
                page = engine.list_medical_transcription_jobs(**kwargs)
                for summary in page.get("MedicalTranscriptionJobSummaries", []):
                    row = dict(summary, engine=kind, progress=None)
                    if summary["TranscriptionJobStatus"] == "IN_PROGRESS":
                        row["progress"] = engine.job_progress(summary["MedicalTranscriptionJobName"])
                    rows.append(row)
                token, pages = page.get("NextToken"), pages + 1
                if not token:
                    break
        except Exception as exc:
            problems.append(f"{ENGINE_LABELS.get(kind, kind)}: {describe_error(exc)}")
    rows.sort(key=lambda r: r.get("CreationTime") or datetime.min, reverse=True)
    return rows, problems


class JobsView(QWidget):
    open_requested = Signal(str, str)             # engine, job
    rerun_requested = Signal(str, object, object)  # engine, job dict, local media path

    def __init__(self, ctx: AppContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.jobs: list[dict] = []
        self._polling = False
        self.confirm_delete = self._ask_delete
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 16, 24, 16)
        head = QHBoxLayout()
        head.addWidget(QLabel("<h2>Jobs</h2>"))
        head.addStretch(1)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name")
        self.filter.setAccessibleName("Filter jobs")
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
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
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

    def _failed(self, exc) -> None:
        self._polling = False
        self.problem.setText(describe_error(exc))
        self.problem.show()

    def _loaded(self, result) -> None:
        self._polling = False
        self.jobs, problems = result
        self.problem.setText("\n".join(problems))
        self.problem.setVisible(bool(problems))
        self._fill()

    def _fill(self, *_) -> None:
        selected = self.selected()
        key = (selected["engine"], selected["MedicalTranscriptionJobName"]) if selected else None
        text = self.filter.text().lower()
        shown = [j for j in self.jobs if text in j["MedicalTranscriptionJobName"].lower()]
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(len(shown))
        for r, job in enumerate(shown):
            status = job["TranscriptionJobStatus"]
            values = [job["MedicalTranscriptionJobName"], ENGINE_LABELS.get(job["engine"], job["engine"]).split(" (")[0],
                      STATUS_TEXT.get(status, status), "", _when(job.get("CreationTime")),
                      _when(job.get("StartTime")), _when(job.get("CompletionTime")), job.get("FailureReason", "")]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c == 0:
                    item.setData(Qt.ItemDataRole.UserRole, job)
                if c == 2 and status == "FAILED":
                    item.setForeground(QColor("#c62828"))
                if c == 7 and value:
                    item.setToolTip(value)
                self.table.setItem(r, c, item)
            if status in ("IN_PROGRESS", "QUEUED"):
                bar = self.table.cellWidget(r, 3)
                if not isinstance(bar, QProgressBar):
                    bar = QProgressBar()
                    bar.setRange(0, 100)
                    bar.setAccessibleName("Job progress")
                    self.table.setCellWidget(r, 3, bar)
                bar.setValue(int((job.get("progress") or 0) * 100))
            else:
                self.table.removeCellWidget(r, 3)
                self.table.item(r, 3).setText("100 %" if status == "COMPLETED" else "")
            if key == (job["engine"], job["MedicalTranscriptionJobName"]):
                self.table.selectRow(r)
        self.table.setUpdatesEnabled(True)
        self._update_buttons()

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
