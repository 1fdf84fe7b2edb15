"""Tests for app.local.phi.detect_phi on realistic dictation word lists (the ASR item format)."""

import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.local import phi  # noqa: E402

VALID_CATEGORIES = {"PHI-Personal", "PHI-Geographic", "PHI-Account", "PHI-Other", "PHI-Vehicle"}


def make_items(text, t0=0.5, word_s=0.32, gap_s=0.08):
    """Dictation words as the engine hands them over: one word per item, times as floats."""
    items, t = [], t0
    for i, word in enumerate(text.split()):
        items.append({"content": word, "start": round(t, 3), "end": round(t + word_s, 3),
                      "confidence": 0.9 - (i % 5) * 0.01})
        t += word_s + gap_s
    return items


@pytest.fixture(scope="module", autouse=True)
def analyzer():
    return phi.get_analyzer()  # load once for the module (≈2–6 s)


def entities_for(text):
    return phi.detect_phi(make_items(text))


def find(ents, content):
    """The entity whose content contains `content` (word-aligned), or None."""
    for e in ents:
        if f" {content} " in f" {e['content']} ":
            return e
    return None


def covering(ents, word):
    return [e for e in ents if word in e["content"].split()]


def test_entity_format_and_times():
    text = "This is Doctor Emily Carter dictating for patient John Smith who was seen today"
    items = make_items(text)
    ents = phi.detect_phi(items)
    assert ents, "expected names"
    for e in ents:
        assert set(e) == {"start_time", "end_time", "category", "content", "confidence"}
        assert isinstance(e["start_time"], float) and isinstance(e["end_time"], float)
        assert isinstance(e["confidence"], float) and 0.0 <= e["confidence"] <= 1.0
        assert e["category"] in VALID_CATEGORIES
        assert e["content"] == e["content"].strip() and "  " not in e["content"]
    assert [e["start_time"] for e in ents] == sorted(e["start_time"] for e in ents)
    john = find(ents, "John Smith")
    assert john is not None and john["content"] == "John Smith"
    assert john["category"] == "PHI-Personal"
    words = [it["content"] for it in items]
    i = words.index("John")
    assert john["start_time"] == items[i]["start"]
    assert john["end_time"] == items[i + 1]["end"]
    carter = find(ents, "Emily Carter")
    assert carter is not None and carter["content"] == "Emily Carter"  # title not included


def test_empty_and_blank_items():
    assert phi.detect_phi([]) == []
    assert phi.detect_phi([{"content": "", "start": 0.0, "end": 0.1, "confidence": 0.0}]) == []


def test_written_and_spoken_dates():
    ents = entities_for("Patient was admitted on March 3rd 1950 and her date of birth is "
                        "the third of February nineteen forty two and discharged on 02/14/2023")
    for needle in ("March 3rd 1950", "third of February", "02/14/2023"):
        e = find(ents, needle)
        assert e is not None, needle
        assert e["category"] == "PHI-Personal"


def test_durations_are_not_dates():
    ents = entities_for("Symptoms started three days ago and she has been taking it twice daily "
                        "for two weeks follow up in six months")
    assert ents == []


def test_phone_spoken_digit_by_digit():
    ents = entities_for("Her daughter can be reached at five five five one two three four after five")
    e = find(ents, "five five five one two three four")
    assert e is not None
    assert e["content"] == "five five five one two three four"
    assert e["category"] == "PHI-Personal"


def test_written_phone_number():
    ents = entities_for("His phone number is 555-867-5309 please call after lunch")
    e = find(ents, "555-867-5309")
    assert e is not None and e["category"] == "PHI-Personal"


def test_mrn_is_account_and_not_also_a_date():
    ents = entities_for("MRN 4829173 the patient returns for follow up of her knee pain")
    hits = covering(ents, "4829173")
    assert len(hits) == 1
    assert hits[0]["content"] == "4829173"
    assert hits[0]["category"] == "PHI-Account"


def test_mrn_spoken_digits():
    ents = entities_for("medical record number 7 7 3 4 2 1 9 chief complaint is shortness of breath")
    e = find(ents, "7 7 3 4 2 1 9")
    assert e is not None and e["content"] == "7 7 3 4 2 1 9"
    assert e["category"] == "PHI-Account"


def test_street_address_and_city():
    ents = entities_for("She lives alone at 12 Oak Street Springfield Illinois 62704 with her cat")
    e = find(ents, "12 Oak Street")
    assert e is not None and e["category"] == "PHI-Geographic"
    assert "Springfield" in e["content"]


def test_hospital_name_is_geographic():
    ents = entities_for("She was transferred from Mercy General Hospital last night")
    e = find(ents, "Mercy General Hospital")
    assert e is not None and e["category"] == "PHI-Geographic"


def test_email_written_and_spoken():
    ents = entities_for("Her email is john.smith@example.com and his is maria dot gonzalez at gmail dot com")
    written = find(ents, "john.smith@example.com")
    spoken = find(ents, "maria dot gonzalez at gmail dot com")
    assert written is not None and written["category"] == "PHI-Personal"
    assert spoken is not None and spoken["category"] == "PHI-Personal"


def test_ssn():
    ents = entities_for("Her social security number is 123-45-6789 on file")
    hits = covering(ents, "123-45-6789")
    assert len(hits) == 1 and hits[0]["category"] == "PHI-Account"


def test_age_over_89_flagged_age_45_not():
    ents = entities_for("The patient is a 92 year old woman whose son is a 45 year old teacher")
    assert find(ents, "92") is not None
    assert find(ents, "92")["category"] == "PHI-Personal"
    assert covering(ents, "45") == []
    ents = entities_for("He is ninety-two years old and lives with his 45 year old daughter")
    assert find(ents, "ninety-two") is not None
    assert covering(ents, "45") == []


def test_clinical_content_not_flagged():
    text = ("Assessment and plan Parkinson's disease stable continue Sinemet 25 100 three times a day "
            "Crohn's disease flare treated with Humira and prednisone 40 milligrams tapering over two weeks "
            "She also takes Xarelto 20 milligrams Lasix 40 milligrams metformin 500 milligrams twice daily "
            "Tylenol as needed and Lipitor at night Blood pressure 130 over 85 pulse 72 temperature 98.6 "
            "Bell's palsy resolved Murphy's sign negative hemoglobin A1c 7.2")
    ents = entities_for(text)
    assert ents == [], [(e["category"], e["content"]) for e in ents]


def test_insurance_member_id():
    ents = entities_for("Insurance member ID XJ4471920 was verified at check in")
    e = find(ents, "XJ4471920")
    assert e is not None and e["category"] == "PHI-Account"


def test_analyzer_is_built_once():
    assert phi.get_analyzer() is phi.get_analyzer()


def test_nothing_logged_contains_phi(caplog):
    caplog.set_level(logging.DEBUG)
    ents = entities_for("Patient Maria Gonzalez MRN 4829173 phone 555-867-5309 lives at 12 Oak Street")
    assert ents
    for secret in ("Gonzalez", "4829173", "555-867-5309", "Oak"):
        assert secret not in caplog.text
