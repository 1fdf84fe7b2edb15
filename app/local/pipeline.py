"""What a medical transcription job computes, from decoded audio to the transcript JSON.

Qt-free and queue-free: the worker calls :func:`transcribe_job`; benchmarks and
tests can call it directly. Each Settings feature is one step:

- ChannelIdentification: each channel transcribed on its own, merged in time order;
- VocabularyName: the terms become hot words, runs that sound like a term are checked
  against the audio (app/termcheck.py), and matches are rewritten as DisplayAs;
- ShowSpeakerLabels: offline diarization of the mix, a speaker for every item;
- ShowAlternatives: n-best hypotheses from the decoder for every segment;
- ContentIdentificationType=PHI: PHI entities found in the words.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from .. import transcript
from . import asr
from .media import mixdown

LOCAL_ACCOUNT_ID = "000000000000"


def _split_by_speaker(run: list[dict]) -> list[list[dict]]:
    """Cut a segment's items where the speaker changes (punctuation stays with its word)."""
    out: list[list[dict]] = []
    for item in run:
        if out and (item["type"] == "punctuation" or item.get("speaker") == out[-1][-1].get("speaker")):
            out[-1].append(item)
        else:
            out.append([item])
    return out


def _start(run: list[dict]) -> float:
    return next(i["start"] for i in run if i["type"] == "pronunciation")


def transcribe_job(request: dict, channels: list[np.ndarray], model, *,
                   decode: asr.DecodeOptions | None = None,
                   progress: Callable[[float], None] | None = None,
                   account_id: str = LOCAL_ACCOUNT_ID,
                   vocabulary_text: str | None = None) -> dict:
    """The AWS transcript document for ``request`` over the decoded ``channels``."""
    settings = request.get("Settings") or {}
    decode = decode or asr.DecodeOptions()
    vocabulary = None
    if vocabulary_text:
        from .vocabulary import parse_vocabulary_file

        vocabulary = parse_vocabulary_file(vocabulary_text.encode("utf-8"))
        decode = dataclasses.replace(decode, hotwords=vocabulary.hotwords())

    by_channel = bool(settings.get("ChannelIdentification"))
    mix = mixdown(channels)
    sources = list(enumerate(channels)) if by_channel else [(None, mix)]
    runs: list[list[dict]] = []
    alternative_segments: list[tuple[float, dict]] = []
    # with a vocabulary, the term check takes about a sixth of a channel's time
    share = 0.85 if vocabulary is not None else 1.0
    for n, (channel, audio) in enumerate(sources):
        def part(fraction: float, n=n) -> None:
            if progress:
                progress((n + share * fraction) / len(sources))

        segments = asr.transcribe(model, audio, decode, part)
        if vocabulary is not None:
            from .termcheck import check_terms

            segments = check_terms(model, audio, segments, vocabulary)
            part(1.0 / share)
        labels = {} if channel is None else {"channel": channel}
        channel_runs = [transcript.segment_items(segment, **labels) for segment in segments]
        if vocabulary is not None:
            channel_runs = [vocabulary.apply(run) for run in channel_runs]
        runs.extend(channel_runs)
        if settings.get("ShowAlternatives"):
            from .alternatives import segment_alternatives

            spans = [(s.start, s.end) for s in segments]
            for (start, end), alts in zip(spans, segment_alternatives(
                    model, audio, spans, settings["MaxAlternatives"],
                    beam_size=max(decode.beam_size, 5), hotwords=decode.hotwords)):
                if vocabulary is not None:
                    alts = [{**alt, "items": vocabulary.apply(alt["items"])} for alt in alts]
                    alts = [{**alt, "transcript": transcript.text_of(alt["items"])} for alt in alts]
                if alts:
                    alternative_segments.append((start, transcript.alternative_segment(start, end, alts, channel)))

    if settings.get("ShowSpeakerLabels"):
        from .diarize import diarize, speaker_at

        turns = diarize(mix, max_speakers=settings["MaxSpeakerLabels"])
        for run in runs:
            for item in run:
                if item["type"] == "pronunciation":
                    speaker = speaker_at(turns, item["start"], item["end"])
                item["speaker"] = speaker  # punctuation takes its word's speaker
        runs = [piece for run in runs for piece in _split_by_speaker(run)]

    runs = [run for run in runs if any(i["type"] == "pronunciation" for i in run)]
    runs.sort(key=_start)  # channels interleave in time order
    items, groups = transcript.flatten(runs)

    extra: dict = {}
    if settings.get("ShowSpeakerLabels"):
        extra["speaker_labels"] = transcript.speaker_labels(items)
    if by_channel:
        extra["channel_labels"] = transcript.channel_labels(items, len(channels))
    if settings.get("ShowAlternatives"):
        extra["segments"] = [seg for _, seg in sorted(alternative_segments, key=lambda pair: pair[0])]
    if request.get("ContentIdentificationType") == "PHI":
        from .phi import detect_phi

        words = [{"content": i["content"], "start": i["start"], "end": i["end"], "confidence": i["confidence"]}
                 for i in items if i["type"] == "pronunciation"]
        extra["entities"] = detect_phi(words)
    return transcript.build(request["MedicalTranscriptionJobName"], account_id, items, groups, extra)
