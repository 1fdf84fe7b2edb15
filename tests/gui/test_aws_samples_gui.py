"""The editor (real widgets, offscreen) over transcripts written by the real Amazon Transcribe service."""

from __future__ import annotations

import copy

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPushButton

from app.core.document import TranscriptDocument
from test_aws_samples import FILES, content, expected_runs, key, load, words


def open_editor(make_window, home, transcript, job="sample"):
    w = make_window(restore=False)
    doc = TranscriptDocument.open(transcript, home, "aws", job)
    w.editor.set_document(doc, None, engine="aws")
    w.show_page("Transcript")
    return w, w.editor


def menu_texts(widget) -> list[str]:
    return [a.data() for a in widget.alternative_actions()]


def shown(ed) -> list[tuple[str, str]]:
    return [(w.speaker.text(), w.text.toPlainText()) for w in ed.turn_widgets]


def widget_words(widget) -> list[str]:
    return [tok for tok in widget.text.toPlainText().replace(",", " ").replace(".", " ").split()]


def test_channel_sample_shows_channels_interleaved(make_window, home):
    t = load("02-channel-identification.json")
    label_of = {key(it): ch["channel_label"] for ch in t["results"]["channel_labels"]["channels"]
                for it in ch["items"] if it["type"] == "pronunciation"}
    runs = expected_runs(t["results"]["items"], label_of)
    w, ed = open_editor(make_window, home, t)
    names = {"ch_0": "Channel 1", "ch_1": "Channel 2"}
    assert [wd.speaker.text() for wd in ed.turn_widgets] == [names[lab] for lab, _ in runs]
    for wd, (_, ws) in zip(ed.turn_widgets, runs):
        assert widget_words(wd) == [x.strip(".,") for x in ws]
    assert "2 voices" in ed.info.text()
    assert not any(wd.alternatives.isVisibleTo(ed) for wd in ed.turn_widgets)


def test_speaker_sample_shows_three_speakers(make_window, home):
    t = load("03-speaker-identification.json")
    sl = t["results"]["speaker_labels"]
    label_of = {key(it): seg["speaker_label"] for seg in sl["segments"] for it in seg["items"]}
    runs = expected_runs(t["results"]["items"], label_of)
    w, ed = open_editor(make_window, home, t)
    assert [wd.speaker.text() for wd in ed.turn_widgets] == [f"Speaker {int(lab[4:]) + 1}" for lab, _ in runs]
    assert len({wd.speaker.text() for wd in ed.turn_widgets}) == sl["speakers"]
    for wd, (_, ws) in zip(ed.turn_widgets, runs):
        assert widget_words(wd) == ws
    assert "3 voices" in ed.info.text()


def test_alternatives_sample_menus_match_the_turn_under_them(make_window, home):
    t = load("04-alternative-results.json")
    segs = t["results"]["segments"]
    w, ed = open_editor(make_window, home, t)
    seen = 0
    for i, wd in enumerate(ed.turn_widgets):
        start, end = ed.doc.turn_span(i)
        under = [s for s in segs if start - 0.05 <= float(s["alternatives"][0]["items"][0]["start_time"]) <= end]
        assert menu_texts(wd) == [a["transcript"] for s in under for a in s["alternatives"]]
        assert wd.alternatives.isVisibleTo(ed) == bool(under)
        seen += len(under)
    assert seen == len(segs)
    # pick "two feet his sheep." (segment 4): that turn's text changes, no other, and undo restores it
    ti = next(i for i in range(len(ed.turn_widgets)) if any(s.index == 4 for s in ed.doc.segments_for_turn(i)))
    before = shown(ed)
    action = next(a for a in ed.turn_widgets[ti].alternative_actions()
                  if a.data() == segs[4]["alternatives"][1]["transcript"])
    action.trigger()
    after = shown(ed)
    assert "two feet his sheep." in after[ti][1] and "to feed his sheep," not in after[ti][1]
    assert [x for k, x in enumerate(after) if k != ti] == [x for k, x in enumerate(before) if k != ti]
    checked = [a.data() for a in ed.turn_widgets[ti].alternative_actions() if a.isChecked()]
    assert segs[4]["alternatives"][1]["transcript"] in checked  # and "Keep as heard" in the other segments
    assert segs[4]["alternatives"][0]["transcript"] not in checked
    again = TranscriptDocument.open(t, home, "aws", "sample")
    assert again.turn_text(ti) == after[ti][1]
    ed.undo_action.trigger()
    assert shown(ed) == before


def test_channel_segment_menu_only_on_its_channel(make_window, home):
    t = copy.deepcopy(load("02-channel-identification.json"))
    ch0 = t["results"]["channel_labels"]["channels"][0]["items"]
    first = [it for it in ch0 if "start_time" in it and float(it["start_time"]) < 20]
    alt = [{"start_time": it["start_time"], "end_time": it["end_time"], "confidence": "0.9",
            "content": content(it), "type": "pronunciation"} for it in first]
    alt[0]["content"] = "Ít"
    t["results"]["segments"] = [{"channel_label": "ch_0", "start_time": "0.0", "end_time": "30.0", "alternatives": [
        {"transcript": "as said", "items": []}, {"transcript": " ".join(x["content"] for x in alt), "items": alt}]}]
    w, ed = open_editor(make_window, home, t)
    with_menu = [i for i, wd in enumerate(ed.turn_widgets) if wd.alternatives.isVisibleTo(ed)]
    assert with_menu == [1] and ed.turn_widgets[1].speaker.text() == "Channel 1"
    before = shown(ed)
    ed.turn_widgets[1].alternative_actions()[1].trigger()
    after = shown(ed)
    assert after[1][1].startswith("Ít will")
    assert after[0] == before[0] and after[2:] == before[2:]


def test_split_segment_menu_offers_only_this_speakers_part(make_window, home):
    t = copy.deepcopy(load("04-alternative-results.json"))
    t["results"]["speaker_labels"] = load("03-speaker-identification.json")["results"]["speaker_labels"]
    segs = t["results"]["segments"]
    one, two = segs[1], segs[2]
    n = min(len(one["alternatives"]), len(two["alternatives"]))
    t["results"]["segments"] = [{"start_time": one["start_time"], "end_time": two["end_time"], "alternatives": [
        {"transcript": one["alternatives"][k]["transcript"] + " " + two["alternatives"][k]["transcript"],
         "items": one["alternatives"][k]["items"] + two["alternatives"][k]["items"]} for k in range(n)]}]
    w, ed = open_editor(make_window, home, t)
    a, b = ed.turn_widgets[0], ed.turn_widgets[1]
    assert menu_texts(a) == list(dict.fromkeys(x["transcript"] for x in one["alternatives"][:n]))
    assert menu_texts(b) == list(dict.fromkeys(x["transcript"] for x in two["alternatives"][:n]))
    before = shown(ed)
    b.alternative_actions()[1].trigger()
    after = shown(ed)
    assert after[0] == before[0] and after[2:] == before[2:]
    assert after[1][1].startswith(menu_texts(b)[1])
    assert [x.isChecked() for x in b.alternative_actions()][:2] == [False, True]
    assert [x.isChecked() for x in a.alternative_actions()] == [True] + [False] * (len(menu_texts(a)) - 1)


@pytest.mark.parametrize("name", FILES)
def test_edit_word_saves_and_export_has_every_word(make_window, home, qtbot, tmp_path, monkeypatch, name):
    t = load(name)
    w, ed = open_editor(make_window, home, t)
    assert len(ed.turn_widgets) == len(ed.doc.turns) > 1
    last = ed.turn_widgets[-1].text
    last.setFocus()
    last.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(last, " Amoxicillin")
    qtbot.waitUntil(lambda: ed.doc.turn_text(len(ed.turn_widgets) - 1).endswith(" Amoxicillin"), timeout=3000)
    again = TranscriptDocument.open(t, home, "aws", "sample")
    assert again.turn_text(len(again.turns) - 1) == last.toPlainText()

    out = tmp_path / "export.txt"
    monkeypatch.setattr("app.gui.exporting.QFileDialog.getSaveFileName", lambda *a, **k: (str(out), "Text (*.txt)"))
    ed.export_button.click()
    dialog = ed.export_dialog
    dialog.format.setCurrentIndex(dialog.format.findData("text"))
    qtbot.mouseClick(next(b for b in dialog.findChildren(QPushButton) if b.text() == "Choose…"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.export_button.isEnabled, timeout=5000)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.written == out, timeout=10000)
    text = out.read_text(encoding="utf-8")
    blocks = text.rstrip("\n").split("\n\n")
    if any(turn["label"] for turn in ed.doc.turns):  # speakers or channels: each paragraph says who
        assert [b.partition(": ")[0] for b in blocks] == [wd.speaker.text() for wd in ed.turn_widgets]
        blocks = [b.partition(": ")[2] for b in blocks]
    else:  # a dictation: one paragraph per turn, no speaker names
        assert len(blocks) == len(ed.turn_widgets)
    body = " ".join(blocks)
    assert words(body) == words(t["results"]["transcripts"][0]["transcript"]) + ["amoxicillin"]
