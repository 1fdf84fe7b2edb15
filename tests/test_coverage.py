"""Nothing said is lost, and word times match the speech (real recordings from ../shared/data).

faster-whisper's batched pipeline keeps only what the decoder writes before its end-of-text
token, so a short sentence after a pause could vanish (SYSTRAN/faster-whisper#1179): on the
recording built below it drops the last "The horizon seems extremely distant."
"""

from __future__ import annotations

import numpy as np
import pytest

from app.local import asr, decoding, pipeline, vad, wordtimes

from helpers import AUDIO, STEREO_RIGHT, job_request, normalise

SR = 16000


@pytest.fixture(scope="module")
def model():
    return asr.load_model(str(asr.resolve_model("tiny.en")), "cpu", "int8")


@pytest.fixture(scope="module")
def voices():
    from faster_whisper import decode_audio

    left, right = decode_audio(str(AUDIO / "stereo_diarization.wav"), split_stereo=True)
    return decode_audio(str(AUDIO / "jfk.flac")), left, right


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), np.float32)


@pytest.fixture(scope="module")
def paused(voices):
    """Speech, pauses of 2-4 s, more speech, and a short last sentence; the last one's span."""
    jfk, left, right = voices
    pieces = [jfk, _silence(2.0), right, _silence(4.0), left[: 2 * SR], _silence(2.2)]
    start = sum(len(p) for p in pieces) / SR
    audio = np.concatenate(pieces + [right])
    return audio, start, len(audio) / SR


def _words(results, channel=None):
    return [i for i in results["items"] if i["type"] == "pronunciation"
            and (channel is None or i.get("channel_label") == channel)]


def test_the_last_sentence_after_a_pause_is_transcribed(model, paused):
    audio, start, end = paused
    results = pipeline.transcribe_job(job_request("paused", "file:///x"), [audio], model)["results"]
    last = [i for i in _words(results) if float(i["start_time"]) >= start - 0.3]
    assert normalise(" ".join(i["alternatives"][0]["content"] for i in last)) == normalise(STEREO_RIGHT)
    for item in last:  # recovered words carry real times and confidences
        assert start - 0.3 <= float(item["start_time"]) < float(item["end_time"]) <= end + 0.05
        assert 0.0 < float(item["alternatives"][0]["confidence"]) <= 1.0
    assert "untranscribed_speech" not in results


def test_every_stretch_of_speech_has_words_or_is_reported(model, paused):
    audio, _, _ = paused
    decoded = asr.transcribe_full(model, audio)
    words = [w for s in decoded.segments for w in s.words]
    reported = [(u.start, u.end) for u in decoded.uncovered]
    for lo, hi in decoded.speech:
        if hi - lo < decoding.MIN_SPEECH_S:
            continue
        covered = any(w.end > lo and w.start < hi for w in words)
        assert covered or any(a <= lo + 0.05 and hi - 0.05 <= b for a, b in reported), (lo, hi)


def test_speech_the_decoder_cannot_read_is_reported_not_dropped(model, monkeypatch, voices):
    # A decoder that writes nothing for a stretch: the job lists the stretch instead of losing it.
    jfk, _, right = voices
    audio = np.concatenate([jfk, _silence(3.0), right])
    real = decoding.Decoder._batch

    def deaf_after_12s(self, signal, chunks):
        out = []
        for seg in real(self, signal, chunks):
            words = [w for w in seg.words if w.start < 12.0] if seg else []
            out.append(decoding.Segment(words[0].start, words[-1].end, "x", words) if words else None)
        return out

    monkeypatch.setattr(decoding.Decoder, "_batch", deaf_after_12s)
    results = pipeline.transcribe_job(job_request("deaf", "file:///x"), [audio], model)["results"]
    stretches = results["untranscribed_speech"]
    assert len(stretches) == 1
    assert 13.5 <= float(stretches[0]["start_time"]) < float(stretches[0]["end_time"]) <= len(audio) / SR
    assert "horizon" not in results["transcripts"][0]["transcript"].lower()


def _check_times(words, probs=None):
    times = [(float(i["start_time"]), float(i["end_time"])) for i in words]
    for (start, end), item in zip(times, words):
        assert end > start, item  # AWS never writes a zero-length word
    for (s1, _), (s2, _) in zip(times, times[1:]):
        assert s2 >= s1  # never backwards within a channel
    if probs is not None:
        for start, end in times:  # a word never spans more than about a second of silence
            frames = probs[int(start / vad.FRAME_S): int(np.ceil(end / vad.FRAME_S))]
            assert (frames < wordtimes.SILENCE_PROB).sum() * vad.FRAME_S <= 1.0, (start, end)


def test_channels_interleave_in_time_and_times_are_sound(model, voices):
    _, left, right = voices
    request = job_request("channels", "file:///x", Settings={"ChannelIdentification": True})
    results = pipeline.transcribe_job(request, [left, right], model)["results"]
    words = _words(results)
    starts = [float(i["start_time"]) for i in words]
    assert starts == sorted(starts), "items are in time order across channels"
    labels = [i["channel_label"] for i in words]
    assert sum(a != b for a, b in zip(labels, labels[1:])) >= 2, "both talk from t = 0: the channels interleave"
    assert normalise(results["transcripts"][0]["transcript"]).startswith("he the")  # merged text in time order
    for channel, audio in (("ch_0", left), ("ch_1", right)):
        _check_times(_words(results, channel), vad.speech_probabilities(audio))
    for segment in results["audio_segments"]:  # each audio segment is one channel's, in its item order
        assert len({results["items"][k].get("channel_label") for k in segment["items"]}) == 1


def test_words_stay_inside_the_speech_of_a_far_field_meeting(model):
    from faster_whisper import decode_audio

    audio = decode_audio(str(AUDIO / "ami_debug" / "tst01.wav"))
    results = pipeline.transcribe_job(job_request("meeting", "file:///x"), [audio], model)["results"]
    words = _words(results)
    assert words
    _check_times(words, vad.speech_probabilities(audio))
    # "Yep, let's take him out today." no longer stretches over the 16 s of silence after "Yep"
    for segment in results["audio_segments"]:
        seg_words = [results["items"][k] for k in segment["items"] if results["items"][k]["type"] == "pronunciation"]
        span = float(segment["end_time"]) - float(segment["start_time"])
        assert span <= sum(float(w["end_time"]) - float(w["start_time"]) for w in seg_words) + 2.0 * len(seg_words)


def test_words_the_second_pass_finds_keep_their_place_in_time(model, monkeypatch, voices):
    # A chunk joins speech across minutes of a conversation; the decoder skips the short
    # sentence in the middle (as it skipped "OK." in a consultation). The second pass finds it,
    # and it must stay at its own time, not be pushed after the chunk's later words.
    jfk, _, right = voices
    audio = np.concatenate([jfk, _silence(4.0), right, _silence(4.0), jfk])
    middle = (len(jfk) / SR + 4.0, len(jfk) / SR + 4.0 + len(right) / SR)
    real = decoding.Decoder._batch
    calls = []

    def skip_middle_once(self, signal, chunks):
        out = real(self, signal, chunks)
        calls.append(len(chunks))
        if len(calls) > 1:
            return out
        kept = []
        for seg in out:
            words = [w for w in seg.words if not middle[0] - 0.5 < w.start < middle[1]] if seg else []
            kept.append(decoding.Segment(words[0].start, words[-1].end, "x", words) if words else None)
        return kept

    monkeypatch.setattr(decoding.Decoder, "_batch", skip_middle_once)
    results = pipeline.transcribe_job(job_request("skip", "file:///x"), [audio], model)["results"]
    assert len(calls) == 2, "the skipped sentence was decoded again"
    found = [i for i in _words(results) if middle[0] - 0.5 <= float(i["start_time"]) <= middle[1]]
    assert normalise(" ".join(i["alternatives"][0]["content"] for i in found)) == normalise(STEREO_RIGHT)
    _check_times(_words(results))


def test_a_sentence_after_the_decoders_early_end_is_not_hidden_under_its_last_word(model):
    """A consultation's doctor channel from 45.69 s: tiny.en ends its decode after "...the last couple
    of days." and the alignment stretched "days." over the next 7 s of speech ("Six, seven times a
    day... blood in your stools?"), so no hole was seen and that sentence was lost. The word keeps
    its own place and the speech after it is decoded again."""
    from helpers import DATA

    from app.local import media

    doctor = media.decode(DATA / "consultations" / "day1_consultation01.flac", 2)[0]
    result = decoding.transcribe(model, doctor[int(45.69 * SR): 60 * SR], beam_size=5)
    words = [w for s in result.segments for w in s.words]
    text = normalise(" ".join(w.word for w in words))
    for said in ("couple of days", "times a day", "mainly watery", "blood in your stools"):
        assert said in text, text
    assert all(w.end - w.start <= decoding.longest_word(w.word) for w in words), words
    days = next(w for w in words if normalise(w.word) == "days")
    assert 48.0 - 45.69 < days.start < days.end < 49.5 - 45.69   # where it was said


def test_an_overlong_aligned_word_stays_where_it_starts():
    """The alignment gave one word 8 s across two stretches of speech: it is placed in the stretch it
    starts in (the second is then a hole for the second pass), not in the later one its middle falls in."""
    chunk = decoding._Chunk([(0, int(3.5 * SR)), (int(6.8 * SR), int(14.3 * SR))])
    word = decoding.Decoder._place(chunk, {"word": " days.", "start": 2.76, "end": 10.92, "probability": 0.99})
    assert 2.7 < word.start < word.end <= 3.5
    holes = decoding.chunk_holes(chunk, decoding.Segment(word.start, word.end, "days.", [word]),
                                 np.ones(int(15 / vad.FRAME_S), np.float32))
    assert (6.8, 14.3) in [(round(a, 2), round(b, 2)) for a, b in holes]   # the later stretch is re-decoded


def test_a_phone_number_read_digit_by_digit_keeps_its_time():
    """Whisper writes a phone number as one word; read out, it takes seconds, and is not cut short."""
    chunk = decoding._Chunk([(int(6.3 * SR), int(11.9 * SR))])
    word = decoding.Decoder._place(chunk, {"word": " 0770090456.", "start": 0.94, "end": 5.34, "probability": 0.9})
    assert (round(word.start, 2), round(word.end, 2)) == (7.24, 11.64)
