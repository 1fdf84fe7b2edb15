"""Exporters of an edited transcript (Qt-free): one small module per format.

``FORMATS`` names each format with its file extension, media type and whether it is binary;
:func:`renderer` imports the format's module when it is first used. Every renderer is
``render(note, **options) -> str | bytes``; options a renderer does not know are ignored, and
``document=`` (the job's TranscriptDocument) is passed for the formats that need more than
the note (aws-json).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable


class ExportUnavailable(RuntimeError):
    """A format whose module (or library) is not installed in this build."""


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    media_type: str
    binary: bool
    module: str
    function: str = "render"
    label: str = ""


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("text", ".txt", "text/plain; charset=utf-8", False, "text", label="Plain text"),
    Format("html", ".html", "text/html; charset=utf-8", False, "clipboard", "render_html", "HTML"),
    Format("docx", ".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", True,
           "docx", label="Word document"),
    Format("pdf", ".pdf", "application/pdf", True, "pdf", label="PDF"),
    Format("srt", ".srt", "application/x-subrip; charset=utf-8", False, "captions", "render_srt", "SRT captions"),
    Format("vtt", ".vtt", "text/vtt; charset=utf-8", False, "captions", "render_vtt", "WebVTT captions"),
    Format("aws-json", ".json", "application/json", False, "awsjson", label="AWS transcript JSON (edited)"),
    Format("fhir", ".json", "application/fhir+json", False, "fhir", label="FHIR R4 DocumentReference"),
    Format("hl7", ".hl7", "x-application/hl7-v2+er7", False, "hl7", label="HL7 v2.5.1 MDM^T02"),
)}


def renderer(name: str) -> Callable:
    """The render function of format ``name``; ExportUnavailable when its module is missing."""
    fmt = FORMATS.get(name)
    if fmt is None:
        raise ExportUnavailable(f"Unknown export format '{name}' (known: {', '.join(FORMATS)}).")
    try:
        module = importlib.import_module(f"{__name__}.{fmt.module}")
    except ImportError as exc:
        missing = getattr(exc, "name", "") or ""
        if missing.endswith(f"export.{fmt.module}"):
            raise ExportUnavailable(f"The {fmt.label or name} export is not part of this build "
                                    f"(app.export.{fmt.module} is missing).") from None
        raise ExportUnavailable(f"The {fmt.label or name} export needs the Python package "
                                f"'{missing or exc}', which is not installed.") from None
    return getattr(module, fmt.function)


# options of the document layouts (text, DOCX, PDF, captions); a format without a layout ignores them
PRESENTATION = frozenset({"document", "speakers", "timestamps", "confidence", "header", "threshold", "reviewed"})


def export(note, name: str, **options) -> str | bytes:
    """``note`` in format ``name``."""
    return renderer(name)(note, **options)
