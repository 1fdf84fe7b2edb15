"""Issue 3 settings through the real local engine on real speech: channels, speakers,
alternatives, medical vocabularies, PHI, and their combinations."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import soundfile

from app.engine.local import LocalEngine
from helpers import AUDIO, DATA, STEREO_LEFT, STEREO_RIGHT, job_request, normalise, wer

CONSULTATIONS = DATA / "consultations"


@pytest.fixture(scope="module")
def engine(shared_home):
    return LocalEngine(base=shared_home)


def excerpt(tmp_path_factory, name: str, seconds: float, mono: bool = False):
    data, rate = soundfile.read(CONSULTATIONS / f"{name}.flac")
    data = data[: int(seconds * rate)]
    if mono:
        data = data.mean(axis=1)
    path = tmp_path_factory.mktemp("excerpts") / f"{name}-{int(seconds)}s{'-mono' if mono else ''}.wav"
    soundfile.write(path, data, rate)
    reference = [u for u in json.loads((CONSULTATIONS / f"{name}.json").read_text())["utterances"]
                 if u["start"] < seconds]
    return path, reference


def run(engine, name, path, **extra):
    uri = engine.put_media(path, key=f"features/{name}/{path.name}")
    engine.start_medical_transcription_job(**job_request(name, uri, **extra))
    job = engine.wait(name, poll=0.2, timeout=600)
    assert job["TranscriptionJobStatus"] == "COMPLETED", job.get("FailureReason")
    return job, engine.get_transcript(name)["results"]


def words(items):
    return [i for i in items if i["type"] == "pronunciation"]


def utterance_at(reference, t):
    best = min(reference, key=lambda u: 0 if u["start"] <= t <= u["end"] else min(abs(u["start"] - t), abs(u["end"] - t)))
    return best


# -- channel identification ----------------------------------------------------
def test_channel_identification_on_the_stereo_recording(engine):
    job, results = run(engine, "channels-stereo", AUDIO / "stereo_diarization.wav",
                       Settings={"ChannelIdentification": True})
    assert job["Settings"]["ChannelIdentification"] is True
    labels = results["channel_labels"]
    assert labels["number_of_channels"] == 2
    assert [c["channel_label"] for c in labels["channels"]] == ["ch_0", "ch_1"]
    by_channel = {c["channel_label"]: " ".join(i["alternatives"][0]["content"] for i in c["items"])
                  for c in labels["channels"]}
    assert wer(STEREO_LEFT, by_channel["ch_0"]) == 0 and wer(STEREO_RIGHT, by_channel["ch_1"]) == 0
    assert all("channel_label" in item for item in results["items"])
    assert sum(len(c["items"]) for c in labels["channels"]) == len(results["items"])
    assert all(seg["channel_label"] in ("ch_0", "ch_1") for seg in results["audio_segments"])
    assert len(results["transcripts"]) == 1
    # one merged text in time order (as AWS writes it): both sentences, each channel's words in order
    merged = normalise(results["transcripts"][0]["transcript"]).split()
    for sentence in (STEREO_LEFT, STEREO_RIGHT):
        rest = iter(merged)
        assert all(word in rest for word in normalise(sentence).split())
    assert len(merged) == len(normalise(STEREO_LEFT + " " + STEREO_RIGHT).split())


def test_channel_identification_on_a_consultation_with_phi(engine, tmp_path_factory):
    path, reference = excerpt(tmp_path_factory, "day3_consultation04", 45)
    _, results = run(engine, "channels-consultation", path, Type="CONVERSATION",
                     Settings={"ChannelIdentification": True}, ContentIdentificationType="PHI")
    items = words(results["items"])
    # every word is labelled with the channel of the person who said it (doctor ch_0, patient ch_1)
    right = sum(utterance_at(reference, (float(i["start_time"]) + float(i["end_time"])) / 2)["channel"]
                == int(i["channel_label"][3:]) for i in items)
    assert right / len(items) >= 0.95
    starts = [float(seg["start_time"]) for seg in results["audio_segments"]]
    assert starts == sorted(starts)  # one merged transcript in time order
    entities = results["entities"]
    categories = {e["category"] for e in entities}
    text = " | ".join(e["content"].lower() for e in entities)
    assert "PHI-Personal" in categories and "PHI-Geographic" in categories, entities
    assert "november" in text  # the spoken date of birth
    assert "great road" in text or "twenty eight" in text or "28" in text  # the address
    for e in entities:
        assert isinstance(e["start_time"], float) and isinstance(e["confidence"], float)
        assert e["start_time"] <= e["end_time"]


# -- speaker labels ---------------------------------------------------------------
def speaker_accuracy(items, reference):
    hyp = [i["speaker_label"] for i in items]
    ref = [utterance_at(reference, (float(i["start_time"]) + float(i["end_time"])) / 2)["speaker"] for i in items]
    speakers, people = sorted(set(hyp)), sorted(set(ref))
    best = 0
    for perm in itertools.permutations(speakers + [None] * max(0, len(people) - len(speakers)), len(people)):
        mapping = dict(zip(perm, people))
        best = max(best, sum(mapping.get(h) == r for h, r in zip(hyp, ref)))
    return best / len(items)


def test_speaker_labels_on_a_mono_consultation(engine, tmp_path_factory):
    path, reference = excerpt(tmp_path_factory, "day1_consultation01", 90, mono=True)
    _, results = run(engine, "speakers-consultation", path, Type="CONVERSATION",
                     Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 4})
    assert all(i["speaker_label"].startswith("spk_") for i in results["items"])  # punctuation too
    labels = results["speaker_labels"]
    assert labels["speakers"] == 2  # estimated, MaxSpeakerLabels is only a bound
    assert speaker_accuracy(words(results["items"]), reference) >= 0.9
    flat = [it for seg in labels["segments"] for it in seg["items"]]
    assert len(flat) == len(words(results["items"]))
    for seg in labels["segments"]:
        assert {it["speaker_label"] for it in seg["items"]} == {seg["speaker_label"]}
        assert float(seg["start_time"]) <= float(seg["end_time"])
    for seg in results["audio_segments"]:
        assert {results["items"][i]["speaker_label"] for i in seg["items"]} == {seg["speaker_label"]}


def test_one_speaker_is_one_speaker(engine):
    _, results = run(engine, "speakers-jfk", AUDIO / "jfk.flac",
                     Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 5})
    assert results["speaker_labels"]["speakers"] == 1
    assert {i["speaker_label"] for i in results["items"]} == {"spk_0"}


# -- alternatives -----------------------------------------------------------------
def test_alternatives_are_real_n_best(engine, tmp_path_factory):
    path, _ = excerpt(tmp_path_factory, "day1_consultation01", 60, mono=True)
    _, results = run(engine, "alternatives-consultation", path, Type="CONVERSATION",
                     Settings={"ShowAlternatives": True, "MaxAlternatives": 3})
    segments = results["segments"]
    assert segments
    distinct = 0
    for seg in segments:
        alts = seg["alternatives"]
        assert 1 <= len(alts) <= 3
        texts = [normalise(a["transcript"]) for a in alts]
        assert len(set(texts)) == len(texts)  # de-duplicated after normalising
        distinct = max(distinct, len(alts))
        for alt in alts:
            times = [float(i["start_time"]) for i in alt["items"] if i["type"] == "pronunciation"]
            assert times == sorted(times)
            assert all(float(seg["start_time"]) - 0.5 <= t <= float(seg["end_time"]) + 0.5 for t in times)
    assert distinct >= 2
    best = " ".join(seg["alternatives"][0]["transcript"] for seg in segments)
    assert wer(results["transcripts"][0]["transcript"], best) <= 0.1


# -- medical vocabularies -----------------------------------------------------------
VOCAB = "Phrase\tIPA\tSoundsLike\tDisplayAs\nComfy-UI\t\t\tComfyUI\n"


def create_vocabulary(engine, tmp_path, name, text: str):
    path = tmp_path / f"{name}.txt"
    path.write_bytes(text.encode("utf-8"))
    uri = engine.upload_vocabulary_file(path, key=f"{name}.txt")
    response = engine.create_medical_vocabulary(VocabularyName=name, LanguageCode="en-US", VocabularyFileUri=uri)
    assert response["VocabularyState"] == "PENDING"
    return engine.get_medical_vocabulary(VocabularyName=name)


def test_vocabulary_lifecycle(engine, tmp_path):
    errors = engine.exceptions
    good = create_vocabulary(engine, tmp_path, "comfy-terms", VOCAB)
    assert good["VocabularyState"] == "READY" and "FailureReason" not in good
    assert open(good["DownloadUri"][len("file://"):], encoding="utf-8").read() == VOCAB
    bad = create_vocabulary(engine, tmp_path, "bad-terms", "Phrase\tIPA\tSoundsLike\tDisplayAs\nblood pressure\t\t\t\n")
    assert bad["VocabularyState"] == "FAILED"
    assert "2" in bad["FailureReason"] and "blood pressure" in bad["FailureReason"]
    with pytest.raises(errors.ConflictException):
        create_vocabulary(engine, tmp_path, "comfy-terms", VOCAB)
    with pytest.raises(errors.NotFoundException, match="couldn't be found"):
        engine.get_medical_vocabulary(VocabularyName="nope")
    listed = engine.list_medical_vocabularies(StateEquals="FAILED", NameContains="BAD")
    assert [v["VocabularyName"] for v in listed["Vocabularies"]] == ["bad-terms"] and listed["Status"] == "FAILED"
    # a FAILED vocabulary cannot be used; fixing its file makes it READY
    uri = engine.put_media(AUDIO / "jfk.flac", key="vocab/jfk.flac")
    with pytest.raises(errors.BadRequestException, match="FAILED"):
        engine.start_medical_transcription_job(**job_request("uses-bad-vocab", uri, Settings={"VocabularyName": "bad-terms"}))
    fixed = tmp_path / "fixed.txt"
    fixed.write_text("Phrase\tIPA\tSoundsLike\tDisplayAs\nblood-pressure\t\t\tBP\n")
    engine.update_medical_vocabulary(VocabularyName="bad-terms", LanguageCode="en-US",
                                     VocabularyFileUri=engine.upload_vocabulary_file(fixed, key="fixed.txt"))
    assert engine.get_medical_vocabulary(VocabularyName="bad-terms")["VocabularyState"] == "READY"
    engine.delete_medical_vocabulary(VocabularyName="bad-terms")
    with pytest.raises(errors.NotFoundException):
        engine.delete_medical_vocabulary(VocabularyName="bad-terms")
    with pytest.raises(errors.BadRequestException, match="The requested vocabulary couldn't be found"):
        engine.start_medical_transcription_job(**job_request("uses-gone-vocab", uri, Settings={"VocabularyName": "bad-terms"}))


def test_a_vocabulary_makes_the_engine_hear_and_write_the_term(engine, tmp_path):
    if engine.vocabularies.get("comfy-terms") is None:
        create_vocabulary(engine, tmp_path, "comfy-terms", VOCAB)
    _, plain = run(engine, "hotwords-plain", AUDIO / "hotwords.mp3")
    _, tuned = run(engine, "hotwords-vocab", AUDIO / "hotwords.mp3", Settings={"VocabularyName": "comfy-terms"})
    assert "ComfyUI" not in plain["transcripts"][0]["transcript"]
    assert "ComfyUI" in tuned["transcripts"][0]["transcript"]
    assert "ComfyUI" in [i["alternatives"][0]["content"] for i in tuned["items"]]


def test_alternatives_vocabulary_and_phi_together(engine, tmp_path, tmp_path_factory):
    path, _ = excerpt(tmp_path_factory, "day3_consultation04", 45, mono=True)
    create_vocabulary(engine, tmp_path, "asthma-terms",
                      "Phrase\tIPA\tSoundsLike\tDisplayAs\ndate-of-birth\t\t\tDOB\ninhaler\t\t\t\n")
    _, results = run(engine, "combo-consultation", path, Type="CONVERSATION", ContentIdentificationType="PHI",
                     Settings={"ShowAlternatives": True, "MaxAlternatives": 2, "VocabularyName": "asthma-terms"})
    assert results["segments"] and all(len(s["alternatives"]) <= 2 for s in results["segments"])
    assert any(e["category"] == "PHI-Personal" for e in results["entities"])
    contents = [i["alternatives"][0]["content"] for i in words(results["items"])]
    assert "DOB" in contents  # "date of birth", written as DisplayAs says
    assert "DOB" in results["transcripts"][0]["transcript"]


def test_speaker_segments_of_a_real_meeting_follow_who_spoke(engine):
    # AMI dev00, two far-field speakers taking turns: what a reader of the JSON gets
    _, results = run(engine, "speakers-meeting", AUDIO / "ami_debug" / "dev00.wav", Type="CONVERSATION",
                     Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 4})
    labels = results["speaker_labels"]
    assert labels["speakers"] == 2
    reference = [line.split() for line in (AUDIO / "ami_debug" / "debug.development.rttm").read_text().splitlines()
                 if line.split()[1] == "dev00"]
    frames = np.arange(0, 30, 0.05)
    ref = [{r[7] for r in reference if float(r[3]) <= t < float(r[3]) + float(r[4])} for t in frames]
    hyp = [{s["speaker_label"] for s in labels["segments"] if float(s["start_time"]) <= t < float(s["end_time"])}
           for t in frames]
    people, speakers = sorted({r[7] for r in reference}), sorted({s["speaker_label"] for s in labels["segments"]})
    single = [(r, h) for r, h in zip(ref, hyp) if len(r) == 1]
    best = max(sum(len(h) == 1 and mapping.get(next(iter(h))) in r for r, h in single)
               for mapping in (dict(zip(perm, people)) for perm in itertools.permutations(speakers)))
    assert best / len(single) >= 0.8  # one-speaker speech given to the right speaker
    speech = sum(bool(r) for r in ref)
    assert sum(bool(h) for h, r in zip(hyp, ref) if r) / speech >= 0.8  # speech is covered by segments
    for seg in labels["segments"]:
        assert {it["speaker_label"] for it in seg["items"]} <= {seg["speaker_label"]}
    # MaxSpeakerLabels is an upper bound (AWS's minimum is 2): tst00 has four people
    _, capped = run(engine, "speakers-meeting-2", AUDIO / "ami_debug" / "tst00.wav", Type="CONVERSATION",
                    Settings={"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2})
    assert capped["speaker_labels"]["speakers"] == 2
    assert {i["speaker_label"] for i in capped["items"]} <= {"spk_0", "spk_1"}
