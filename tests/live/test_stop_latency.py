"""Issue 14: what Stop no longer waits for. A greedy pass in flight ends after its encoder when asked
to (its words would be thrown away), and a final pass does not decode again the speech of the
lead-in whose words it drops (a second encoder pass)."""

from __future__ import annotations

import pytest

from app.local import asr, decoding, media
from helpers import ROOT

AUDIO = ROOT.parent / "shared" / "data" / "audio"


@pytest.fixture(scope="module")
def model():
    return asr.load_model(str(asr.resolve_model("tiny.en")), "cpu", "auto")


def _count_batches(monkeypatch) -> list[int]:
    calls = []
    batch = decoding.Decoder._batch

    def counted(self, audio, chunks):
        calls.append(len(chunks))
        return batch(self, audio, chunks)

    monkeypatch.setattr(decoding.Decoder, "_batch", counted)
    return calls


def test_a_cancelled_decode_stops_after_its_encoder(model, monkeypatch):
    audio = media.decode(AUDIO / "jfk.flac", 1)[0]
    encoded, asked = [], []
    encode = model.encode
    monkeypatch.setattr(model, "encode", lambda features: encoded.append(1) or encode(features))
    with pytest.raises(decoding.Cancelled):
        decoding.transcribe(model, audio, beam_size=1, cancel=lambda: asked.append(len(encoded)) or True)
    assert asked == [1]   # asked once, after the one encoder pass, and nothing decoded after it
    # not cancelled: the same call decodes the speech
    result = decoding.transcribe(model, audio, beam_size=1, cancel=lambda: False)
    assert "country" in " ".join(w.word for s in result.segments for w in s.words)


def test_speech_left_without_words_in_a_dropped_lead_in_is_not_decoded_again(model, monkeypatch):
    """An AMI meeting excerpt where tiny.en's first pass leaves speech at 0.4-3.0 s without words."""
    path = AUDIO / "ami_debug" / "tst00.wav"
    audio = media.mixdown(media.decode(path, media.probe(path).channels))[8 * 16000:18 * 16000]
    calls = _count_batches(monkeypatch)
    whole = decoding.transcribe(model, audio)
    assert len(calls) == 2, "the excerpt no longer has a hole for the second pass: pick another"
    calls.clear()
    led = decoding.transcribe(model, audio, heard_from=3.0)
    assert len(calls) == 1   # one encoder pass, not two
    after = lambda t: [w.word for s in t.segments for w in s.words if w.end > 3.0]  # noqa: E731
    assert after(led) == after(whole) and after(led)
    assert [u for u in led.uncovered if u.end > 3.0] == [u for u in whole.uncovered if u.end > 3.0]
