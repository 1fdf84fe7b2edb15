"""``clinscribe --self-test``: is this installation whole? One line per check, exit 0 or 1.

It runs the real thing on the bundled sample recording (resources/sample/jfk.flac) in a
temporary home folder (never the user's: their jobs, settings and keys are not touched):
loads the speech model, transcribes the sample with the local engine and compares the text
with what was said, runs a PHI job and a speaker-labels job, makes the AWS engine's clients
(nothing is sent) and opens the main window offscreen. The OS keyring and AWS_* variables are
kept away from it, so it never reads the user's AWS keys nor lists their AWS jobs. Each check prints ``ok``/``FAIL``, its time, and on failure exactly what is broken.
Works from a checkout, an installed wheel and the frozen bundle (jobs run in the same
``_worker`` subprocess the app uses), with no network.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

SAMPLE = "sample/jfk.flac"
SAMPLE_TEXT = ("And so my fellow Americans, ask not what your country can do for you, "
               "ask what you can do for your country.")
MAX_WER = 0.15  # tiny.en gets 0 on this sample; a broken decoder or front end gets far more
PHI_SENTENCE = "Patient John Smith can be reached at 555-867-5309 after lunch"
JOB_TIMEOUT = 300.0


class CheckFailed(Exception):
    pass


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = _words(reference), _words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / max(len(ref), 1)


class SelfTest:
    def __init__(self, out=None, gui: bool = True):
        self.out = out or sys.stdout
        self.gui = gui
        self.failures: list[str] = []
        self.home: Path | None = None
        self.engine = None
        self.sample: Path | None = None
        self.model_name = ""

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def check(self, name: str, func: Callable[[], str]) -> bool:
        start = time.monotonic()
        try:
            detail = func()
            ok = True
        except CheckFailed as exc:
            detail, ok = str(exc), False
        except Exception as exc:  # what broke, in one line (the traceback goes to stderr)
            detail, ok = f"{type(exc).__name__}: {' '.join(str(exc).split())}", False
            traceback.print_exc(file=sys.stderr)
        took = time.monotonic() - start
        self.say(f"{'ok  ' if ok else 'FAIL'} {name:<11} {took:6.1f} s  {detail}")
        if not ok:
            self.failures.append(f"{name}: {detail}")
        return ok

    # -- the checks ---------------------------------------------------------------------
    def c_resources(self) -> str:
        from .resources import resource_path

        self.sample = resource_path(SAMPLE)
        icon = resource_path("clinscribe.png")
        return f"sample {self.sample}, icon {icon.name}"

    def c_model(self) -> str:
        from .core.config import Settings
        from .local import asr

        self.model_name = Settings.load(self.home).model
        path = asr.resolve_model(self.model_name, self.home)
        model = asr.load_model(str(path))
        del model
        return f"{self.model_name} loaded from {path}"

    def c_aws(self) -> str:
        """The AWS engine's clients can be made (botocore's service models are there); no call is sent."""
        import boto3

        session = boto3.session.Session(aws_access_key_id="selftest", aws_secret_access_key="selftest",
                                        region_name="us-east-1")
        names = ("transcribe", "s3", "sts")
        for name in names:
            session.client(name)
        return f"clients {', '.join(names)} (offline: nothing sent)"

    def c_recording(self) -> str:
        """Recordings can be written and read back (soundfile's libsndfile: FLAC, as the recorder saves)."""
        import numpy as np
        import soundfile

        path = self.home / "selftest-recording.flac"
        tone = (0.2 * np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000)).astype("float32")
        soundfile.write(path, tone, 16000)
        back, rate = soundfile.read(path, dtype="float32")
        path.unlink()
        if rate != 16000 or len(back) != len(tone) or float(np.abs(back - tone).max()) > 1e-3:
            raise CheckFailed("a FLAC recording written here does not read back the same")
        return f"FLAC written and read back ({soundfile.__libsndfile_version__})"

    def c_store(self) -> str:
        """The shared PostgreSQL job store's client library loads (libpq; no server is contacted)."""
        from psycopg import pq

        major, minor = divmod(pq.version(), 10000)
        return f"PostgreSQL client libpq {major}.{minor} ({pq.__impl__} implementation; nothing contacted)"

    def c_exports(self) -> str:
        """The export and EHR libraries work here (their data files and packages are all bundled)."""
        import io

        import docx
        from fhir.resources.R4B.documentreference import DocumentReference
        from fpdf import FPDF
        from hl7apy.core import Message

        word = docx.Document()  # reads python-docx's default template
        word.add_paragraph("self-test")
        word.sections[0].footer.paragraphs[0].text = "page"  # its footer template too
        word.save(io.BytesIO())
        pdf = FPDF()
        pdf.add_page()
        msg = Message("MDM_T02", version="2.5.1")  # hl7apy finds its v2.5.1 structures
        msg.msh.msh_10 = "SELFTEST"
        ref = DocumentReference.model_validate({
            "resourceType": "DocumentReference", "status": "current",
            "content": [{"attachment": {"contentType": "text/plain", "data": "c2VsZi10ZXN0"}}]})
        return f"DOCX, PDF, HL7 v2.5.1 {msg.name}, FHIR R4B {ref.get_resource_type()}"

    def c_engine(self) -> str:
        from .engine.local import LocalEngine

        self.engine = LocalEngine(self.home)
        return f"local engine, home {self.home} (temporary)"

    def _job(self, name: str, **params) -> dict:
        engine = self.engine
        if engine is None:
            raise CheckFailed("no engine (see the engine check)")
        uri = engine.put_media(self.sample, key=f"selftest/{name}/{self.sample.name}")
        engine.start_medical_transcription_job(
            MedicalTranscriptionJobName=name, LanguageCode="en-US", Media={"MediaFileUri": uri},
            OutputBucketName=engine.settings.default_output_bucket, Specialty="PRIMARYCARE", **params)
        job = engine.wait(name, poll=0.2, timeout=JOB_TIMEOUT)
        if job["TranscriptionJobStatus"] != "COMPLETED":
            raise CheckFailed(f"job {job['TranscriptionJobStatus']}: {job.get('FailureReason')}")
        return engine.get_transcript(name)["results"]

    def c_transcribe(self) -> str:
        results = self._job("selftest-dictation", Type="DICTATION")
        text = results["transcripts"][0]["transcript"]
        wer = word_error_rate(SAMPLE_TEXT, text)
        if wer > MAX_WER:
            raise CheckFailed(f"word error rate {wer:.2f} > {MAX_WER} (heard: {text!r})")
        return f"WER {wer:.2f}: {text!r}"

    def c_phi(self) -> str:
        from .local.phi import detect_phi

        results = self._job("selftest-phi", Type="DICTATION", ContentIdentificationType="PHI")
        if "entities" not in results:
            raise CheckFailed("the PHI job's transcript has no 'entities' list")
        words = PHI_SENTENCE.split()
        items = [{"content": w, "start": i * 0.5, "end": i * 0.5 + 0.4, "confidence": 1.0}
                 for i, w in enumerate(words)]
        found = {e["content"]: e["category"] for e in detect_phi(items)}
        missing = [w for w in ("John Smith", "555-867-5309") if w not in found]
        if missing:
            raise CheckFailed(f"PHI not found in a known sentence: {missing} (found {found})")
        return (f"job: {len(results['entities'])} entities in the sample; "
                f"known sentence: {', '.join(f'{k} ({v})' for k, v in found.items())}")

    def c_speakers(self) -> str:
        results = self._job("selftest-speakers", Type="CONVERSATION",
                            Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2})
        labels = results.get("speaker_labels") or {}
        segments = labels.get("segments") or []
        if not segments:
            raise CheckFailed("the speaker-labels job has no speaker_labels segments")
        speakers = sorted({s["speaker_label"] for s in segments})
        return f"{len(segments)} segment(s), speakers {', '.join(speakers)}"

    def c_gui(self) -> str:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        try:
            from .gui.main import create_app
        except ImportError as exc:
            raise CheckFailed(f"the desktop app cannot load: {exc}") from None
        from .gui.window import MainWindow

        app = create_app([])
        seconds = self._player_loads()
        window = MainWindow(self.home, restore=False)
        window.show()
        app.processEvents()
        image = window.grab().toImage()
        size = (image.width(), image.height())
        window.close()
        window.deleteLater()
        app.processEvents()
        if size[0] < 100 or size[1] < 100:
            raise CheckFailed(f"the main window drew {size[0]}x{size[1]} pixels")
        return (f"main window drawn {size[0]}x{size[1]} ({app.platformName()}), "
                f"player decoded the sample at 1.5x ({seconds:.1f} s)")

    def _player_loads(self) -> float:
        """The editor's player decodes the sample at 1.5x with the pitch kept (PyAV + FFmpeg's atempo,
        the audio output of QtMultimedia): how many seconds it would play."""
        from .gui.player import Player, render

        player = Player()
        if not player.available:
            raise CheckFailed(player.error)
        player.load(self.sample)
        if player.duration < 1:
            raise CheckFailed(f"the player could not open the sample ({player.duration:.1f} s)")
        _, pcm = render(self.sample, rate=1.5)
        played = len(pcm) / 2 / 16000
        if abs(played - player.duration / 1.5) > 0.2:
            raise CheckFailed(f"at 1.5x the sample would play {played:.1f} s, not {player.duration / 1.5:.1f} s")
        return played

    # -- run ------------------------------------------------------------------------------
    def run(self) -> int:
        from . import __version__

        started = time.monotonic()
        frozen = "frozen" if getattr(sys, "frozen", False) else "from source"
        self.say(f"ClinScribe {__version__} self-test ({frozen}, Python {sys.version.split()[0]})")
        self.home = Path(tempfile.mkdtemp(prefix="clinscribe-selftest-"))
        hermetic = {  # the worker and anything else: never the user's home, nor their AWS keys or profile
            "CLINSCRIBE_HOME": str(self.home),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # else the window lists AWS jobs
        }
        saved = {k: os.environ.get(k) for k in (*hermetic, *[k for k in os.environ if k.startswith("AWS_")])}
        for key in saved:
            os.environ.pop(key, None)
        os.environ.update(hermetic)
        try:
            if self.check("resources", self.c_resources):
                self.check("model", self.c_model)
                if self.check("engine", self.c_engine):
                    self.check("transcribe", self.c_transcribe)
                    self.check("phi", self.c_phi)
                    self.check("speakers", self.c_speakers)
            self.check("aws", self.c_aws)
            self.check("recording", self.c_recording)
            self.check("store", self.c_store)
            self.check("exports", self.c_exports)
            if self.gui:
                self.check("gui", self.c_gui)
        finally:
            self._stop_children()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            shutil.rmtree(self.home, ignore_errors=True)
        took = time.monotonic() - started
        if self.failures:
            self.say(f"SELF-TEST FAILED in {took:.1f} s: {len(self.failures)} problem(s):")
            for line in self.failures:
                self.say(f"  - {line}")
            return 1
        self.say(f"self-test passed in {took:.1f} s")
        return 0

    def _stop_children(self) -> None:
        """End the job workers this test started (they idle a while before leaving on their own)."""
        import psutil

        children = psutil.Process().children(recursive=True)
        for child in children:
            try:
                child.terminate()
            except psutil.Error:
                pass
        psutil.wait_procs(children, timeout=10)


def main(gui: bool = True) -> int:
    return SelfTest(gui=gui).run()
