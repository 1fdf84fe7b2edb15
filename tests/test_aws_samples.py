"""Transcripts written by the real Amazon Transcribe service, through the document model.

The expected turns are worked out here from the JSON's own ``speaker_labels`` and
``channel_labels`` (independently of app.core.document), so the document must agree with AWS.
"""

from __future__ import annotations

import copy
import json
import re

import pytest

from app.core.document import TranscriptDocument
from helpers import DATA

SAMPLES = DATA / "aws-samples"
FILES = ["01-plain.json", "02-channel-identification.json", "03-speaker-identification.json",
         "04-alternative-results.json"]


def load(name: str) -> dict:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return json.loads(path.read_text(encoding="utf-8"))


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def key(it: dict) -> tuple[float, float]:
    return round(float(it["start_time"]), 3), round(float(it["end_time"]), 3)


def content(it: dict) -> str:
    return it["alternatives"][0]["content"] if "alternatives" in it else it["content"]


def turn_words(doc: TranscriptDocument, i: int) -> list[str]:
    return [t["content"] for t in doc.turns[i]["tokens"] if t["type"] == "pronunciation"]


def expected_runs(items: list[dict], label_of: dict) -> list[tuple[str, list[str]]]:
    """Runs of one label over the pronunciation items, in the items' (time) order."""
    runs: list[tuple[str, list[str]]] = []
    for it in items:
        if it["type"] != "pronunciation":
            continue
        label = label_of[key(it)]
        if not runs or runs[-1][0] != label:
            runs.append((label, []))
        runs[-1][1].append(content(it))
    return runs


def doc_runs(doc: TranscriptDocument) -> list[tuple[str, list[str]]]:
    return [(t["label"], turn_words(doc, i)) for i, t in enumerate(doc.turns)]


def test_plain_is_one_dictation_with_every_word():
    t = load("01-plain.json")
    doc = TranscriptDocument(t)
    assert doc.labels() == [""]
    assert len(doc.turns) > 1  # long dictation split into paragraphs
    assert [w for i in range(len(doc.turns)) for w in turn_words(doc, i)] == \
        [content(it) for it in t["results"]["items"] if it["type"] == "pronunciation"]
    assert doc.segments_for_turn(0) == []


def test_channel_identification_gives_interleaved_channel_turns():
    t = load("02-channel-identification.json")
    channels = t["results"]["channel_labels"]["channels"]
    label_of = {key(it): ch["channel_label"] for ch in channels for it in ch["items"]
                if it["type"] == "pronunciation"}
    doc = TranscriptDocument(t)
    assert sorted(doc.labels()) == ["ch_0", "ch_1"]
    assert [doc.speaker_name(lab) for lab in doc.labels()] == ["Channel 2", "Channel 1"]
    assert doc_runs(doc) == expected_runs(t["results"]["items"], label_of)
    assert len(doc.turns) >= 4
    starts = [doc.turn_span(i)[0] for i in range(len(doc.turns))]
    assert starts == sorted(starts)
    # each channel's text, punctuation included, is exactly what AWS put on that channel
    for ch in channels:
        mine = [i for i, turn in enumerate(doc.turns) if turn["label"] == ch["channel_label"]]
        got = " ".join(doc.turn_text(i) for i in mine)
        want = " ".join(content(it) for it in ch["items"])
        assert got == re.sub(r" ([.,?!;:])", r"\1", want)


def test_speaker_identification_gives_turns_per_speaker():
    t = load("03-speaker-identification.json")
    sl = t["results"]["speaker_labels"]
    label_of = {key(it): seg["speaker_label"] for seg in sl["segments"] for it in seg["items"]}
    doc = TranscriptDocument(t)
    assert len(doc.labels()) == sl["speakers"] == 3
    assert doc.labels() == ["spk_0", "spk_1", "spk_2"]
    assert doc_runs(doc) == expected_runs(t["results"]["items"], label_of)
    assert len(doc.turns) == 7
    # punctuation stays with the word before it, in that speaker's turn
    assert all(turn["tokens"][0]["type"] == "pronunciation" for turn in doc.turns)
    assert doc.turn_text(0).endswith("passer by.") and doc.turn_text(1).startswith("It will be well")
    assert doc.text().startswith("Speaker 1: She was gone out")


def test_alternative_results_offered_for_the_turn_under_them(tmp_path):
    t = load("04-alternative-results.json")
    segs = t["results"]["segments"]
    doc = TranscriptDocument.open(t, tmp_path, "aws", "sample-04")
    offered = {}
    for i in range(len(doc.turns)):
        start, end = doc.turn_span(i)
        for seg in doc.segments_for_turn(i):
            assert seg.index not in offered, "a segment is offered for one turn only"
            offered[seg.index] = i
            raw = segs[seg.index]
            # the whole segment lies in the turn, and the menu texts are the JSON's
            times = [float(x["start_time"]) for x in raw["alternatives"][0]["items"] if "start_time" in x]
            assert start - 0.05 <= min(times) and max(times) <= end + 0.05
            assert [a["transcript"] for a in seg.alternatives] == [a["transcript"] for a in raw["alternatives"]]
            assert words(raw["alternatives"][0]["transcript"])[0] in [w.lower() for w in turn_words(doc, i)]
    assert sorted(offered) == list(range(len(segs)))

    # pick the second alternative of segment 4 ("two feet his sheep."): only that turn changes
    ti = offered[4]
    before = [doc.turn_text(i) for i in range(len(doc.turns))]
    doc.pick_alternative(4, 1)
    assert doc.picked(4) == 1
    assert "two feet his sheep." in doc.turn_text(ti) and "to feed his sheep" not in doc.turn_text(ti)
    assert [doc.turn_text(i) for i in range(len(doc.turns)) if i != ti] == [b for i, b in enumerate(before) if i != ti]
    again = TranscriptDocument.open(t, tmp_path, "aws", "sample-04")
    assert again.turn_text(ti) == doc.turn_text(ti) and again.picked(4) == 1


def test_channel_segment_alternatives_stay_on_their_channel(tmp_path):
    """With channel identification, AWS tags each results.segments entry with its channel."""
    t = copy.deepcopy(load("02-channel-identification.json"))
    ch0 = [it for it in t["results"]["channel_labels"]["channels"][0]["items"]]
    first = [it for it in ch0 if float(it.get("start_time", 15.09)) < 20]  # ch_0's first words
    alt_items = [{"start_time": it["start_time"], "end_time": it["end_time"], "confidence": "0.9",
                  "content": content(it), "type": "pronunciation"} if it["type"] == "pronunciation"
                 else {"confidence": "0.0", "content": content(it), "type": "punctuation"} for it in first]
    alt_items[1]["content"] = "WILLOW"
    text = re.sub(r" ([.,?!;:])", r"\1", " ".join(x["content"] for x in alt_items))
    # a ch_0 segment spanning a stretch where ch_1 speaks too (0.0–30 s)
    t["results"]["segments"] = [{"channel_label": "ch_0", "start_time": "0.0", "end_time": "30.0",
                                 "alternatives": [{"transcript": "primary", "items": []},
                                                  {"transcript": text, "items": alt_items}]}]
    doc = TranscriptDocument.open(t, tmp_path, "aws", "ch")
    offered = [i for i in range(len(doc.turns)) if doc.segments_for_turn(i)]
    assert offered and all(doc.turns[i]["label"] == "ch_0" for i in offered)
    assert any(doc.turns[i]["label"] == "ch_1" and doc.turn_span(i)[0] < 30 for i in range(len(doc.turns)))
    others = {i: doc.turn_text(i) for i in range(len(doc.turns)) if doc.turns[i]["label"] == "ch_1"}
    seg = doc.segments_for_turn(offered[0])[0]
    doc.pick_alternative(seg.index, seg.alternatives[-1].get("index", 1), turn=offered[0])
    assert "WILLOW" in doc.turn_text(offered[0])
    assert {i: doc.turn_text(i) for i in others} == others


def test_segment_split_by_a_speaker_change_never_touches_the_other_speaker(tmp_path):
    """A results.segments entry that spans two speakers' turns is offered to each, clipped to its words."""
    t = copy.deepcopy(load("04-alternative-results.json"))
    t["results"]["speaker_labels"] = load("03-speaker-identification.json")["results"]["speaker_labels"]
    segs = t["results"]["segments"]
    one, two = segs[1], segs[2]   # spk_0 (7.9–13.8 s) and spk_1 (15.0–19.9 s)
    n = min(len(one["alternatives"]), len(two["alternatives"]))
    merged = {"start_time": one["start_time"], "end_time": two["end_time"], "alternatives": [
        {"transcript": one["alternatives"][k]["transcript"] + " " + two["alternatives"][k]["transcript"],
         "items": one["alternatives"][k]["items"] + two["alternatives"][k]["items"]} for k in range(n)]}
    t["results"]["segments"] = [merged]
    doc = TranscriptDocument.open(t, tmp_path, "aws", "split")
    assert [t_["label"] for t_ in doc.turns][:3] == ["spk_0", "spk_1", "spk_0"]
    a, b = doc.segments_for_turn(0), doc.segments_for_turn(1)
    assert len(a) == 1 and len(b) == 1 and a[0].index == b[0].index == 0
    # each turn is offered only its own part of the segment, never the other speaker's words
    want_a = list(dict.fromkeys(x["transcript"] for x in one["alternatives"][:n]))
    want_b = list(dict.fromkeys(x["transcript"] for x in two["alternatives"][:n]))
    assert [x["transcript"] for x in a[0].alternatives] == want_a
    assert [x["transcript"] for x in b[0].alternatives] == want_b
    first_text = doc.turn_text(0)
    pick = b[0].alternatives[1]
    doc.pick_alternative(0, pick["index"], turn=1)
    assert doc.turn_text(0) == first_text
    assert doc.turn_text(1).startswith(pick["transcript"])
    assert doc.picked(0, turn=1) == pick["index"] and doc.picked(0, turn=0) is None
    with pytest.raises(ValueError):
        doc.pick_alternative(0, 0)  # the whole segment would cross a speaker change


@pytest.mark.parametrize("name", FILES)
def test_text_export_has_every_word_in_order_with_names(name):
    t = load(name)
    doc = TranscriptDocument(t)
    text = doc.text()
    names = {doc.speaker_name(lab) for lab in doc.labels()}
    blocks = text.split("\n\n")
    assert len(blocks) == len(doc.turns)
    body = []
    for block, turn in zip(blocks, doc.turns):
        speaker, _, rest = block.partition(": ")
        assert speaker == doc.speaker_name(turn["label"]) and speaker in names
        body.append(rest)
    spoken = [it for it in t["results"]["items"] if it["type"] == "pronunciation"]
    assert words(" ".join(body)) == words(" ".join(content(it) for it in spoken))
    assert words(" ".join(body)) == words(t["results"]["transcripts"][0]["transcript"])


@pytest.mark.parametrize("name", FILES)
def test_edit_a_word_save_and_reload(tmp_path, name):
    t = load(name)
    doc = TranscriptDocument.open(t, tmp_path, "aws", "sample")
    last = len(doc.turns) - 1
    old = doc.turn_text(last)
    new = old.replace(turn_words(doc, last)[0], "Edited", 1)
    assert doc.set_turn_text(last, new)
    again = TranscriptDocument.open(t, tmp_path, "aws", "sample")
    assert again.turn_text(last) == new
    assert [again.turns[i]["label"] for i in range(len(again.turns))] == [x["label"] for x in doc.turns]
    edited = [tok for tok in again.turns[last]["tokens"] if tok.get("edited")]
    assert [tok["content"] for tok in edited] == ["Edited"] and edited[0]["start"] is not None
