"""Reading exports back with libraries independent of the exporters' own."""

from __future__ import annotations

import html
import io
import json
import re
from html.parser import HTMLParser

from app.core.transcript import text_of


def squash(text: str) -> str:
    return " ".join(text.split())


def docx_parts(data: bytes) -> dict:
    import docx

    document = docx.Document(io.BytesIO(data))
    body = [p.text for p in document.paragraphs]
    table = {}
    for t in document.tables:
        for row in t.rows:
            table[row.cells[0].text] = row.cells[1].text
    footer = " ".join(p.text for p in document.sections[0].footer.paragraphs)
    coloured = [r.text.strip() for p in document.paragraphs for r in p.runs
                if r.font.color is not None and r.font.color.type is not None and r.font.color.rgb is not None]
    return {"body": body, "header": table, "footer": footer, "coloured": coloured,
            "title": document.core_properties.title}


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return squash(" ".join(page.extract_text() or "" for page in reader.pages))


def srt_cues(text: str) -> list:
    import srt

    return list(srt.parse(text))


def vtt_cues(text: str) -> list:
    import webvtt

    return webvtt.from_string(text).captions


class _Paragraphs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.blocks: list[tuple[str, str]] = []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "h2"):
            self._tag = tag
            self.blocks.append((tag, ""))

    def handle_endtag(self, tag):
        if tag == self._tag:
            self._tag = None

    def handle_data(self, data):
        if self._tag:
            tag, text = self.blocks[-1]
            self.blocks[-1] = (tag, text + data)


def html_blocks(text: str) -> list[tuple[str, str]]:
    parser = _Paragraphs()
    parser.feed(text)
    parser.close()
    return parser.blocks


def aws_check(text: str) -> dict:
    """The edited AWS JSON, checked the way a reader of AWS transcripts reads it (tscribe-like):
    the items' words joined are the transcript; every label list covers the items."""
    data = json.loads(text)
    results = data["results"]
    items = results["items"]
    assert [it["id"] for it in items] == list(range(len(items)))
    for it in items:
        assert it["type"] in ("pronunciation", "punctuation")
        alt = it["alternatives"][0]
        assert isinstance(alt["content"], str) and alt["content"]
        assert 0.0 <= float(alt["confidence"]) <= 1.0
        if it["type"] == "pronunciation":
            assert float(it["start_time"]) <= float(it["end_time"])
        else:
            assert "start_time" not in it
    joined = text_of({"type": it["type"], "content": it["alternatives"][0]["content"]} for it in items)
    assert joined == results["transcripts"][0]["transcript"]
    if "speaker_labels" in results:
        timed = [(s["speaker_label"], e["start_time"], e["end_time"]) for s in results["speaker_labels"]["segments"]
                 for e in s["items"]]
        words = [(it.get("speaker_label"), it["start_time"], it["end_time"]) for it in items
                 if it["type"] == "pronunciation"]
        assert timed == words
    if "channel_labels" in results:
        chans = results["channel_labels"]["channels"]
        assert sorted(it["id"] for c in chans for it in c["items"]) == list(range(len(items)))
    for ent in results.get("entities", []):
        assert ent["start_time"] <= ent["end_time"] and ent["category"].startswith("PHI")
    return data


def vtt_text(caption) -> str:
    return html.unescape(re.sub(r"\s+", " ", caption.text))
