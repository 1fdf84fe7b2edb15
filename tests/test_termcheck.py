"""Vocabulary terms checked against the audio (app/termcheck.py), on real consultation speech.

The excerpts are single utterances of the shared consultations in which the default
model, even with the vocabulary as hot words, writes a mishearing ("flum" for phlegm,
"love hearing thitis" for labyrinthitis, "hyperchortisone" for hydrocortisone).
"""

from __future__ import annotations

import json

import pytest
import soundfile

from app.local import asr, termcheck
from app.local.asr import Word
from app.engine.local import LocalEngine
from app.local.vocabulary import parse_vocabulary_file
from helpers import AUDIO, DATA, JFK_TEXT, job_request, normalise

CONSULTATIONS = DATA / "consultations"

# A clinic-wide primary-care vocabulary: the three terms under test among others.
CLINIC_TERMS = [
    "phlegm", "sputum", "labyrinthitis", "vertigo", "tinnitus", "hydrocortisone", "betamethasone",
    "eczema", "emollient", "salbutamol", "beclometasone", "montelukast", "prednisolone",
    "amoxicillin", "flucloxacillin", "paracetamol", "ibuprofen", "omeprazole", "gastroenteritis",
    "cellulitis", "sinusitis", "tonsillitis", "bronchitis", "pneumonia", "spirometry",
]
VOCABULARY = "Phrase\tIPA\tSoundsLike\tDisplayAs\n" + "".join(f"{t}\t\t\t\n" for t in CLINIC_TERMS)

# (consultation, reference utterance start, the term said in it)
EXCERPTS = [
    ("day3_consultation04", 131.043, "phlegm"),
    ("day2_consultation03", 199.405, "labyrinthitis"),
    ("day3_consultation04", 112.957, "hydrocortisone"),
]


def excerpt(consultation: str, start: float, folder):
    """The utterance starting at ``start`` (its speaker's channel), with 1 s either side."""
    utterance = next(u for u in json.loads((CONSULTATIONS / f"{consultation}.json").read_text())["utterances"]
                     if abs(u["start"] - start) < 1e-3)
    data, rate = soundfile.read(CONSULTATIONS / f"{consultation}.flac")
    lo, hi = int((utterance["start"] - 1.0) * rate), int((utterance["end"] + 1.0) * rate)
    path = folder / f"{consultation}-{int(start)}.wav"
    soundfile.write(path, data[lo:hi, utterance["channel"]], rate)
    return path, utterance


@pytest.fixture(scope="module")
def model():
    return asr.load_model(str(asr.resolve_model("tiny.en")))


@pytest.fixture(scope="module")
def vocabulary():
    return parse_vocabulary_file(VOCABULARY.encode())


# -- candidates: which runs are worth asking the model about (no model needed) ---------
def words(*pairs) -> list[Word]:
    return [Word(float(i), i + 0.5, f" {text}", p) for i, (text, p) in enumerate(pairs)]


def test_a_doubtful_run_that_sounds_like_a_term_is_a_candidate(vocabulary):
    found = termcheck.candidates(words(("any", 0.99), ("flum", 0.41), ("at", 0.98), ("all?", 0.99)), vocabulary)
    assert [(c.first, c.count, c.term) for c in found] == [(1, 1, "phlegm")]
    glued = termcheck.candidates(words(("never", 0.3), ("in", 0.5), ("thitis,", 0.4)), vocabulary)
    assert (0, 3, "labyrinthitis") in [(c.first, c.count, c.term) for c in glued]


def test_confident_words_terms_already_written_and_inflections_are_not_candidates(vocabulary):
    assert termcheck.candidates(words(("flum", 0.97)), vocabulary) == []  # heard with confidence
    assert termcheck.candidates(words(("phlegm", 0.3), ("um", 0.3)), vocabulary) == []  # already the term
    assert termcheck.candidates(words(("emollients", 0.2)), vocabulary) == []  # another form of a term
    holter = parse_vocabulary_file(b"Phrase\tIPA\tSoundsLike\tDisplayAs\nHolter-monitor\t\t\t\n")
    assert termcheck.candidates(words(("24", 0.9), ("-hour", 0.4), ("Holter", 0.6), ("monitor", 0.9)), holter) == []
    # a short term must match closely, and a run has no more words than the term's syllables
    assert termcheck.candidates(words(("ex", 0.2), ("ma", 0.2)), parse_vocabulary_file(
        b"Phrase\tIPA\tSoundsLike\tDisplayAs\nexam\t\t\t\n")) == []
    assert not [c for c in termcheck.candidates(words(("which", 0.4), ("use", 0.5), ("in", 0.4)),
                parse_vocabulary_file(b"Phrase\tIPA\tSoundsLike\tDisplayAs\nwheezing\t\t\t\n"))]


# -- the model decides -------------------------------------------------------------------
def test_check_terms_hears_terms_the_first_pass_misheard(model, vocabulary, tmp_path):
    from faster_whisper import decode_audio

    fixed = []
    for consultation, start, term in EXCERPTS:
        path, _ = excerpt(consultation, start, tmp_path)
        audio = decode_audio(str(path))
        first = asr.transcribe(model, audio, asr.DecodeOptions(hotwords=vocabulary.hotwords()))
        checked = termcheck.check_terms(model, audio, first, vocabulary)
        before = normalise(" ".join(s.text for s in first)).split()
        after = normalise(" ".join(s.text for s in checked)).split()
        assert term in after, (term, after)
        if term not in before:
            fixed.append(term)
            word = next(w for s in checked for w in s.words if normalise(w.word) == term)
            assert 0.0 < word.probability <= 1.0 and 0.0 <= word.start < word.end <= len(audio) / 16000
        # the term is the only new word: everything around it is the first pass's
        assert set(after) - set(before) <= {term}
    assert fixed, "the first pass heard every term: the excerpts no longer exercise the check"


def test_correctly_heard_speech_is_left_alone(model):
    from faster_whisper import decode_audio

    # look-alike medical terms: Fallot (fellow), Americaine (Americans), Askina (ask not), Cantor
    look_alikes = parse_vocabulary_file(
        b"Phrase\tIPA\tSoundsLike\tDisplayAs\nFallot\t\t\t\nAmericaine\t\t\t\nAskina\t\t\t\nCantor\t\t\t\n")
    audio = decode_audio(str(AUDIO / "jfk.flac"))
    first = asr.transcribe(model, audio, asr.DecodeOptions(hotwords=look_alikes.hotwords()))
    checked = termcheck.check_terms(model, audio, first, look_alikes)
    assert normalise(" ".join(s.text for s in checked)) == normalise(JFK_TEXT)


# -- through a job, as a clinician sees it ------------------------------------------------
def test_a_job_with_the_clinic_vocabulary_writes_the_terms(shared_home, tmp_path):
    engine = LocalEngine(base=shared_home)
    vocab_file = tmp_path / "clinic.txt"
    vocab_file.write_text(VOCABULARY)
    uri = engine.upload_vocabulary_file(vocab_file, key="clinic-termcheck.txt")
    engine.create_medical_vocabulary(VocabularyName="clinic-termcheck", LanguageCode="en-US",
                                     VocabularyFileUri=uri)
    assert engine.get_medical_vocabulary(VocabularyName="clinic-termcheck")["VocabularyState"] == "READY"
    for n, (consultation, start, term) in enumerate(EXCERPTS):
        path, utterance = excerpt(consultation, start, tmp_path)
        name = f"termcheck-{n}"
        media = engine.put_media(path, key=f"termcheck/{path.name}")
        engine.start_medical_transcription_job(**job_request(
            name, media, Settings={"VocabularyName": "clinic-termcheck"}))
        job = engine.wait(name, poll=0.2, timeout=600)
        assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
        results = engine.get_transcript(name)["results"]
        assert term in normalise(results["transcripts"][0]["transcript"]).split()
        item = next(i for i in results["items"] if i["alternatives"][0]["content"].lower() == term)
        duration = utterance["end"] - utterance["start"] + 2.0
        assert 0.0 <= float(item["start_time"]) < float(item["end_time"]) <= duration + 0.01
        assert 0.0 < float(item["alternatives"][0]["confidence"]) <= 1.0
