"""Start the real ClinScribe app under Xvfb, walk through each view, save screenshots.

    python packaging/screenshots.py [--out docs/screenshots] [--audio ../shared/data/audio/jfk.flac]

Needs Xvfb (apt-get install xvfb libxcb-icccm4 libxcb-keysyms1) unless a DISPLAY is already set.
Uses a throw-away ClinScribe home, records from the sample file played as a microphone,
imports it, runs a real local job, and opens the transcript.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_xvfb() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return None
    if not shutil.which("Xvfb"):
        sys.exit("Xvfb is not installed: apt-get install xvfb libxcb-icccm4 libxcb-keysyms1")
    display = ":97"
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x860x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    os.environ["DISPLAY"] = display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    return proc


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--audio", default=str(ROOT.parent / "shared" / "data" / "audio" / "jfk.flac"))
    args = parser.parse_args()
    out, audio = Path(args.out), Path(args.audio)
    out.mkdir(parents=True, exist_ok=True)
    xvfb = start_xvfb()
    home = Path(tempfile.mkdtemp(prefix="clinscribe-shots-"))
    os.environ["CLINSCRIBE_HOME"] = str(home)
    os.environ.setdefault("CLINSCRIBE_WORKER_IDLE", "3")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    try:
        from PySide6.QtCore import QSize
        from PySide6.QtWidgets import QApplication

        from app.gui.main import create_app
        from app.gui.window import MainWindow
        from app.audio.recording import FileInputStream

        app = create_app([])
        w = MainWindow(home)   # a new home: the first launch's welcome
        w.resize(QSize(1180, 800))
        w.show()

        def pump(seconds: float = 0.3, until=None, timeout: float = 120.0):
            end = time.monotonic() + (timeout if until else seconds)
            while time.monotonic() < end:
                app.processEvents()
                if until and until():
                    break
                time.sleep(0.02)
            for _ in range(5):
                app.processEvents()

        def shot(name: str):
            pump(0.4)
            image = w.grab().toImage()
            path = out / f"{name}.png"
            image.save(str(path), "PNG", 0)   # 0: smallest file
            print(f"saved {path} ({path.stat().st_size // 1024} KB)")

        shot("00-welcome")
        w.recorder.add_input("Sample speech (demo input)", functools.partial(FileInputStream, audio))
        w.recorder.channels.setCurrentIndex(w.recorder.channels.findData(1))
        w.show_page("Record")
        w.recorder.start()
        pump(until=lambda: len(w.recorder.live.text.toPlainText().split()) >= 8, timeout=30)   # live words
        shot("01-record")
        w.recorder.stop()
        pump(until=lambda: "ready" in w.recorder.live.status.text(), timeout=60)   # the live job is made

        w.show_page("Import")
        w.importer.load_file(audio)
        pump(until=lambda: w.importer.info is not None, timeout=20)
        shot("02-import")

        w.importer.media_ready.emit(audio, w.importer.info)
        form = w.job_form
        form.preset.setCurrentText("Dictation")
        form.name.setText("jfk-dictation")
        shot("03-job-form")
        form.name.setText("bad name!")
        form.max_speakers.setValue(1)
        form.who_speakers.setChecked(True)
        shot("04-job-form-validation")
        form.name.setText("jfk-dictation")
        form.who_none.setChecked(True)
        form.submit()
        pump(until=lambda: (w.jobs.job("local", "jfk-dictation") or {}).get("TranscriptionJobStatus")
             in ("COMPLETED", "FAILED"), timeout=180)
        w.jobs.select("local", "jfk-dictation")
        shot("05-jobs")

        w.open_transcript("local", "jfk-dictation")
        pump(until=lambda: w.editor.doc is not None, timeout=30)
        if w.editor.turn_widgets:
            w.editor.rename_speaker(w.editor.doc.turns[0]["label"], "Dr. Lee")
            w.editor.highlight(0, 3)
        shot("06-transcript")

        from app.gui.exporting import open_export

        dialog = open_export(w.editor)
        pump(until=lambda: dialog.export_button.isEnabled(), timeout=20)
        pump(0.3)
        image = dialog.grab().toImage()
        image.save(str(out / "09-export.png"), "PNG", 0)
        print(f"saved {out / '09-export.png'}")
        dialog.close()

        w.show_page("Vocabularies")
        w.vocabularies.new("cardiology")
        w.vocabularies.editor.setPlainText("Phrase\tIPA\tSoundsLike\tDisplayAs\n"
                                           "Lisinopril\t\tli-sin-o-pril\t\n"
                                           "blood-pressure\t\t\tblood pressure\n"
                                           "atrial fibrillation\t\t\t\n")
        w.vocabularies.check()
        shot("07-vocabularies")
        w.show_page("Settings")
        shot("08-settings")
        w.close()
        app.processEvents()
        return 0
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if xvfb:
            xvfb.terminate()
            xvfb.wait(5)


if __name__ == "__main__":
    sys.exit(main())
