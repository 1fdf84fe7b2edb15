"""Real n-best alternatives (AWS ``ShowAlternatives``) from the Whisper beam search.

faster-whisper only keeps the best hypothesis, so each transcript segment is decoded
again with CTranslate2's ``WhisperModel.generate(..., num_hypotheses=n,
return_scores=True)`` on that segment's audio alone.  Word times of every hypothesis
come from faster-whisper's cross-attention alignment (``find_alignment``, the same
DTW the main transcript's ``word_timestamps=True`` uses), not from a proportional
split of the segment.

This relies on faster-whisper INTERNALS: ``model.model`` (the ctranslate2 model),
``model.feature_extractor``, ``model.hf_tokenizer``, ``model.get_prompt``,
``model.encode``, ``model.find_alignment``, ``faster_whisper.audio.pad_or_trim``,
``faster_whisper.transcribe.get_suppressed_tokens`` / ``merge_punctuations`` and
``faster_whisper.tokenizer.Tokenizer``.  They are not a public API: faster-whisper is
pinned (pyproject: ``faster-whisper>=1.2.1,<1.3``; checked on 1.2.1,
``TESTED_FASTER_WHISPER``) and tests/test_alternatives.py checks the version and
exercises every internal used here on real speech.
"""

from __future__ import annotations

import math
import re
import string

import numpy as np

from .asr import english_tokenizer

__all__ = ["TESTED_FASTER_WHISPER", "segment_alternatives", "normalise"]

TESTED_FASTER_WHISPER = "1.2.1"
SAMPLE_RATE = 16000
# Same punctuation sets as faster-whisper's transcribe() defaults.
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"
# Trailing characters split into punctuation items (as the main transcript does).
_ITEM_PUNCTUATION = ".,!?;:…"


def normalise(text: str) -> str:
    """Case- and punctuation-insensitive form used for de-duplication and comparison."""
    text = text.lower().replace("’", "'")
    text = "".join(" " if ch in string.punctuation and ch != "'" else ch for ch in text)
    text = text.replace("'", "")
    return " ".join(text.split())


def segment_alternatives(
    model,
    audio: np.ndarray,
    segments: list[tuple[float, float]],
    max_alternatives: int,
    *,
    beam_size: int = 5,
    hotwords: str | None = None,
) -> list[list[dict]]:
    """N-best alternatives for each (start, end) segment of a transcript.

    ``model`` is the engine's loaded ``faster_whisper.WhisperModel``; ``audio`` mono
    float32 at 16 kHz.  For each segment: up to ``max_alternatives`` dicts
    ``{"transcript", "confidence", "items"}``, sorted by descending confidence and
    de-duplicated after normalising case and punctuation (fewer when fewer distinct
    hypotheses exist).  Items are internal items with absolute times.
    """
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.transcribe import get_suppressed_tokens

    if max_alternatives < 1:
        raise ValueError("max_alternatives must be at least 1")
    tokenizer = english_tokenizer(model)
    suppress = list(get_suppressed_tokens(tokenizer, [-1]))
    # Decode without timestamp tokens: the prompt is <|startofprev|> hotwords
    # <|startoftranscript|> <|notimestamps|>, like the main pass with hotwords.
    prompt = model.get_prompt(tokenizer, [], without_timestamps=True, hotwords=hotwords)
    # Ask for more hypotheses than needed: many differ only in case or punctuation.
    n_hyp = 2 * max_alternatives + 2
    beam = max(beam_size, n_hyp)  # ctranslate2 needs num_hypotheses <= beam_size

    results: list[list[dict]] = []
    for seg_start, seg_end in segments:
        lo = max(0, int(round(seg_start * SAMPLE_RATE)))
        hi = min(len(audio), int(round(seg_end * SAMPLE_RATE)))
        chunk = np.ascontiguousarray(audio[lo:hi], dtype=np.float32)
        if hi - lo < SAMPLE_RATE // 50:  # < 20 ms: nothing to decode
            results.append([])
            continue
        features = model.feature_extractor(chunk)
        # Whisper sees 30 s at most: a longer segment is decoded from its first 30 s
        # (faster-whisper's own segments never exceed one window).
        num_frames = min(features.shape[-1], model.feature_extractor.nb_max_frames)
        hi = min(hi, lo + num_frames * model.feature_extractor.hop_length)
        encoder_output = model.encode(pad_or_trim(features))

        generated = model.model.generate(
            encoder_output,
            [prompt],
            beam_size=beam,
            num_hypotheses=n_hyp,
            return_scores=True,
            length_penalty=1.0,
            max_length=model.max_length,
            suppress_blank=True,
            suppress_tokens=suppress,
        )[0]

        alternatives: list[dict] = []
        seen: set[str] = set()
        for tokens, score in zip(generated.sequences_ids, generated.scores):
            tokens = [t for t in tokens if t < tokenizer.eot]
            text = tokenizer.decode(tokens).strip()
            key = normalise(text)
            if not key or key in seen:
                continue
            seen.add(key)
            # ctranslate2's score is the sum of log-probs / len**length_penalty; turn it
            # into faster-whisper's avg_logprob (the end token counted) and exponentiate.
            avg_logprob = score * len(tokens) / (len(tokens) + 1)
            items = _word_items(model, tokenizer, tokens, encoder_output, num_frames,
                                seg_start, seg_start + (hi - lo) / SAMPLE_RATE)
            alternatives.append({
                "transcript": text,
                "confidence": round(math.exp(avg_logprob), 4),
                "items": items,
            })
        alternatives.sort(key=lambda a: a["confidence"], reverse=True)
        results.append(alternatives[:max_alternatives])
    return results


def _word_items(model, tokenizer, tokens, encoder_output, num_frames, offset, limit):
    """Internal items for one hypothesis, times from the cross-attention alignment."""
    from faster_whisper.transcribe import merge_punctuations

    if not tokens:
        return []
    alignment = model.find_alignment(tokenizer, [tokens], encoder_output, num_frames)[0]
    merge_punctuations(alignment, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS)
    items: list[dict] = []
    last_end = offset
    for word in alignment:
        text = word["word"].strip()
        if not text:
            continue
        body = text.lstrip(PREPEND_PUNCTUATIONS)
        trailing = ""
        while body and body[-1] in APPEND_PUNCTUATIONS:
            trailing = body[-1] + trailing
            body = body[:-1]
        if body:
            start = min(max(offset + float(word["start"]), last_end), limit)
            end = min(max(offset + float(word["end"]), start), limit)
            last_end = end
            items.append({
                "type": "pronunciation",
                "content": body,
                "confidence": round(float(word["probability"]), 4),
                "start": round(start, 3),
                "end": round(end, 3),
            })
        for ch in re.sub(r"[\"'“”)\]}]", "", trailing):
            if ch in _ITEM_PUNCTUATION or ch in "。，！？：、":
                items.append({"type": "punctuation", "content": ch, "confidence": 0.0})
    return items
