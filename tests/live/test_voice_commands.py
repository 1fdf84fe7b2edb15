"""The voice-command grammar on word lists with real-looking times (as Whisper gives them)."""

from __future__ import annotations

import re

import pytest

from app.live.commands import PAUSE, apply_commands, layout_text
from app.live.templates import get_template

WORD = re.compile(r"^(?P<word>[^@]+)@(?P<start>[\d.]+)-(?P<end>[\d.]+)$")


def words(spec: str) -> list[dict]:
    """``"fever@0.8-1.2 . Period@1.5-1.9 ."``: words with times, punctuation without (as Whisper writes)."""
    out = []
    for tok in spec.split():
        m = WORD.match(tok)
        if m:
            out.append({"type": "pronunciation", "content": m["word"], "confidence": 0.9,
                        "start": float(m["start"]), "end": float(m["end"])})
        else:
            out.append({"type": "punctuation", "content": tok, "confidence": 0.0})
    return out


def spoken(text: str, *, start: float = 0.0, word: float = 0.3, gap: float = 0.02, pause: float = 0.6) -> list[dict]:
    """Evenly timed words; ``|`` is a pause of ``pause`` seconds; marks after a word are Whisper's."""
    out, t = [], start
    for tok in text.split():
        if tok == "|":
            t += pause
            continue
        body, marks = re.match(r"^(.*?)([.,?!:]*)$", tok).groups()
        out.append({"type": "pronunciation", "content": body, "confidence": 0.9, "start": round(t, 3),
                    "end": round(t + word, 3)})
        t += word + gap
        out.extend({"type": "punctuation", "content": m, "confidence": 0.0} for m in marks)
    return out


def run(items, sections=None):
    done = apply_commands(items, sections)
    return layout_text(done.items, done.layout), done


def test_punctuation_commands_after_a_pause_or_at_the_end():
    text, done = run(spoken("The patient has a fever | period | she denies chills comma | "
                            "nausea or vomiting | period | does it hurt | question mark | allergies | colon | "
                            "none full stop"))
    assert text == "The patient has a fever. She denies chills, nausea or vomiting. Does it hurt? Allergies: none."
    assert [a.command for a in done.applied] == [".", ",", ".", "?", ":", "."]


def test_items_stay_aws_shaped():
    _, done = run(spoken("cough for three days | period | new paragraph | fever | period"))
    kinds = [(i["type"], i["content"]) for i in done.items]
    assert kinds == [("pronunciation", "cough"), ("pronunciation", "for"), ("pronunciation", "three"),
                     ("pronunciation", "days"), ("punctuation", "."), ("pronunciation", "Fever"), ("punctuation", ".")]
    for item in done.items:  # punctuation has no times, words keep theirs
        assert ("start" in item) == (item["type"] == "pronunciation")
    assert done.layout == [{"type": "paragraph_break", "item": 5}]


def test_whisper_punctuation_around_a_command_is_not_doubled():
    # Whisper: "...fever. Period. She denies chills, comma, nausea."
    text, _ = run(words("She@0.0-0.2 has@0.2-0.4 a@0.4-0.5 fever@0.5-0.9 . Period@1.2-1.5 . "
                        "She@2.1-2.3 denies@2.3-2.7 chills@2.7-3.1 , comma@3.3-3.6 , nausea@4.0-4.5 ."))
    assert text == "She has a fever. She denies chills, nausea."
    # "fever period." (no pause, Whisper's own period after the command)
    text, _ = run(words("a@0.4-0.5 fever@0.5-0.9 period@0.9-1.2 . Next@1.8-2.0 patient@2.0-2.4"))
    assert text == "a fever. Next patient"


def test_brackets():
    text, _ = run(spoken("aspirin 81 mg daily | open bracket | for secondary prevention | close bracket | period"))
    assert text == "aspirin 81 mg daily (for secondary prevention)."


def test_line_breaks_paragraphs_and_bullets():
    text, done = run(spoken("Medications | colon | new line | bullet | metformin 500 mg twice daily | bullet | "
                            "lisinopril 10 mg daily | new paragraph | follow up in two weeks | period"))
    assert text == ("Medications:\n• Metformin 500 mg twice daily\n• Lisinopril 10 mg daily\n\n"
                    "Follow up in two weeks.")
    assert [e["type"] for e in done.layout] == ["bullet", "bullet", "paragraph_break"]
    text, _ = run(spoken("bullet | aspirin | new line | done"))
    assert text == "• Aspirin\nDone"


def test_scratch_that_deletes_the_last_phrase():
    text, done = run(spoken("The lungs are clear | period | heart sounds are normal | scratch that | "
                            "there is a soft systolic murmur | period"))
    assert text == "The lungs are clear. There is a soft systolic murmur."
    assert "scratch" in [a.command for a in done.applied]
    # back to the previous punctuation mark only: the first phrase of the sentence stays
    text, _ = run(spoken("No fever | comma | mild cough | scratch that | no cough | period"))
    assert text == "No fever, no cough."
    # everything dictated so far
    text, _ = run(spoken("wrong patient | scratch that | this is Jane | period"))
    assert text == "This is Jane."


@pytest.mark.parametrize("sentence", [
    "the period of the infection was two weeks",
    "a comma shaped lesion on the back",
    "family history of colon cancer",
    "we discussed the new line of treatment",
    "told not to scratch that itch",
    "he had a bullet wound in the past",
    "she reports period pain every month",
    "the mass was found in the colon",
    "after a short period",
    "during her menstrual period",
    "he asked for a new paragraph",
    "the next field trip",
])
def test_look_alikes_stay_text(sentence):
    # spoken in one breath, then a pause and a real command at the end
    items = spoken(sentence + " | period")
    text, done = run(items, get_template("soap").sections)
    assert text == sentence + "."
    assert [a.command for a in done.applied] == ["."]


def test_look_alikes_with_whisper_punctuation_stay_text():
    # Whisper writes the comma at a breath, not a command: "She reported, period, pain every month."
    text, done = run(words("She@0.0-0.3 reported@0.3-0.7 , period@0.9-1.2 , pain@1.35-1.6 every@1.6-1.9 "
                           "month@1.9-2.3 ."))
    assert text == "She reported, period, pain every month."
    assert done.applied == []
    # "...found in the colon." at a sentence end: the noun after "the" is not a command
    text, done = run(words("found@0.0-0.3 in@0.3-0.4 the@0.4-0.5 colon@0.5-0.9 . Period@1.4-1.7 ."))
    assert text == "found in the colon." and [a.command for a in done.applied] == ["."]


def test_a_pause_is_what_the_times_say():
    just_under = spoken("fever period pain", gap=PAUSE - 0.05)
    assert run(just_under)[0] == "fever period pain"
    over = spoken("fever period pain", gap=PAUSE + 0.05)
    assert run(over)[0] == "fever. Pain"


def test_sections_from_next_field_and_go_to():
    soap = get_template("soap").sections
    text, done = run(spoken("cough for three days | period | next field | lungs clear | period | go to plan | "
                            "rest and fluids | period | go to assessment | viral bronchitis | period"), soap)
    assert text == "cough for three days.\n\nLungs clear.\n\nRest and fluids.\n\nViral bronchitis."
    titles = [(s["title"], [i["content"] for i in done.items[s["start_item"]:s["end_item"] + 1]])
              for s in done.sections]
    assert titles == [("Subjective", ["cough", "for", "three", "days", "."]), ("Objective", ["Lungs", "clear", "."]),
                      ("Plan", ["Rest", "and", "fluids", "."]), ("Assessment", ["Viral", "bronchitis", "."])]
    # an alias of a section: "go to impression" is the Assessment
    _, done = run(spoken("go to impression | asthma"), soap)
    assert [s["title"] for s in done.sections] == ["Assessment"]


def test_without_a_template_section_commands_are_words():
    text, done = run(spoken("next field | go to plan | period"))
    assert text == "next field go to plan."
    assert done.sections == []


def test_scratch_that_after_a_section_change_does_not_leave_the_section():
    soap = get_template("soap").sections
    _, done = run(spoken("cough | period | next field | wrong words | scratch that | lungs clear"), soap)
    assert [(s["title"], s["start_item"], s["end_item"]) for s in done.sections] == [
        ("Subjective", 0, 1), ("Objective", 2, 3)]
    assert [i["content"] for i in done.items] == ["cough", ".", "Lungs", "clear"]


def test_audio_segments_split_at_breaks():
    items = [{**i, "_segment": 1} for i in spoken("one | period | new paragraph | two | bullet | three")]
    done = apply_commands(items)
    assert [i["_segment"] for i in done.items if i["type"] == "pronunciation"] == [(1, 0), (1, 1), (1, 2)]


def test_next_field_counts_from_where_the_dictation_is():
    soap = get_template("soap").sections
    # at the start the dictation is in the first section: "next field" is the second
    _, done = run(spoken("next field | lungs clear | next field | next field | rest"), soap)
    assert [s["title"] for s in done.sections] == ["Objective", "Plan"]
    # past the last section it stays there
    _, done = run(spoken("go to plan | rest | next field | fluids"), soap)
    assert [s["title"] for s in done.sections] == ["Plan"]
