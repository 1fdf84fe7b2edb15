"""Tests for app/diarize.py on real recordings from ../shared/data (beside the project)."""

from pathlib import Path

import numpy as np
import pytest

from app.local.diarize import SpeakerTurn, diarize, speaker_at

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
AUDIO = DATA / "audio"

pytestmark = pytest.mark.skipif(not AUDIO.is_dir(), reason=f"test audio not found in {AUDIO}")


@pytest.fixture(scope="module")
def voices():
    """Two different speakers (one per channel of stereo_diarization.wav) and JFK, 16 kHz mono."""
    from faster_whisper import decode_audio

    left, right = decode_audio(str(AUDIO / "stereo_diarization.wav"), split_stereo=True)
    jfk = decode_audio(str(AUDIO / "jfk.flac"))
    return left, right, jfk


def assert_well_formed(turns, max_speakers):
    assert all(isinstance(t, SpeakerTurn) for t in turns)
    assert all(type(t.start) is float and type(t.end) is float and type(t.speaker) is int for t in turns)
    assert all(t.start < t.end for t in turns)
    assert all(a.end <= b.start for a, b in zip(turns, turns[1:])), "turns overlap or are unsorted"
    first_seen = list(dict.fromkeys(t.speaker for t in turns))
    assert first_seen == list(range(len(first_seen))), "speakers not numbered by first appearance"
    assert len(first_seen) <= max_speakers


def test_two_speakers_one_after_the_other(voices):
    left, right, _ = voices
    mix = np.concatenate([left, right])  # left speech ends at 4.7 s, right speech starts at 5.4 s
    turns = diarize(mix, max_speakers=2)
    assert_well_formed(turns, 2)
    assert {t.speaker for t in turns} == {0, 1}
    assert speaker_at(turns, 1.0, 1.5) == 0
    assert speaker_at(turns, 2.5, 3.0) == 0
    assert speaker_at(turns, 6.0, 6.5) == 1
    # the change of speaker lies in the pause between the two utterances
    boundary_end = max(t.end for t in turns if t.speaker == 0)
    boundary_start = min(t.start for t in turns if t.speaker == 1)
    assert 4.5 <= boundary_end <= 5.4
    assert 4.7 <= boundary_start <= 5.6


def test_alternating_speakers_are_recognised_again(voices):
    left, right, _ = voices
    mix = np.concatenate([left, right, left, right])  # 5 s each
    turns = diarize(mix, max_speakers=4)
    assert_well_formed(turns, 4)
    assert [speaker_at(turns, t0 + 1.0, t0 + 1.5) for t0 in (0, 5, 10, 15)] == [0, 1, 0, 1]
    assert len({t.speaker for t in turns}) == 2  # an upper bound of 4 must not invent speakers


def test_single_speaker_gives_one_speaker(voices):
    jfk = voices[2]
    for max_speakers in (2, 4):
        turns = diarize(jfk, max_speakers=max_speakers)
        assert_well_formed(turns, max_speakers)
        assert {t.speaker for t in turns} == {0}
        # the speech (about 0.3 s to 10.5 s) is covered
        assert turns[0].start < 1.0 and turns[-1].end > 10.0


def test_max_speakers_is_respected(voices):
    left, right, jfk = voices
    mix = np.concatenate([left, right, jfk])  # three different voices
    assert len({t.speaker for t in diarize(mix, max_speakers=4)}) == 3
    two = diarize(mix, max_speakers=2)
    assert_well_formed(two, 2)
    assert len({t.speaker for t in two}) == 2
    one = diarize(mix, max_speakers=1)
    assert_well_formed(one, 1)
    assert {t.speaker for t in one} == {0}


def test_other_sample_rate_is_resampled(voices):
    left, right, _ = voices
    mix8k = np.concatenate([left, right])[::2]  # crude 8 kHz version
    turns = diarize(mix8k, max_speakers=2, sample_rate=8000)
    assert speaker_at(turns, 1.0, 1.5) != speaker_at(turns, 6.0, 6.5)
    assert 9.0 > turns[-1].end > 7.0  # times are in seconds of the original audio


def test_silence_and_tiny_input_give_no_turns():
    assert diarize(np.zeros(16000 * 3, np.float32)) == []
    assert diarize(np.zeros(100, np.float32)) == []
    assert diarize(np.zeros(0, np.float32)) == []


def test_encoder_session_is_created_once(voices):
    from app.local import diarize as module

    diarize(voices[0])
    diarize(voices[1])
    assert module._session.cache_info().currsize == 1
    assert module._session() is module._session()


def test_speaker_at():
    turns = [SpeakerTurn(0.0, 2.0, 0), SpeakerTurn(2.5, 4.0, 1), SpeakerTurn(6.0, 7.0, 0)]
    assert speaker_at(turns, 0.5, 1.0) == 0
    assert speaker_at(turns, 1.8, 2.9) == 1  # larger overlap with the second turn
    assert speaker_at(turns, 1.5, 2.6) == 0
    assert speaker_at(turns, 4.2, 4.5) == 1  # in a pause: nearest turn
    assert speaker_at(turns, 5.6, 5.8) == 0
    assert speaker_at(turns, 9.0, 9.5) == 0
    assert speaker_at([SpeakerTurn(3.0, 4.0, 1)], 0.0, 0.2) == 1
    assert speaker_at([], 1.0, 2.0) == 0
    assert speaker_at(turns, 3.0, 3.0) == 1  # zero-length word inside a turn
    assert speaker_at(turns, 1.0, 6.5) == 1  # spans three turns: 1.0 s, 1.5 s, 0.5 s of overlap


def test_speaker_at_matches_its_definition():
    """Largest overlap, else nearest turn (earlier turn on ties), on random turns and words."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        edges = np.sort(rng.uniform(0, 60, 2 * rng.integers(1, 12)))
        turns = [SpeakerTurn(float(a), float(b), int(rng.integers(0, 3))) for a, b in edges.reshape(-1, 2)]
        start = float(rng.uniform(-2, 62))
        end = start + float(rng.choice([0.0, rng.exponential(0.5), rng.uniform(0, 20)]))
        overlaps = [min(end, t.end) - max(start, t.start) for t in turns]
        if max(overlaps) > 0:
            expected = turns[int(np.argmax(overlaps))].speaker
        else:
            expected = turns[int(np.argmin([max(t.start - end, start - t.end, 0) for t in turns]))].speaker
        assert speaker_at(turns, start, end) == expected, (turns, start, end)
