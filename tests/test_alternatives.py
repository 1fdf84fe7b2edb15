"""ShowAlternatives from the transcript's own beam: alternative 0 *is* the transcript.

In AWS's own outputs (../shared/data/aws-samples/04-alternative-results.json) every word of
``segments[*].alternatives[0]`` has the same content, times and confidence as ``results.items``;
ours must too, on any CPU, because both come from one decoding.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.local import asr, pipeline
from app.local.alternatives import normalise
from app.local.decoding import TESTED_FASTER_WHISPER

from helpers import AUDIO, DATA, job_request


def test_faster_whisper_is_the_pinned_version():
    # app/local/decoding.py uses faster-whisper internals; re-check them before moving the pin.
    import faster_whisper

    tested_minor = TESTED_FASTER_WHISPER.rsplit(".", 1)[0] + "."
    assert faster_whisper.__version__.startswith(tested_minor)
    assert tuple(map(int, faster_whisper.__version__.split(".")[:3])) >= (1, 2, 1)


def test_normalise_ignores_case_and_punctuation():
    assert normalise("And so, my fellow Americans!") == normalise("and so my fellow americans")
    assert normalise("don’t stop.") == "dont stop"


def _words(entries):
    return [(i["content"], i["start_time"], i["end_time"], i["confidence"])
            for i in entries if i["type"] == "pronunciation"]


def _item_words(items):
    return [(i["alternatives"][0]["content"], i["start_time"], i["end_time"], i["alternatives"][0]["confidence"])
            for i in items if i["type"] == "pronunciation"]


def test_aws_own_output_has_alternative_zero_equal_to_the_items():
    # the contract, read from the real service's file
    results = json.loads((DATA / "aws-samples" / "04-alternative-results.json").read_text())["results"]
    first = [w for seg in results["segments"] for w in _words(seg["alternatives"][0]["items"])]
    assert first == _item_words(results["items"])


@pytest.fixture(scope="module")
def model():
    return asr.load_model(str(asr.resolve_model("tiny.en")), "cpu", "int8")


def _job(model, channels, **settings):
    request = job_request("alt", "file:///x", Settings=settings)
    return pipeline.transcribe_job(request, channels, model)["results"]


@pytest.mark.parametrize("source", ["jfk", "stereo-mix", "stereo-channels"])
def test_first_alternative_is_the_transcript(model, source):
    from faster_whisper import decode_audio

    if source == "jfk":
        channels = [decode_audio(str(AUDIO / "jfk.flac"))]
    else:
        left, right = decode_audio(str(AUDIO / "stereo_diarization.wav"), split_stereo=True)
        channels = [(left + right) / 2] if source == "stereo-mix" else [left, right]
    settings = {"ShowAlternatives": True, "MaxAlternatives": 3}
    if source == "stereo-channels":
        settings["ChannelIdentification"] = True
    results = _job(model, channels, **settings)
    segments = results["segments"]
    assert segments
    # alternative 0 of every segment, in order, is exactly results.items: same words, times, confidences
    if source == "stereo-channels":
        for label in ("ch_0", "ch_1"):
            mine = [w for s in segments if s["channel_label"] == label for w in _words(s["alternatives"][0]["items"])]
            items = [i for i in results["items"] if i["channel_label"] == label]
            assert mine == _item_words(items)
    else:
        first = [w for s in segments for w in _words(s["alternatives"][0]["items"])]
        assert first == _item_words(results["items"])
        assert " ".join(s["alternatives"][0]["transcript"] for s in segments) == results["transcripts"][0]["transcript"]
    for s in segments:
        alternatives = s["alternatives"]
        assert 1 <= len(alternatives) <= 3
        keys = [normalise(a["transcript"]) for a in alternatives]
        assert len(set(keys)) == len(keys), "alternatives must be distinct after normalising"
        for a in alternatives:
            words = [i for i in a["items"] if i["type"] == "pronunciation"]
            assert normalise(" ".join(w["content"] for w in words)) == normalise(a["transcript"])
            times = [(float(w["start_time"]), float(w["end_time"])) for w in words]
            assert all(e > b for b, e in times)
            assert all(b2 >= b1 for (b1, _), (b2, _) in zip(times, times[1:]))
            # every alternative covers the same stretch of audio as the segment
            assert float(s["start_time"]) - 1.0 <= times[0][0] and times[-1][1] <= float(s["end_time"]) + 1.0


def test_other_alternatives_are_real_hypotheses(model):
    from faster_whisper import decode_audio

    results = _job(model, [decode_audio(str(AUDIO / "jfk.flac"))], ShowAlternatives=True, MaxAlternatives=4)
    alternatives = [a for s in results["segments"] for a in s["alternatives"][1:]]
    assert alternatives, "the beam of a 11 s sentence has other distinct hypotheses"
    for a in alternatives:
        # a competing reading of the same speech: mostly the same words, confidences of its own
        assert 0.5 < len(set(normalise(a["transcript"]).split()) & set(normalise(results["transcripts"][0]["transcript"]).split())) / len(normalise(a["transcript"]).split())
        assert all(0 < float(i["confidence"]) <= 1 for i in a["items"] if i["type"] == "pronunciation")


def test_one_alternative_is_the_transcript_alone(model):
    from faster_whisper import decode_audio

    audio = decode_audio(str(AUDIO / "jfk.flac"))
    results = _job(model, [audio], ShowAlternatives=True, MaxAlternatives=1)
    assert all(len(s["alternatives"]) == 1 for s in results["segments"])
    # the same speech 5 s later: the same words, every time shifted by 5 s
    shifted = _job(model, [np.concatenate([np.zeros(5 * 16000, np.float32), audio])],
                   ShowAlternatives=True, MaxAlternatives=1)
    a, b = _item_words(results["items"]), _item_words(shifted["items"])
    assert [w[0].lower() for w in a] == [w[0].lower() for w in b]
    for x, y in zip(a, b):
        assert float(y[1]) == pytest.approx(float(x[1]) + 5, abs=0.1)
