"""The recorder's live dictation: words as the clinician speaks (settled ones plain, tentative ones
grey), and at Stop the job — with the form's settings — made from the passes already done."""

from __future__ import annotations

import html
import threading
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QTextEdit, QVBoxLayout

from ..core.privacy import write_private
from .dictationbox import DictationBox
from .common import AppContext, describe_error, hint_label, say, unique_job_name
from .workers import run_async


def settled_path(recording: Path) -> Path:
    """Where the settled live words of a recording are kept until its job is made (crash safety)."""
    return Path(recording).with_name(Path(recording).name + ".live.txt")


class LivePanel(QGroupBox):
    finished = Signal(str, str)      # engine, job name: the transcript is ready
    _state = Signal(object)          # a LiveState, from the session's thread

    def __init__(self, ctx: AppContext, request: Callable[[], dict]):
        super().__init__("Live dictation")
        self.ctx, self.request = ctx, request
        lay = QVBoxLayout(self)
        self.enabled = QCheckBox("Show the words while I dictate, and make the job at Stop (local engine)")
        self.enabled.setChecked(True)
        self.enabled.setAccessibleName("Live dictation")
        lay.addWidget(self.enabled)
        self.on_top = QCheckBox("Keep the words in a small box above other windows while I dictate")
        self.on_top.setAccessibleName("Dictation box on top")
        lay.addWidget(self.on_top)
        self.text = QTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Live words")
        self.text.setPlaceholderText("Words appear here as you speak; grey ones may still change.")
        self.text.setMaximumHeight(140)
        lay.addWidget(self.text)
        self.status = hint_label()
        self.status.setAccessibleName("Live dictation status")
        lay.addWidget(self.status)
        self._state.connect(self._show)
        self.box = DictationBox(self)   # a window of its own, shown while dictating when on_top is ticked
        self.session = None
        self._ready = threading.Event()
        self._job: tuple | None = None   # (engine, params, vocabulary, feeder)
        self._path: Path | None = None
        self._saved_at = 0.0
        self._commands = None   # with voice commands on: the template's sections ([] without a template)

    def _show(self, state) -> None:
        settled, tentative = state.settled_text, state.tentative_text
        shown = settled
        if self._commands is not None and settled:   # "period", "new paragraph"... as the note will have them
            from ..live.commands import spoken_text

            shown = spoken_text([w for w in state.words if w.settled], self._commands)
        body = (html.escape(shown).replace("\n", "<br>") + (" " if shown and tentative else "") +
                (f'<span style="color:gray; font-style:italic">{html.escape(tentative)}</span>' if tentative else ""))
        self.text.setHtml(body)
        if self.box.isVisible():
            self.box.show_words(body)
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())
        if self._path is not None and settled and time.monotonic() - self._saved_at > 2.0:
            self._saved_at = time.monotonic()   # kept beside the recording: a crash loses no settled word
            try:
                write_private(settled_path(self._path), settled.encode("utf-8"))
            except OSError:
                pass

    def offer_recovered(self, recording: Path) -> str:
        """After a crash: show what had been dictated live into ``recording`` (and return it)."""
        kept = settled_path(recording)
        text = kept.read_text(encoding="utf-8") if kept.exists() else ""
        if text:
            self.text.setPlainText(text)
            self._say("Recovered the words dictated before the interruption (settled only); the recording "
                      "is kept: Transcribe it for the full transcript.")
        return text

    def forget(self, recording: Path) -> None:
        settled_path(recording).unlink(missing_ok=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        say(self.status, text, error=error)

    # -- recording starts ---------------------------------------------------------------
    def started(self, recorder, path: Path) -> None:
        self.session, self._job, self._path, self._commands = None, None, Path(path), None
        self._ready.clear()
        self.text.clear()
        self.box.show_words("")
        if not self.enabled.isChecked():
            self._say("")
            return
        if recorder.channels != 1:
            self._say("Live dictation is for one voice: record mono (two-channel recordings become a normal job).")
            return
        from ..live import job as live_job
        from ..live.feed import Feeder

        params = self._params(path)
        try:
            engine = self.ctx.engine("local")
            decode, vocabulary = live_job.prepare(engine, params)
            self._commands = live_job.command_sections(engine, params)
        except Exception as exc:  # noqa: BLE001 - the recording goes on; the job form is still there
            self._say(f"Live dictation is off for this recording: {describe_error(exc)}", error=True)
            return
        feeder = Feeder()
        recorder.listeners.append(feeder)
        self._job = (engine, params, vocabulary, feeder)
        if self.on_top.isChecked():
            self.box.show()
        self._say("Loading the speech model…")

        def work():
            from ..live.session import LiveSession

            model = live_job.load_model(engine)
            self.session = LiveSession(model, decode, on_update=self._state.emit).start()
            feeder.attach(self.session)
            self._ready.set()

        def failed(exc):
            self._ready.set()
            self._say(f"Live dictation stopped: {describe_error(exc)}", error=True)

        run_async(work, lambda _: self._say("Listening…"), failed)

    def _params(self, path: Path) -> dict:
        """The job form's settings, as a dictation of this recording with a new neutral name."""
        params = dict(self.request())
        params.update(MedicalTranscriptionJobName=unique_job_name(), Type="DICTATION",
                      Media={"MediaFileUri": Path(path).resolve().as_uri()})
        params.pop("MediaFormat", None)
        params.pop("MediaSampleRateHertz", None)
        settings = {k: v for k, v in (params.get("Settings") or {}).items()
                    if k not in ("ShowSpeakerLabels", "MaxSpeakerLabels", "ChannelIdentification")}
        params.pop("Settings", None)
        if settings:
            params["Settings"] = settings
        return params

    # -- recording stops ----------------------------------------------------------------
    def stopped(self, path: Path | None) -> bool:
        """Make the job from the live passes; False when live dictation was not running."""
        if self._job is None or path is None:
            return False
        engine, params, vocabulary, feeder = self._job
        self._job = None
        self.box.hide()
        if self.session is not None:
            self._show(self.session.state())   # the last settled words are on disk before finishing
            self._saved_at = 0.0
        self._say("Finishing the transcript…")
        ready = self._ready

        def work():
            from ..live import job as live_job

            ready.wait(120)
            if self.session is None:
                raise RuntimeError("the speech model could not be loaded")
            live_job.finish(engine, params, self.session, path, vocabulary)
            return params["MedicalTranscriptionJobName"]

        def done(name):
            self.forget(path)
            self.ctx.media.set("local", name, path)
            self._say(f"Job {name} is ready: its transcript is open.")
            self.ctx.jobs_changed.emit()
            self.finished.emit("local", name)

        def failed(exc):
            self._say(f"The live job could not be made ({describe_error(exc)}); the recording is kept: "
                      "use Transcribe to make a normal job.", error=True)

        run_async(work, done, failed)
        return True
