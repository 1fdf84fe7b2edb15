"""PHI detection's rule recognisers: presidio recognisers for what presidio has none of (digit runs
classified by the words before them, spoken dates, addresses, zip codes, facilities, titled names,
spoken e-mail addresses, ages over 89)."""

from __future__ import annotations

import re
from typing import Callable, Iterable

from .lexicon import (
    _ADDRESS_RES, _ALNUM_ID_RE, _AT_TOKEN_RE, _DECIMAL_RE, _DIGIT_WORDS, _EDGE_FILLER, _FACILITY_KEY_RE,
    _FACILITY_RE, _GENERIC_FACILITY, _is_clinical_word, _MONTH_RE, _NO_CONTEXT_MIN_DIGITS, _norm,
    _NUMERAL_TOKEN_RE, _NUMERIC_DATE_RE, _RELATION_NAME_RE, _REPEAT_WORDS, _RUN_CONTEXT, _RUN_MIN_DIGITS,
    _SENTENCE_STARTERS, _SPOKEN_EMAIL_RE, _STATES, _SUFFIX_FULL, _TITLE_NAME_RE, _TITLES, _tokens,
    _UNIT_WORDS, _words_to_int,
)


def _make_rule_recognizer(name: str, entities: list[str], finder: Callable):
    """Wrap ``finder(text, nlp_artifacts) -> [(start, end, entity, score)]`` as a presidio recognizer."""
    from presidio_analyzer import LocalRecognizer, RecognizerResult

    class _RuleRecognizer(LocalRecognizer):
        def load(self) -> None:  # nothing to load
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            out = []
            for start, end, entity, score in finder(text, nlp_artifacts):
                if entity in entities:
                    out.append(RecognizerResult(entity, start, end, score,
                                                recognition_metadata={
                                                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                                                }))
            return out

    return _RuleRecognizer(supported_entities=entities, name=name, supported_language="en")


def _regex_finder(regexes: Iterable[re.Pattern], entity: str, score: float,
                  check: Callable[[str], bool] | None = None):
    def find(text, _nlp):
        for rx in regexes:
            for m in rx.finditer(text):
                group = "phi" if "phi" in rx.groupindex else 0
                s, e = m.span(group)
                if s < e and (check is None or check(m.group(group))):
                    yield s, e, entity, score
    return find


def _age_check(span: str) -> bool:
    value = _words_to_int(span)
    return value is not None and value > 89


def _address_check(span: str) -> bool:
    # reject "5 milligrams twice a day Drive"-like matches: inner words must look like a name
    words = span.split()
    inner = [w for w in words[1:-1] if w.lower() not in ("north", "south", "east", "west")]
    for w in inner:
        lw = w.lower()
        if lw in _EDGE_FILLER or _is_clinical_word(w) or lw in _UNIT_WORDS:
            return False
    return True


def _place_word(w: str) -> bool:
    """A capitalised word that can be part of a place name (not a sentence starter, drug or month)."""
    return (bool(re.fullmatch(r"[A-Z][A-Za-z'-]*", w)) and _norm(w) not in _SENTENCE_STARTERS
            and _norm(w) not in _EDGE_FILLER and not _is_clinical_word(w) and not _MONTH_RE.fullmatch(w)
            and _norm(w) not in _TITLES)


def _address_finder(text, _nlp):
    """Street addresses, extended over a following city / state / zip ("12 Oak Street Springfield Illinois 62704")."""
    toks = _tokens(text)
    for start, end, entity, score in _regex_finder(_ADDRESS_RES, "ADDRESS", 0.85, _address_check)(text, None):
        k = next((k for k, (s, e, _w) in enumerate(toks) if s < end <= e), None)
        if k is None:
            continue
        n_place = 0
        while k + 1 < len(toks) and n_place < 4 and _place_word(toks[k + 1][2]):
            k += 1
            n_place += 1
        if k + 1 < len(toks) and re.fullmatch(r"\d{5}(?:-\d{4})?", toks[k + 1][2]):
            k += 1
        yield start, max(end, toks[k][1]), entity, score


_STATE_RE = re.compile(rf"\b(?:{_STATES.replace('|[A-Z]{{2}}', '')})\b")


def _city_state_finder(text, _nlp):
    """A US state name, with the city words just before it ("Springfield Illinois")."""
    toks = _tokens(text)
    starts = {s: k for k, (s, _e, _w) in enumerate(toks)}
    for m in _STATE_RE.finditer(text):
        k = starts.get(m.start())
        if k is None:
            continue
        s = m.start()
        j = k - 1
        while j >= 0 and k - j <= 2 and _place_word(toks[j][2]):
            s = toks[j][0]
            j -= 1
        yield s, m.end(), "LOCATION", 0.7


def _facility_finder(text, _nlp):
    for m in _FACILITY_RE.finditer(text):
        s, e = m.span("phi")
        words = m.group("phi").split()
        # drop leading words that start a sentence rather than the name ("She", "At", "The")
        while words and (words[0].lower() in _EDGE_FILLER or words[0].lower() in _SENTENCE_STARTERS):
            s += len(words[0]) + 1
            words = words[1:]
        name_part = _FACILITY_KEY_RE.sub(" ", " ".join(words)).split()
        if not name_part or all(w.lower() in _GENERIC_FACILITY for w in name_part):
            continue
        yield s, e, "FACILITY", 0.85


def _name_finder(text, nlp):
    """Names after a title ("Dr Patel") or a relation word ("daughter Sarah")."""
    proper = None
    if nlp is not None and getattr(nlp, "tokens", None) is not None:
        proper = {t.idx: t.pos_ for t in nlp.tokens}
    for rx, needs_propn in ((_TITLE_NAME_RE, False), (_RELATION_NAME_RE, True)):
        for m in rx.finditer(text):
            s = m.start("phi")
            pos = s
            end = None
            for w in m.group("phi").split(" "):
                bad = (w.lower() in _EDGE_FILLER or w.lower() in _SENTENCE_STARTERS
                       or _is_clinical_word(w) or _MONTH_RE.fullmatch(w)
                       or _FACILITY_KEY_RE.fullmatch(w) or w.lower() in _SUFFIX_FULL.lower().split("|"))
                if not bad and needs_propn and proper is not None and proper.get(pos) != "PROPN":
                    bad = True
                if bad:
                    break
                end = pos + len(w)
                pos = end + 1
            if end is not None:
                yield s, end, "PERSON", 0.8 if needs_propn else 0.9


def _email_finder(text, _nlp):
    for rx in (_SPOKEN_EMAIL_RE, _AT_TOKEN_RE):
        for m in rx.finditer(text):
            s, e = m.span("phi")
            parts = m.group("phi").split(" ")
            # the local part must not be an ordinary word before "at" ("is at home dot com")
            while len(parts) > 1 and (parts[0].lower() in _EDGE_FILLER or parts[0].lower() in _SENTENCE_STARTERS
                                      or parts[0].lower() in ("address", "email", "e-mail", "mail")):
                s += len(parts[0]) + 1
                parts = parts[1:]
            if parts[0].lower() in ("at", "@") or parts[0].lower() in ("looked", "seen", "arrived", "here", "there"):
                continue
            yield s, e, "EMAIL", 0.9


def _digit_value(tok: str) -> int | None:
    """Number of digits a token contributes to a digit run, or None if it is no digit token."""
    low = tok.lower()
    if low in _DIGIT_WORDS:
        return 1
    if _NUMERAL_TOKEN_RE.fullmatch(tok) and not _NUMERIC_DATE_RE.fullmatch(tok) and not _DECIMAL_RE.fullmatch(tok):
        return sum(c.isdigit() for c in tok)
    return None


def _context_kind(words: list[str], run_start: int) -> str | None:
    """The nearest context phrase in the 8 words before a digit run decides what the run is
    (looking back no further than a sentence break or an earlier number)."""
    lowered = [_norm(w).replace(".", "") if w != "." else "." for w in words]
    for i in range(run_start - 1, max(-1, run_start - 9), -1):
        if lowered[i] == "." or any(c.isdigit() for c in lowered[i]) or lowered[i] in _DIGIT_WORDS:
            break  # a sentence break or another number: the phrase belongs to something else
        for kind, phrases in _RUN_CONTEXT:
            for phrase in phrases:
                parts = phrase.split()
                j = i - len(parts) + 1
                if j >= 0 and lowered[j:i + 1] == parts:
                    return kind
    return None


def _digit_run_finder(text, _nlp):
    """Runs of digits, written ('4829173', '555-1234') or spoken one by one ('five five five ...')."""
    toks = _tokens(text)
    words = [t[2] for t in toks]
    i = 0
    while i < len(toks):
        run, digits, j = [], 0, i
        while j < len(toks):
            w = words[j]
            low = w.lower()
            if low in _REPEAT_WORDS and j + 1 < len(toks) and words[j + 1].lower() in _DIGIT_WORDS:
                digits += _REPEAT_WORDS[low]
                run.extend([j, j + 1])
                j += 2
                continue
            n = _digit_value(w)
            if n is None or (not run and low in ("oh", "o")):
                break
            digits += n
            run.append(j)
            j += 1
        if not run:
            # an alphanumeric identifier right after an ID phrase ("member ID XJ4471920")
            if _ALNUM_ID_RE.fullmatch(words[i]) and any(c.isalpha() for c in words[i]):
                kind = _context_kind(words, i)
                if kind in ("MRN", "ACCOUNT", "SSN"):
                    yield toks[i][0], toks[i][1], kind, 0.85
            i += 1
            continue
        kind = _context_kind(words, run[0])
        if kind is not None and digits >= _RUN_MIN_DIGITS[kind]:
            if kind == "ZIP" and digits not in (5, 9):
                kind = None
            else:
                yield toks[run[0]][0], toks[run[-1]][1], kind, 0.9
        if kind is None and digits >= _NO_CONTEXT_MIN_DIGITS:
            yield toks[run[0]][0], toks[run[-1]][1], "PHONE" if digits in (7, 10, 11) else "ID", 0.6
        i = j
