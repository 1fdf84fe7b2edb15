"""What a medical transcription job computes, from decoded audio to the transcript JSON.

Qt-free and queue-free: the worker calls :func:`transcribe_job`; benchmarks and
tests can call it directly. Each Settings feature is one step:

- ChannelIdentification: each channel transcribed on its own; items of all channels in
  time order (as AWS interleaves them), one audio segment per run of one channel;
- VocabularyName: the terms become hot words, runs that sound like a term are checked
  against the audio (app/local/termcheck.py), and matches are rewritten as DisplayAs;
- ShowSpeakerLabels: offline diarization of the mix, a speaker for every item, speaker
  segments that follow the diarizer's turns;
- ShowAlternatives: the beam's other hypotheses for every segment, the first being the
  transcript itself (app/local/alternatives.py);
- ContentIdentificationType=PHI: PHI entities found in the words;
- Type=DICTATION with the voice_commands setting: spoken commands ("period", "new paragraph",
  "scratch that", "next field"...) applied to the items before PHI, segments and the text are
  built (app/live/commands.py); with a template (tag ``clinscribe:template``) the dictation is
  sorted into its sections, listed in ``results.sections``; breaks and bullets in ``results.layout``.

Speech the decoder could not turn into words even on a second, focused pass is listed in
``results.untranscribed_speech`` (a ClinScribe extension: start and end times, and the
channel), so nothing is dropped silently.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from ..core import transcript
from . import asr
from .media import mixdown

LOCAL_ACCOUNT_ID = "000000000000"


def _order(items: list[dict]) -> list[dict]:
    """Items in time order across channels; punctuation stays right after its word."""
    keyed, start = [], 0.0
    for n, item in enumerate(items):
        if item["type"] == "pronunciation":
            start = item["start"]
        keyed.append((start, item.get("channel", 0), n, item))
    return [k[-1] for k in sorted(keyed, key=lambda k: k[:3])]


def _groups(items: list[dict]) -> list[list[int]]:
    """Audio segments: maximal runs of one decoded segment, channel and speaker."""
    groups: list[list[int]] = []
    key = None
    for index, item in enumerate(items):
        here = (item["_segment"], item.get("channel"), item.get("speaker"))
        if groups and (item["type"] == "punctuation" or here == key):
            groups[-1].append(index)
        else:
            groups.append([index])
            key = here
    return groups


def transcribe_job(request: dict, channels: list[np.ndarray], model, *,
                   decode: asr.DecodeOptions | None = None,
                   progress: Callable[[float], None] | None = None,
                   account_id: str = LOCAL_ACCOUNT_ID,
                   vocabulary_text: str | None = None,
                   decoded: list | None = None,
                   voice_commands: bool = True, template: dict | None = None) -> dict:
    """The AWS transcript document for ``request`` over the decoded ``channels``. ``decoded``: the
    speech already decoded, one Transcription per source (live dictation), instead of decoding here."""
    settings = request.get("Settings") or {}
    decode = decode or asr.DecodeOptions()
    vocabulary = None
    if vocabulary_text:
        from .vocabulary import parse_vocabulary_file

        vocabulary = parse_vocabulary_file(vocabulary_text.encode("utf-8"))
        decode = dataclasses.replace(decode, hotwords=vocabulary.hotwords())
    if settings.get("ShowAlternatives"):
        decode = dataclasses.replace(decode, max_alternatives=settings["MaxAlternatives"])

    by_channel = bool(settings.get("ChannelIdentification"))
    mix = mixdown(channels)
    sources = list(enumerate(channels)) if by_channel else [(None, mix)]
    items: list[dict] = []
    alternative_segments: list[dict] = []
    untranscribed: list[dict] = []
    segment_count = 0
    # with a vocabulary, the term check takes about a sixth of a channel's time
    share = 0.85 if vocabulary is not None else 1.0
    for n, (channel, audio) in enumerate(sources):
        def part(fraction: float, n=n) -> None:
            if progress:
                progress((n + share * fraction) / len(sources))

        done = decoded[n] if decoded is not None else asr.transcribe_full(model, audio, decode, part)
        segments = done.segments
        if vocabulary is not None:
            from .termcheck import check_terms

            segments = check_terms(model, audio, segments, vocabulary)
            part(1.0 / share)
        labels = {} if channel is None else {"channel": channel}
        for segment in segments:
            run = transcript.segment_items(segment, **labels)
            if vocabulary is not None:
                run = vocabulary.apply(run)
            if not any(i["type"] == "pronunciation" for i in run):
                continue
            segment_count += 1
            items.extend({**i, "_segment": segment_count} for i in run)
            if settings.get("ShowAlternatives"):
                from .alternatives import alternative_segment

                entry = alternative_segment(segment, run, settings["MaxAlternatives"], channel=channel,
                                            rewrite=vocabulary.apply if vocabulary is not None else None)
                if entry:
                    alternative_segments.append(entry)
        untranscribed.extend({"start_time": transcript.fmt_time(u.start), "end_time": transcript.fmt_time(u.end),
                              **({} if channel is None else {"channel_label": f"ch_{channel}"})}
                             for u in done.uncovered)

    turns = None
    if settings.get("ShowSpeakerLabels"):
        from .diarize import diarize, speaker_at

        turns = diarize(mix, max_speakers=settings["MaxSpeakerLabels"])
        speaker = 0
        for item in items:
            if item["type"] == "pronunciation":
                speaker = speaker_at(turns, item["start"], item["end"])
            item["speaker"] = speaker  # punctuation takes its word's speaker

    items = _order(items)
    commands = None
    if voice_commands and request.get("Type") == "DICTATION":
        from ..live.commands import apply_commands
        from ..live.templates import Template

        sections = Template.from_dict(template).sections if template else None
        commands = apply_commands(items, sections)
        items = commands.items
        alternative_segments = _commands_in_alternatives(alternative_segments, sections)
    groups = _groups(items)
    for item in items:
        del item["_segment"]

    extra: dict = {}
    if turns is not None:
        extra["speaker_labels"] = transcript.speaker_labels(items, turns)
    if by_channel:
        extra["channel_labels"] = transcript.channel_labels(items, len(channels))
    if settings.get("ShowAlternatives"):
        extra["segments"] = sorted(alternative_segments, key=lambda s: (float(s["start_time"]),
                                                                        s.get("channel_label", "")))
    if request.get("ContentIdentificationType") == "PHI":
        from .phi import detect_phi

        words = [{"content": i["content"], "start": i["start"], "end": i["end"], "confidence": i["confidence"]}
                 for i in items if i["type"] == "pronunciation"]
        extra["entities"] = detect_phi(words)
    if untranscribed:
        extra["untranscribed_speech"] = sorted(untranscribed, key=lambda u: float(u["start_time"]))
    if commands is not None:
        if commands.layout:
            extra["layout"] = commands.layout
        if template:
            extra["template"] = {"id": template.get("id", ""), "name": template.get("name", "")}
            extra["sections"] = commands.sections
    doc = transcript.build(request["MedicalTranscriptionJobName"], account_id, items, groups, extra)
    if commands is not None:  # the text with its breaks, "(" glued to the word after it
        from ..live.commands import layout_text

        results = doc["results"]
        results["transcripts"][0]["transcript"] = layout_text(items, commands.layout)
        for segment, group in zip(results["audio_segments"], groups):
            segment["transcript"] = layout_text([items[i] for i in group])
    return doc


def _commands_in_alternatives(entries: list[dict], sections=None) -> list[dict]:
    """results.segments with the voice commands applied to every alternative, as to the items."""
    from ..live.commands import apply_commands, layout_text

    out = []
    for entry in entries:
        alternatives = []
        for alt in entry["alternatives"]:
            raw = [{"type": i["type"], "content": i["content"], "confidence": float(i["confidence"]),
                    **({"start": float(i["start_time"]), "end": float(i["end_time"])}
                       if i["type"] == "pronunciation" else {})} for i in alt["items"]]
            done = apply_commands(raw, sections).items
            if not any(i["type"] == "pronunciation" for i in done):
                continue
            alternatives.append({"transcript": layout_text(done), "items": [
                {**({"start_time": transcript.fmt_time(i["start"]), "end_time": transcript.fmt_time(i["end"])}
                    if i["type"] == "pronunciation" else {}),
                 "confidence": transcript.fmt_confidence(i["confidence"]) if i["type"] == "pronunciation" else "0.0",
                 "content": i["content"], "type": i["type"]} for i in done]})
        if alternatives:
            out.append({**entry, "alternatives": alternatives})
    return out
