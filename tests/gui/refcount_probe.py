"""Run in a subprocess by test_stability.py: prints how far Python's None refcount moved.

Mode ``setters``: 10,000 calls of QTextCharFormat setters that return nothing. Mode ``editor``:
the editor showing a real AWS transcript (an 8-minute two-channel consultation), re-rendered 50
times and its "Show PHI redacted" toggle flipped 100 times. A binding that drops a reference to
None on each call (PySide6 6.12.0 on Python 3.10/3.11) moves it by thousands, or aborts with
"Fatal Python error: none_dealloc".
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtGui import QTextCharFormat  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def setters() -> int:
    fmt = QTextCharFormat()
    before = sys.getrefcount(None)
    for _ in range(10_000):
        fmt.setToolTip("x")
        fmt.setAnchor(True)
        fmt.setAnchorHref("phi:1")
        fmt.setFontWeight(700)
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
    return sys.getrefcount(None) - before


def editor(transcript: Path, home: Path) -> int:
    from app.core.document import TranscriptDocument
    from app.gui.common import AppContext
    from app.gui.editor import EditorView
    from app.gui.player import Player

    app = QApplication.instance() or QApplication([])
    ctx = AppContext(home)
    view = EditorView(ctx, Player())
    doc = TranscriptDocument(json.loads(transcript.read_text()), None, job_name="probe")
    view.set_document(doc, None, engine="local")
    app.processEvents()
    before = sys.getrefcount(None)
    for _ in range(50):
        view.render_all()
        app.processEvents()
    for _ in range(100):
        view.redact.toggle()
        app.processEvents()
    return sys.getrefcount(None) - before


if __name__ == "__main__":
    mode = sys.argv[1]
    print(setters() if mode == "setters" else editor(Path(sys.argv[2]), Path(sys.argv[3])))
