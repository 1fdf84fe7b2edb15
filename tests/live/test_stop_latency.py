"""Issue 14: what Stop no longer waits for. A greedy pass in flight ends after its encoder when asked
to (its words would be thrown away), and a final pass does not decode again the speech of the
lead-in whose words it drops (a second encoder pass). A live final pass hears a short encoder window."""

from __future__ import annotations

import time

import pytest

from app.live.session import LiveSession
from app.local import asr, decoding, media
from helpers import JFK_TEXT, ROOT, normalise

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


def test_a_live_final_pass_encodes_a_short_window_with_the_same_words_and_a_job_a_whole_one(model, monkeypatch):
    """A live chunk's final pass (the one Stop waits for) hears a 15 s window (the encoder's cost falls
    4x), a job Whisper's 30 s; on jfk both hear the same words."""
    audio = media.decode(AUDIO / "jfk.flac", 1)[0]
    widths = []
    encode, batch = model.encode, decoding.Decoder._batch
    monkeypatch.setattr(model, "encode", lambda features: widths[-1].append(features.shape[-1]) or encode(features))
    monkeypatch.setattr(decoding.Decoder, "_batch",
                        lambda self, *a: widths.append([self.beam_size]) or batch(self, *a))
    short = decoding.transcribe(model, audio, short_window=True)
    whole = decoding.transcribe(model, audio)
    assert widths == [[5, 1500], [5, 3000]]
    words = lambda t: normalise(" ".join(w.word for s in t.segments for w in s.words))  # noqa: E731
    assert words(short) == words(whole) == normalise(JFK_TEXT)

    widths.clear()   # in a live session: its final passes hear short windows, its greedy passes 30 s
    session = LiveSession(model).start()
    for i in range(0, len(audio), 1600):
        session.feed(audio[i:i + 1600])
        time.sleep(0.05)
    session.stop()
    final = {w for beam, w in widths if beam > 1}
    greedy = {w for beam, w in widths if beam == 1}
    assert final and max(final) < 3000 and greedy == {3000}


def test_a_hole_that_barely_leaves_the_lead_in_is_the_lead_ins():
    # tiny.en on an AMD EPYC left 0.4-3.04 s without words under a 3 s lead-in: 0.04 s is no speech
    assert not decoding._heard((0.4, 3.04), 3.0) and not decoding._heard((0.4, 2.9), 3.0)
    assert decoding._heard((0.4, 3.5), 3.0) and decoding._heard((3.2, 3.6), 3.0)
    assert decoding._heard((1.0, 1.1), 0.0)   # a job (no lead-in) decodes every hole again
