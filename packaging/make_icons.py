"""Render resources/clinscribe.svg into the PNG sizes, the .ico and the .icns (run once; outputs are committed).

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py

Qt's SVG renderer draws the PNGs; Pillow writes the Windows .ico and the macOS .icns from them.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RES = ROOT / "resources"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    renderer = QSvgRenderer(str(RES / "clinscribe.svg"))
    if not renderer.isValid():
        raise SystemExit("resources/clinscribe.svg is not a valid SVG")
    (RES / "icons").mkdir(exist_ok=True)
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(RES / "icons" / f"clinscribe-{size}.png"))
    big = Image.open(RES / "icons" / "clinscribe-512.png")
    big.save(RES / "clinscribe.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    big.save(RES / "clinscribe.icns")
    (RES / "clinscribe.png").write_bytes((RES / "icons" / "clinscribe-256.png").read_bytes())
    print("icons written to", RES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
