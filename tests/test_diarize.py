"""Tests for app/local/diarize.py on real recordings from ../shared/data (beside the project)."""


import numpy as np
import pytest

from app.local.diarize import SpeakerTurn, diarize, speaker_at

from helpers import DATA  # noqa: E402
AUDIO = DATA / "audio"

pytestmark = pytest.mark.skipif(not AUDIO.is_dir(), reason=f"test audio not found in {AUDIO}")


@pytest.fixture(scope="module")
def voices():
    """Two different speakers (one per channel of stereo_diarization.wav) and JFK, 16 kHz mono."""
    from faster_whisper import decode_audio

    left, right = decode_audio(str(AUDIO / "stereo_diarization.wav"), split_stereo=True)
    jfk = decode_audio(str(AUDIO / "jfk.flac"))
    return left, right, jfk


def load(path):
    import soundfile as sf

    audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    assert sr == 16000
    return audio


def rttm(name):
    segs = []
    for f in (AUDIO / "ami_debug").glob("*.rttm"):
        for line in f.read_text().splitlines():
            p = line.split()
            if p and p[1] == name:
                segs.append((float(p[3]), float(p[3]) + float(p[4]), p[7]))
    return segs


def accuracy(turns, ref_segs, duration, step=0.05):
    """Share of reference one-speaker time whose speaker_at label is right, under the best
    one-to-one mapping of found to reference speakers."""
    import itertools

    times = np.arange(step / 2, duration, step)
    refs = sorted({s[2] for s in ref_segs})
    active = np.array([[any(s <= t < e for s, e, lab in ref_segs if lab == r) for t in times] for r in refs])
    single = active.sum(axis=0) == 1
    truth = active.argmax(axis=0)[single]
    found = np.array([speaker_at(turns, t - 0.01, t + 0.01) for t in times[single]])
    hyps = sorted(set(found.tolist()))
    best = 0
    for perm in itertools.permutations(range(max(len(refs), len(hyps))), len(hyps)):
        mapped = np.array([perm[hyps.index(h)] for h in found])
        best = max(best, int((mapped == truth).sum()))
    return best / max(single.sum(), 1)


def assert_well_formed(turns, max_speakers, duration=None):
    assert all(isinstance(t, SpeakerTurn) for t in turns)
    assert all(type(t.start) is float and type(t.end) is float and type(t.speaker) is int for t in turns)
    assert all(0 <= t.start < t.end for t in turns)
    if duration is not None:
        assert all(t.end <= duration + 1e-6 for t in turns)
    assert all(a.start <= b.start for a, b in zip(turns, turns[1:])), "turns not sorted by start"
    for spk in {t.speaker for t in turns}:  # one speaker's own turns never overlap
        own = [t for t in turns if t.speaker == spk]
        assert all(a.end <= b.start for a, b in zip(own, own[1:])), f"speaker {spk}'s turns overlap"
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
    mix = np.concatenate([left, right])
    mix32k = np.interp(np.arange(2 * len(mix)) / 2, np.arange(len(mix)), mix).astype(np.float32)
    turns = diarize(mix32k, max_speakers=2, sample_rate=32000)
    assert speaker_at(turns, 1.0, 1.5) != speaker_at(turns, 6.0, 6.5)
    assert 9.0 > turns[-1].end > 7.0  # times are in seconds of the original audio
    # 8 kHz (crudely decimated: the two voices may merge, the time scale must not change)
    turns = diarize(mix[::2], max_speakers=2, sample_rate=8000)
    assert_well_formed(turns, 2, 10.0)
    assert 9.0 > turns[-1].end > 7.0 and turns[0].start < 1.0


def test_silence_and_tiny_input_give_no_turns():
    assert diarize(np.zeros(16000 * 3, np.float32)) == []
    assert diarize(np.zeros(100, np.float32)) == []
    assert diarize(np.zeros(0, np.float32)) == []


def test_model_sessions_are_created_once(voices):
    from app.local import diarize as module

    diarize(voices[0])
    diarize(voices[1])
    for session in (module._segmentation_session, module._embedding_session):
        assert session.cache_info().currsize == 1
        assert session() is session()


def test_meeting_excerpt_two_alternating_speakers():
    """AMI dev00: two far-field speakers taking turns (with some overlap): two speakers, and the
    words of each one-speaker stretch mostly go to the right one."""
    audio = load(AUDIO / "ami_debug" / "dev00.wav").mean(axis=1)
    ref = rttm("dev00")
    assert len({s[2] for s in ref}) == 2
    turns = diarize(audio, max_speakers=4)
    assert_well_formed(turns, 4, len(audio) / 16000)
    assert len({t.speaker for t in turns}) == 2
    assert accuracy(turns, ref, len(audio) / 16000) >= 0.8
    assert {t.speaker for t in diarize(audio, max_speakers=1)} == {0}


def test_two_voices_at_once_are_both_found(voices):
    """stereo_diarization.wav summed: one voice 0.3-4.7 s, the other 0.3-2.6 s at the same time.
    Overlap-aware output: two speakers, the second one's turns inside its speech."""
    left, right, _ = voices
    turns = diarize(left + right, max_speakers=2)
    assert_well_formed(turns, 2, 5.0)
    assert len({t.speaker for t in turns}) == 2
    long_one = speaker_at(turns, 3.5, 4.0)  # only the left voice speaks here
    other = [t for t in turns if t.speaker != long_one]
    assert other and all(t.start >= 0.0 and t.end <= 3.0 for t in other)
    assert sum(t.end - t.start for t in other) >= 1.5
    assert sum(t.end - t.start for t in turns if t.speaker == long_one) >= 3.5


def test_consultation_mix_keeps_doctor_and_patient_apart():
    """Two minutes of a rendered consultation (doctor on channel 0, patient on channel 1) mixed
    to mono as the job pipeline does: two speakers, each channel alone one."""
    import json

    flac = DATA / "consultations" / "day1_consultation01.flac"
    if not flac.exists():
        pytest.skip("consultation not found")
    stereo = load(flac)[:120 * 16000]
    meta = json.loads(flac.with_suffix(".json").read_text())
    ref = [(u["start"], min(u["end"], 120.0), u["speaker"]) for u in meta["utterances"] if u["start"] < 120]
    turns = diarize(stereo.mean(axis=1), max_speakers=4)
    assert_well_formed(turns, 4, 120.0)
    assert len({t.speaker for t in turns}) == 2
    assert accuracy(turns, ref, 120.0) >= 0.9
    for channel in (0, 1):
        assert len({t.speaker for t in diarize(np.ascontiguousarray(stereo[:, channel]), max_speakers=4)}) == 1


def test_long_recording_is_processed_in_windows():
    """Three minutes (an AMI excerpt repeated): no crash, speakers bounded, turns inside the audio."""
    audio = np.tile(load(AUDIO / "ami_debug" / "tst00.wav").mean(axis=1), 6)
    turns = diarize(audio, max_speakers=3)
    assert_well_formed(turns, 3, len(audio) / 16000)
    assert 1 <= len({t.speaker for t in turns}) <= 3
    assert turns[-1].end > len(audio) / 16000 - 30


def test_short_and_odd_input_does_not_crash(voices):
    jfk = voices[2]
    for n in (1600, 4000, 16000, 16000 * 3):
        turns = diarize(jfk[16000:16000 + n], max_speakers=4)
        assert_well_formed(turns, 4, n / 16000)
    noise = np.random.default_rng(0).standard_normal(16000 * 4).astype(np.float32) * 0.01
    assert_well_formed(diarize(noise, max_speakers=4), 4, 4.0)
    with pytest.raises(ValueError):
        diarize(np.zeros((2, 16000), np.float32))


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


def test_speaker_at_with_overlapping_turns():
    turns = [SpeakerTurn(0.0, 10.0, 0), SpeakerTurn(2.0, 3.0, 1), SpeakerTurn(4.0, 4.5, 1), SpeakerTurn(12.0, 13.0, 1)]
    assert speaker_at(turns, 2.2, 2.8) == 0  # both speak: equal overlap, the earlier turn
    assert speaker_at(turns, 9.0, 9.5) == 0  # the long turn, although later turns started before
    assert speaker_at(turns, 10.5, 10.8) == 0  # pause: the long turn ended nearest
    assert speaker_at(turns, 11.5, 11.9) == 1
    assert speaker_at(turns, 3.9, 4.6) == 0  # 0.7 s overlap with speaker 0, 0.5 s with speaker 1


def test_speaker_at_matches_its_definition():
    """Largest overlap, else nearest turn (earlier turn on ties), on random turns and words."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        if rng.random() < 0.5:  # one speaker at a time
            edges = np.sort(rng.uniform(0, 60, 2 * rng.integers(1, 12))).reshape(-1, 2)
        else:  # turns that may overlap, sorted by start
            starts = np.sort(rng.uniform(0, 60, rng.integers(1, 12)))
            edges = np.stack([starts, starts + rng.exponential(4, len(starts)) + 0.01], axis=1)
        turns = [SpeakerTurn(float(a), float(b), int(rng.integers(0, 3))) for a, b in edges]
        start = float(rng.uniform(-2, 62))
        end = start + float(rng.choice([0.0, rng.exponential(0.5), rng.uniform(0, 20)]))
        overlaps = [min(end, t.end) - max(start, t.start) for t in turns]
        if max(overlaps) > 0:
            expected = turns[int(np.argmax(overlaps))].speaker
        else:
            expected = turns[int(np.argmin([max(t.start - end, start - t.end, 0) for t in turns]))].speaker
        assert speaker_at(turns, start, end) == expected, (turns, start, end)
