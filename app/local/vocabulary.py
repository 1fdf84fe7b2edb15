"""AWS Transcribe Medical custom vocabulary files: parsing, validation and use.

A medical custom vocabulary is a UTF-8 text table (see shared spec §3)::

    Phrase<TAB>IPA<TAB>SoundsLike<TAB>DisplayAs
    Lisinopril<TAB><TAB>li-sin-o-pril<TAB>
    blood-pressure<TAB><TAB><TAB>blood pressure
    D.N.A.<TAB><TAB><TAB>DNA

``parse_vocabulary_file`` enforces every rule of the format and raises
``VocabularyFileError`` whose text is the FailureReason shown to the user (it
names the line and the problem).  A ``Vocabulary`` is used twice by the local
engine: before decoding (``hotwords()`` / ``initial_prompt()`` bias Whisper
towards the terms) and after decoding (``apply()`` rewrites the recognised
words into the DisplayAs form, like AWS does).

Where the format is ambiguous the stricter reading is taken (spec: pick the
stricter one and say so):

* a UTF-8 byte-order mark is rejected (it would silently corrupt the header);
* the header names are case-sensitive;
* empty lines are allowed only at the end of the file;
* a file with a header but no entries is rejected;
* "no trailing whitespace" is checked per value (a value may not end with a
  space or other whitespace); a line ending with a TAB is an empty last column,
  which is allowed when the row has exactly four columns.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_VALUE_CHARS",
    "Vocabulary",
    "VocabularyEntry",
    "VocabularyFileError",
    "parse_vocabulary_file",
]

MAX_FILE_BYTES = 50 * 1024  # "file ≤ 50 KB"
MAX_VALUE_CHARS = 256  # "each value < 256 chars"
COLUMNS = ("Phrase", "IPA", "SoundsLike", "DisplayAs")

_PHRASE_ALLOWED = re.compile(r"[A-Za-z'.\-]")
_SOUNDS_LIKE = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


class VocabularyFileError(ValueError):
    """The vocabulary file breaks a format rule; ``str(e)`` is the FailureReason."""


@dataclass(frozen=True)
class VocabularyEntry:
    phrase: str
    ipa: str
    sounds_like: str
    display_as: str

    @property
    def output(self) -> str:
        """How a match is written: DisplayAs, else the phrase with hyphens as spaces."""
        return self.display_as or self.phrase.replace("-", " ")


# --------------------------------------------------------------------------- parsing


def _fail(line_no: int | None, message: str) -> VocabularyFileError:
    return VocabularyFileError(f"Line {line_no}: {message}" if line_no else message)


def _describe(ch: str) -> str:
    """A character as shown inside an error message: ' ', '\\t', '3', 'é'."""
    if ch == "\t":
        return "'\\t'"
    if ch.isprintable():
        return f"'{ch}'"
    return f"U+{ord(ch):04X}"


def parse_vocabulary_file(data: bytes) -> "Vocabulary":
    """Parse and validate a medical custom vocabulary table; raise VocabularyFileError."""
    if len(data) > MAX_FILE_BYTES:
        raise _fail(
            None,
            f"The vocabulary file is too large ({len(data)} bytes). "
            f"The maximum size is 50 KB ({MAX_FILE_BYTES} bytes).",
        )
    if not data.strip():
        raise _fail(None, "The vocabulary file is empty. It must start with the header row "
                    "Phrase, IPA, SoundsLike and DisplayAs, separated by tabs.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line_no = data[: e.start].count(b"\n") + 1
        raise _fail(
            line_no,
            f"The vocabulary file isn't valid UTF-8 (byte 0x{data[e.start]:02x} can't be "
            "decoded). Save the file with UTF-8 encoding.",
        ) from None
    if text.startswith("\ufeff"):
        raise _fail(1, "The file starts with a byte order mark (BOM). "
                    "Save the file as UTF-8 without a BOM.")
    if "\r" in text:
        line_no = text[: text.index("\r")].count("\n") + 1
        raise _fail(line_no, "The line ends with a carriage return (CRLF or CR). "
                    "Vocabulary files must use LF (\\n) line endings.")

    lines = text.split("\n")
    while len(lines) > 1 and lines[-1] == "":  # empty trailing line(s) are fine
        lines.pop()

    order = _parse_header(lines[0])
    entries = [
        _parse_row(line_no, line, order)
        for line_no, line in enumerate(lines[1:], start=2)
    ]
    if not entries:
        raise _fail(None, "The vocabulary file has no entries. Add at least one row "
                    "after the header row.")
    return Vocabulary(tuple(entries))


def _split_columns(line_no: int, line: str) -> list[str]:
    if line == "":
        raise _fail(line_no, "The line is empty. Remove empty lines; only the end of "
                    "the file may have an empty line.")
    values = line.split("\t")
    if len(values) != len(COLUMNS):
        hint = " (use a tab between columns, not spaces)" if len(values) == 1 and " " in line else ""
        raise _fail(
            line_no,
            f"The row has {len(values)} column{'s' if len(values) != 1 else ''} but needs "
            f"exactly 4, separated by exactly one tab{hint}. Leave a column empty "
            "between two tabs when it has no value.",
        )
    for value in values:
        if value and value != value.rstrip():
            raise _fail(line_no, f"The value '{value}' has trailing whitespace. "
                        "Remove spaces at the end of values and lines.")
    for value in values:
        if len(value) >= MAX_VALUE_CHARS:
            raise _fail(line_no, f"A value is {len(value)} characters long ('{value[:20]}...'). "
                        f"Each value must be shorter than {MAX_VALUE_CHARS} characters.")
    return values


def _parse_header(line: str) -> dict[str, int]:
    values = _split_columns(1, line)
    if sorted(values) != sorted(COLUMNS):
        found = ", ".join(f"'{v}'" for v in values)
        raise _fail(
            1,
            f"The header row has the columns {found}. It must contain exactly the four "
            "columns Phrase, IPA, SoundsLike and DisplayAs (in any order, case-sensitive), "
            "separated by tabs.",
        )
    return {name: values.index(name) for name in COLUMNS}


def _parse_row(line_no: int, line: str, order: dict[str, int]) -> VocabularyEntry:
    values = _split_columns(line_no, line)
    phrase, ipa, sounds_like, display_as = (values[order[name]] for name in COLUMNS)

    if not phrase:
        raise _fail(line_no, "The phrase is empty. Every row needs a phrase.")
    bad = next((ch for ch in phrase if not _PHRASE_ALLOWED.fullmatch(ch)), None)
    if bad is not None:
        raise _fail(
            line_no,
            f"The phrase '{phrase}' contains a character that isn't allowed ({_describe(bad)}). "
            "Phrases can contain only a-z, A-Z, apostrophes, hyphens and periods.",
        )
    if not any(ch.isalpha() for ch in phrase):
        raise _fail(line_no, f"The phrase '{phrase}' has no letters. Phrases must contain "
                    "at least one letter from a-z or A-Z.")
    if ipa and sounds_like:
        raise _fail(line_no, f"The phrase '{phrase}' has both an IPA and a SoundsLike value. "
                    "A row can have IPA or SoundsLike, not both.")
    if sounds_like and not _SOUNDS_LIKE.fullmatch(sounds_like):
        raise _fail(
            line_no,
            f"The SoundsLike value '{sounds_like}' isn't valid. SoundsLike can contain only "
            "letters, with a single hyphen between syllables (no spaces, digits or other "
            "characters).",
        )
    return VocabularyEntry(phrase, ipa, sounds_like, display_as)


# --------------------------------------------------------------------------- matching

# Fuzzy matching is deliberately conservative: a wrong rewrite of an ordinary word
# is worse than a missed term.  A run of ASR words matches an entry when either
#   * its letters equal the entry's letters (exact: "blood pressure", "D N A", "DNA"), or
#   * its spelling or its rough phonetic key is very close to the entry's phrase,
#     DisplayAs or SoundsLike (fuzzy), the entry is long enough to be distinctive and
#     the run isn't just an inflection of the term ("steroids" for "steroid").
FUZZY_MIN_CHARS = 6  # terms shorter than this only match exactly
FUZZY_SPELLING = 88.0  # rapidfuzz ratio on letters
FUZZY_PHONETIC = 90.0  # rapidfuzz ratio on the phonetic key
MAX_RUN_WORDS = 6
_INFLECTIONS = ("s", "es", "ed", "d", "ing", "ly", "al", "ic")

_PHONETIC_RULES = [
    (re.compile(p), r)
    for p, r in [
        (r"ph", "f"), (r"ck", "k"), (r"sch", "sk"), (r"qu", "kw"), (r"wh", "w"),
        (r"^kn", "n"), (r"^ps", "s"), (r"x", "ks"), (r"c(?=[eiy])", "s"), (r"c", "k"),
        (r"z", "s"), (r"gh", "g"), (r"[aeiouy]", "a"), (r"([^a])\1+", r"\1"),
    ]
]


def _letters(text: str) -> str:
    """Lower-case letters only: "D.N.A." -> "dna", "blood-pressure" -> "bloodpressure", "A&E" -> "aande"."""
    text = unicodedata.normalize("NFKD", text).replace("&", "and")
    return "".join(ch for ch in text.lower() if ch.isalpha() and ch.isascii())


def _phonetic(letters: str) -> str:
    """A rough English sound key: "lisinopril" and "liceinapril" give near-equal keys."""
    for pattern, repl in _PHONETIC_RULES:
        letters = pattern.sub(repl, letters)
    return letters


@dataclass(frozen=True)
class _Target:
    entry: VocabularyEntry
    letters: str  # exact key
    phonetic: str
    words: int  # words in the phrase
    syllables: int  # SoundsLike syllables, else vowel groups of the phrase


def _is_inflection(candidate: str, key: str) -> bool:
    for a, b in ((candidate, key), (key, candidate)):
        if a.startswith(b) and a[len(b):] in _INFLECTIONS:
            return True
    return False


@dataclass(frozen=True)
class Vocabulary:
    entries: tuple[VocabularyEntry, ...]

    # ---- biasing the decoder
    def terms(self) -> list[str]:
        """The distinct output forms, in file order."""
        seen: dict[str, None] = {}
        for entry in self.entries:
            seen.setdefault(entry.output, None)
        return list(seen)

    def hotwords(self) -> str:
        """Text for faster-whisper's ``hotwords=`` (it keeps the first ~223 tokens)."""
        return ", ".join(self.terms())

    def initial_prompt(self) -> str:
        """A short natural prompt naming the terms (alternative to hotwords).

        Measured (bench/vocab_eval.py): with a 51-term list and tiny.en in
        BatchedInferencePipeline, prompt + hotwords made tiny.en repeat the list
        (WER 0.12 -> 0.53); prefer ``hotwords()``.
        """
        terms = self.terms()
        if not terms:
            return ""
        listed = terms[0] if len(terms) == 1 else ", ".join(terms[:-1]) + " and " + terms[-1]
        return f"The clinician discussed {listed}."

    # ---- rewriting the transcript
    def _targets(self) -> list[_Target]:
        targets = []
        for entry in self.entries:
            words = len([p for p in re.split(r"[-\s]+", entry.phrase) if p])
            if re.fullmatch(r"(?:[A-Za-z]\.)+", entry.phrase):  # acronym D.N.A.
                words = len(entry.phrase) // 2
            if entry.sounds_like:
                syllables = entry.sounds_like.count("-") + 1
            else:
                syllables = len(re.findall(r"[aeiouy]+", _letters(entry.phrase)))
            forms = {_letters(entry.phrase), _letters(entry.output)}
            if entry.sounds_like:
                forms.add(_letters(entry.sounds_like))
            for form in filter(None, forms):
                targets.append(_Target(entry, form, _phonetic(form), words, syllables))
        return targets

    def apply(self, items: list[dict]) -> list[dict]:
        """Rewrite runs of words that match an entry into one item written as DisplayAs.

        Times span the run (start of first word, end of last), confidence is the run's
        minimum, punctuation items inside the run are dropped; everything else is
        returned unchanged (as copies).  Exact matches win over fuzzy ones; among fuzzy
        ones the best score wins, then the longer run.
        """
        targets = self._targets()
        exact = {}
        for t in targets:
            exact.setdefault(t.letters, t)
        fuzzy = [t for t in targets if len(t.letters) >= FUZZY_MIN_CHARS]
        max_words = min(MAX_RUN_WORDS, max((max(t.words + 2, t.syllables) for t in targets), default=1))

        words = [i for i, it in enumerate(items) if it.get("type") == "pronunciation"]
        keys = [_letters(items[i].get("content", "")) for i in words]
        out: list[dict] = []
        next_item = 0  # index into items of the first item not yet copied
        w = 0
        while w < len(words):
            match = self._best_match(keys, w, max_words, exact, fuzzy)
            if match is None:
                w += 1
                continue
            n, entry = match
            first, last = words[w], words[w + n - 1]
            out.extend(dict(it) for it in items[next_item:first])
            run = [items[i] for i in words[w: w + n]]
            out.append({
                "type": "pronunciation",
                "content": entry.output,
                "confidence": min(float(it.get("confidence", 0.0)) for it in run),
                "start": items[first]["start"],
                "end": items[last]["end"],
            })
            next_item = last + 1
            w += n
        out.extend(dict(it) for it in items[next_item:])
        return out

    @staticmethod
    def _best_match(keys, w, max_words, exact, fuzzy):
        if not keys[w]:
            return None
        best = None  # (score, n, entry)
        candidate = ""
        for n in range(1, max_words + 1):
            if w + n > len(keys) or not keys[w + n - 1]:
                break
            candidate += keys[w + n - 1]
            hit = exact.get(candidate)
            if hit is not None:
                score = 1000.0 + n  # exact beats fuzzy; longer exact beats shorter
                if best is None or score > best[0]:
                    best = (score, n, hit.entry)
                continue
            if best is not None and best[0] >= 1000.0:
                continue
            for t in fuzzy:
                score = _fuzzy_score(candidate, n, t)
                if score and (best is None or score > best[0] or (score == best[0] and n > best[1])):
                    best = (score, n, t.entry)
        return None if best is None else (best[1], best[2])


def _fuzzy_score(candidate: str, n_words: int, t: _Target) -> float:
    """Similarity 0..100 of a run of ``n_words`` ASR words to a target, 0 when rejected."""
    if n_words > max(t.words + 2, t.syllables):
        return 0.0  # never bridge more words than the term has syllables
    if abs(len(candidate) - len(t.letters)) > max(2, len(t.letters) // 4):
        return 0.0
    if _is_inflection(candidate, t.letters):
        return 0.0  # "steroids" is not "steroid": AWS wants each form listed
    phon = _phonetic(candidate)
    if phon != t.phonetic:
        if phon[:1] != t.phonetic[:1]:
            return 0.0  # a different first sound
        if phon.startswith(t.phonetic) or t.phonetic.startswith(phon):
            return 0.0  # a truncated or extended form ("comfy" for "Comfy-UI")
    sound = fuzz.ratio(phon, t.phonetic)
    if n_words > 1:
        # words glued together ("lice in a pril") must keep the term's consonants exactly,
        # so ordinary phrases that merely sound alike ("listen april") are left alone
        if _consonants(phon) != _consonants(t.phonetic) or sound < FUZZY_PHONETIC:
            return 0.0
        return sound
    spelling = fuzz.ratio(candidate, t.letters)
    if spelling >= FUZZY_SPELLING or sound >= FUZZY_PHONETIC:
        return max(spelling, sound)
    return 0.0


def _consonants(phonetic: str) -> str:
    return re.sub(r"[awh]", "", phonetic)
