"""The main window: a sidebar of views, menus and shortcuts, state kept across restarts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (QHBoxLayout, QListWidget, QListWidgetItem, QMainWindow,
                               QMessageBox, QStackedWidget, QWidget)

from ..resources import resource_path
from .common import AppContext
from .editor import EditorView
from .importer import ImportView
from .jobform import JobForm
from .jobs import JobsView
from .noteactions import add_menu_actions
from .player import Player
from .recorder import RecorderView
from .settings_view import SettingsView
from .vocab import VocabularyView
from .welcome import WelcomeView
from .workers import wait_idle

PAGES = ["Record", "Import", "New job", "Jobs", "Transcript", "Vocabularies", "Settings"]

STYLE = """
QListWidget#sidebar { border: none; padding-top: 12px; font-size: 11pt; }
QListWidget#sidebar::item { padding: 8px 16px; border-radius: 6px; margin: 1px 8px; }
QListWidget#sidebar::item:selected { background: palette(highlight); color: palette(highlighted-text); }
QLabel[role="error"] { color: #c62828; }
QLabel[role="hint"] { color: palette(placeholder-text); }
QFrame#banner { background: rgba(255, 193, 7, 0.18); border: 1px solid rgba(255, 160, 0, 0.6);
                border-radius: 6px; }
QFrame#dropzone { border: 2px dashed palette(mid); border-radius: 10px; }
QFrame#dropzone[hover="true"] { border-color: palette(highlight); }
QFrame#turn { border-bottom: 1px solid palette(midlight); }
QLineEdit#speaker { background: transparent; border: 1px dashed palette(mid); border-radius: 4px; padding: 1px 4px; }
QLineEdit#speaker:hover, QLineEdit#speaker:focus { background: palette(base); border: 1px solid palette(highlight); }
QLabel#turntime { color: palette(placeholder-text); }
QGroupBox { font-weight: bold; margin-top: 10px; }
QGroupBox QLabel, QGroupBox QRadioButton, QGroupBox QCheckBox { font-weight: normal; }
"""


class MainWindow(QMainWindow):
    def __init__(self, home: Path | None = None, *, restore: bool = True):
        super().__init__()
        self.ctx = AppContext(home)
        self.setWindowTitle("ClinScribe")
        icon = resource_path("clinscribe.png", must_exist=False)
        if icon.exists():
            self.setWindowIcon(QIcon(str(icon)))
        self.qsettings = QSettings(str(self.ctx.home / "gui" / "window.ini"), QSettings.Format.IniFormat)
        self.player = Player(self)
        self.player.home = self.ctx.home

        central = QWidget()
        lay = QHBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setAccessibleName("Views")
        self.sidebar.setFixedWidth(170)
        self.stack = QStackedWidget()
        lay.addWidget(self.sidebar)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.recorder = RecorderView(self.ctx)
        self.importer = ImportView(self.ctx)
        self.job_form = JobForm(self.ctx)
        self.jobs = JobsView(self.ctx)
        self.editor = EditorView(self.ctx, self.player)
        self.vocabularies = VocabularyView(self.ctx)
        self.settings_view = SettingsView(self.ctx)
        for name, view in zip(PAGES, (self.recorder, self.importer, self.job_form, self.jobs, self.editor,
                                      self.vocabularies, self.settings_view)):
            self.stack.addWidget(view)
            QListWidgetItem(name, self.sidebar)
        self.welcome = WelcomeView()   # the first launch's page (not in the sidebar)
        self.stack.addWidget(self.welcome)
        self.welcome.record_requested.connect(self._record)
        self.welcome.import_requested.connect(lambda: (self.show_page("Import"), self.importer.choose()))
        self.sidebar.currentRowChanged.connect(lambda row: row >= 0 and self.stack.setCurrentIndex(row))

        self.recorder.media_ready.connect(self._use_recording)
        self.recorder.live.request = self.job_form.params          # live dictation uses the form's settings
        self.recorder.live.finished.connect(self.open_transcript)
        self.settings_view.templates.changed.connect(self.job_form.refresh_templates)
        self.importer.media_ready.connect(self._use_import)
        self.importer.play_requested.connect(self._play_file)
        self.job_form.submitted.connect(self._submitted)
        self.jobs.open_requested.connect(self.open_transcript)
        self._export_when_open: tuple[str, str] | None = None
        self.editor.document_opened.connect(self._document_opened)
        self.jobs.rerun_requested.connect(self._rerun)
        self.editor.status_message.connect(lambda m: self.statusBar().showMessage(m, 4000))
        self.ctx.settings_changed.connect(self.recorder.refresh_devices)
        self.ctx.notice.connect(self._notice)  # a method: queued to the GUI thread when an engine starts elsewhere
        self._build_menus()
        self.statusBar().showMessage(self.recorder.problem() or "Ready.")
        self.recorder.problem_changed.connect(
            lambda text: self.statusBar().showMessage(text or "Ready.", 0 if text else 3000))

        self.resize(1180, 780)
        if restore:
            self.restore_state()
        else:
            self.show_page("Record")
        self.jobs.start_polling()
        QTimer.singleShot(0, self.recorder.check_interrupted)

    # -- navigation ----------------------------------------------------------------
    def show_page(self, name: str) -> None:
        self.sidebar.setCurrentRow(PAGES.index(name))

    def show_welcome(self) -> None:
        self.sidebar.clearSelection()
        self.sidebar.setCurrentRow(-1)
        self.stack.setCurrentWidget(self.welcome)
        self.welcome.record_button.setFocus()

    def current_page(self) -> str:
        return "Welcome" if self.stack.currentWidget() is self.welcome else PAGES[self.stack.currentIndex()]

    def _build_menus(self) -> None:
        def action(menu, text, slot, shortcut=None, name=None):
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(shortcut)
            act.triggered.connect(slot)
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            menu.addAction(act)
            self.addAction(act)
            if name:
                setattr(self, name, act)
            return act

        m = self.menuBar().addMenu("&File")
        action(m, "&Import audio…", lambda: (self.show_page("Import"), self.importer.choose()),
               QKeySequence.StandardKey.Open, "open_action")
        action(m, "&New job", self.new_job, QKeySequence.StandardKey.New)
        action(m, "&Export…", self.export_anywhere, QKeySequence("Ctrl+E"))
        add_menu_actions(self, m, action)  # Copy note to clipboard, Send to EHR…, Note details…
        m.addSeparator()
        action(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        m = self.menuBar().addMenu("&Edit")
        m.addAction(self.editor.undo_action)
        m.addAction(self.editor.redo_action)
        self.addAction(self.editor.undo_action)
        self.addAction(self.editor.redo_action)
        m.addSeparator()
        action(m, "&Find and replace", self._find, QKeySequence.StandardKey.Find)
        m = self.menuBar().addMenu("&Audio")
        action(m, "&Record", self._record, QKeySequence("Ctrl+R"), "record_action")
        action(m, "&Pause / resume recording", self.recorder.toggle_pause, QKeySequence("Ctrl+Shift+P"),
               "pause_action")
        action(m, "&Stop recording", self.recorder.stop, QKeySequence("Ctrl+."), "stop_action")
        action(m, "P&lay / pause", self.editor.toggle_play, QKeySequence("F4"), "play_action") \
            .setShortcuts([QKeySequence("F4"), QKeySequence("Ctrl+Space")])
        action(m, "&Back 3 s", lambda: self.editor.skip(-3.0), QKeySequence("F7"), "back_action")
        action(m, "&Forward 3 s", lambda: self.editor.skip(3.0), QKeySequence("F8"), "forward_action")
        m = self.menuBar().addMenu("&View")
        for i, name in enumerate(PAGES):
            action(m, name, lambda _=False, n=name: self.show_page(n), QKeySequence(f"Ctrl+{i + 1}"))
        m = self.menuBar().addMenu("&Help")
        action(m, "&Welcome", self.show_welcome)
        action(m, "&About ClinScribe", self._about)

    def new_job(self) -> None:
        """A new job from a clean form (the last job's settings are one click away, not a leftover)."""
        self.job_form.reset()
        self.show_page("New job")
        self.job_form.media_uri.setFocus()

    def _find(self) -> None:
        self.show_page("Transcript")
        self.editor.find_edit.setFocus()
        self.editor.find_edit.selectAll()

    def _record(self) -> None:
        self.show_page("Record")
        self.recorder.start()

    def _notice(self, text: str) -> None:
        QMessageBox.warning(self, "ClinScribe", text)

    def _about(self) -> None:  # the text: app/about.py (Qt-free)
        from ..about import about_summary, libraries_text
        box = QMessageBox(QMessageBox.Icon.Information, "About ClinScribe", about_summary(), parent=self)
        box.setDetailedText(libraries_text())  # "Show Details...": every library's version and licence
        box.exec()

    # -- flow between views ------------------------------------------------------------
    def _use_recording(self, path: Path) -> None:
        self.importer.load_file(path)
        self.job_form.set_media(path)
        self.job_form.preset.setCurrentText(
            "Two-channel recording" if self.recorder.channels.currentData() == 2 else "Dictation")
        self.show_page("New job")

    def _use_import(self, path: Path, info) -> None:
        self.job_form.set_media(path, info=info)
        self.show_page("New job")

    def _play_file(self, path: Path) -> None:
        problem = self.player.output_problem()
        if problem:   # said in the Import view, not only on the terminal
            self.importer.message.setText(problem)
            self.importer.message.show()
            return
        self.player.load(path)
        self.player.play()

    def _submitted(self, engine: str, name: str) -> None:
        self.statusBar().showMessage(f"Job {name} submitted.", 5000)
        self.show_page("Jobs")
        QTimer.singleShot(300, self.jobs, lambda: self.jobs.select(engine, name))  # not after the view is gone

    def _rerun(self, engine: str, job: dict, local_path) -> None:
        self.job_form.load_request(engine, job, local_path)
        self.show_page("New job")

    def export_anywhere(self) -> None:
        """Ctrl+E: the open transcript, or on the Jobs page the selected completed job's."""
        job = self.jobs.selected() if self.current_page() == "Jobs" else None
        if job and job.get("TranscriptionJobStatus") == "COMPLETED":
            key = (job["engine"], job["MedicalTranscriptionJobName"])
            if key != (self.editor.engine_kind, self.editor.job_name) or self.editor.doc is None:
                self._export_when_open = key
                self.open_transcript(*key)
                return
        self.editor.export()

    def _document_opened(self) -> None:
        if self.current_page() == "Transcript" and self.editor.turn_widgets:
            self.editor.turn_widgets[0].text.setFocus()   # ready to type, without the mouse
        if self._export_when_open == (self.editor.engine_kind, self.editor.job_name):
            self._export_when_open = None
            self.editor.export()

    def open_transcript(self, engine: str, name: str) -> None:
        self.editor.open_job(engine, name)
        self.show_page("Transcript")

    # -- state -------------------------------------------------------------------------
    def restore_state(self) -> None:
        geometry = self.qsettings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = self.qsettings.value("state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        live = self.recorder.live
        live.enabled.setChecked(str(self.qsettings.value("live_dictation", "true")) == "true")
        live.on_top.setChecked(str(self.qsettings.value("dictation_box", "false")) == "true")
        page = self.qsettings.value("page", "")
        if not page:   # the first launch
            self.show_welcome()
            return
        self.show_page(page if page in PAGES else "Record")
        last = self.qsettings.value("last_job", "")
        if last and "/" in str(last) and page == "Transcript":
            engine, name = str(last).split("/", 1)
            self.editor.open_job(engine, name)

    def save_state(self) -> None:
        self.qsettings.setValue("geometry", self.saveGeometry())
        self.qsettings.setValue("state", self.saveState())
        self.qsettings.setValue("live_dictation", "true" if self.recorder.live.enabled.isChecked() else "false")
        self.qsettings.setValue("dictation_box", "true" if self.recorder.live.on_top.isChecked() else "false")
        page = self.current_page()
        self.qsettings.setValue("page", "Record" if page == "Welcome" else page)
        if self.editor.doc:
            self.qsettings.setValue("last_job", f"{self.editor.engine_kind}/{self.editor.job_name}")
        self.qsettings.sync()

    def closeEvent(self, event) -> None:
        self.editor.commit_all()
        if self.recorder.is_recording:
            self.recorder.stop()   # the file is complete; nothing is lost
        self.jobs.timer.stop()
        self.player.stop()
        self.save_state()
        wait_idle(5000)
        super().closeEvent(event)
