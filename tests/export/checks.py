"""Every format of one note, read back independently, checked for what a user would look at."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.core.document import TranscriptDocument
from app.export import FORMATS, export
from app.export.note import Note

from helpers import DATA
from readback import aws_check, docx_parts, html_blocks, pdf_text, squash, srt_cues, vtt_cues, vtt_text

SAMPLES = DATA / "aws-samples"

OURS = [name for name in FORMATS if name not in ("fhir", "hl7")]


def render_all(note: Note, doc: TranscriptDocument, **options) -> dict:
    out = {}
    for name in OURS:
        body = export(note, name, document=doc, **options)
        assert isinstance(body, bytes if FORMATS[name].binary else str), name
        out[name] = body
    return out


def texts(note: Note, doc: TranscriptDocument, **options) -> dict[str, str]:
    """format -> the words a reader of that file sees (speaker names included where shown)."""
    out = render_all(note, doc, **options)
    seen = {"text": squash(out["text"])}
    blocks = html_blocks(out["html"])
    assert len([b for b in blocks if b[0] == "p"]) == len(note.paragraphs)
    seen["html"] = squash(" ".join(text for _tag, text in blocks))
    parts = docx_parts(out["docx"])
    seen["docx"] = squash(" ".join(parts["body"]))
    seen["docx-header"] = json.dumps(parts["header"], ensure_ascii=False)
    seen["docx-footer"] = parts["footer"]
    seen["pdf"] = pdf_text(out["pdf"])
    on_page = set(seen["pdf"].split())  # every word whole: none cut across two lines
    assert [w for p in note.paragraphs for w, _ in p.words if w not in on_page] == []

    cues = srt_cues(out["srt"])
    assert cues, "no SRT cues"
    for a, b in zip(cues, cues[1:]):
        assert a.start <= b.start
    for cue in cues:
        assert cue.end - cue.start <= timedelta(seconds=7.5), cue
        assert len(cue.content.splitlines()) <= 2, cue
    seen["srt"] = squash(" ".join(c.content for c in cues))

    captions = vtt_cues(out["vtt"])
    assert len(captions) == len(cues)
    seen["vtt"] = squash(" ".join(vtt_text(c) for c in captions))
    seen["vtt-voices"] = sorted({c.voice for c in captions if c.voice})

    data = aws_check(out["aws-json"])
    seen["aws-json"] = data["results"]["transcripts"][0]["transcript"]
    again = TranscriptDocument(data)  # the app's own reader of AWS transcripts
    assert [again.turn_text(i) for i in range(len(again.turns))] == [p.text for p in note.paragraphs]
    seen["_aws"] = data
    seen["_raw"] = out
    return seen


WORD_FORMATS = ("text", "html", "docx", "pdf", "srt", "vtt", "aws-json")


def assert_everywhere(seen: dict, present=(), absent=()) -> None:
    for name in WORD_FORMATS:
        for phrase in present:
            assert phrase in seen[name], f"{phrase!r} missing from {name}: {seen[name][:300]}"
        for word in absent:
            assert word not in seen[name], f"{word!r} still in {name}"


def aws_sample(name: str) -> dict:
    """One of the transcripts the real Amazon Transcribe wrote (../shared/data/aws-samples)."""
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return json.loads(path.read_text(encoding="utf-8"))
