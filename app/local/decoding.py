"""Batched Whisper decoding that loses no speech, with the beam's n-best and honest word times.

faster-whisper's ``BatchedInferencePipeline`` decodes each VAD chunk once and keeps what
the decoder wrote before its end-of-text token, so a sentence after a pause can vanish
(SYSTRAN/faster-whisper#1179). This module decodes the same way (Silero VAD, chunks of
speech up to 30 s, one batched beam search) and then makes sure of three things:

1. **Coverage.** Every stretch the VAD marks as speech (>= ``MIN_SPEECH_S``) that has no
   words after the first pass (a whole region, or a hole of >= ``MIN_HOLE_S`` inside one)
   is decoded again on its own — short audio, so the decoder has nothing to stop early
   for. What that pass finds is kept with its own times and confidences; what it cannot
   transcribe is returned as an :class:`Uncovered` stretch, so the job can say so.
2. **One decoding.** The beam search returns ``num_hypotheses`` sequences: the best is the
   transcript, the others are that segment's alternatives (aligned on the same encoder
   output), so alternatives and transcript cannot disagree.
3. **Word times inside speech.** Times come from faster-whisper's cross-attention
   alignment; each word is mapped back into the stretch of speech it lies in, then
   ``app/local/wordtimes.py`` trims it of leading and trailing non-speech (Silero frame
   probabilities from ``app/local/vad.py``), gives it a positive duration and keeps it in order.

It uses faster-whisper internals (``model.model.generate``/``align``, ``encode``,
``feature_extractor``, ``get_prompt``, ``add_word_timestamps``); faster-whisper is pinned
(``>=1.2.1,<1.3``) and tests cover them on real speech.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .vad import SAMPLE_RATE, speech_probabilities, speech_regions, voiced
from .wordtimes import fix_word_times

TESTED_FASTER_WHISPER = "1.2.1"        # the internals below were checked on this version
CPU_BATCH = 3                         # each chunk in a batch holds ~90 MB of beam cache (tiny.en, beam 5):
GPU_BATCH = 16                        # 3 keeps a CPU job under 700 MB and as fast as 4 here
MAX_HYPOTHESES = 12                   # the widest beam asked for alternatives
MAX_CHUNK_S = 30.0                    # Whisper's window
ISLAND_GAP_S = 0.05                   # regions closer than this are one stretch of speech
MIN_VOICED_S = 0.2                    # a hole needs this much voiced audio to be worth decoding again
MIN_SPEECH_S = 0.3                    # shorter VAD regions are not checked for coverage
MIN_HOLE_S = 2.5                      # a hole between two words this long is re-decoded
MIN_TAIL_S = 1.0                      # speech this long after a chunk's last word is re-decoded
SPLIT_PAUSE_S = 2.0                   # a segment is cut where its words leave this long a pause
MAX_WORD_S = 2.0                      # an aligned word longer than this soaked up speech after it...
DIGIT_S = 0.5                         # ...plus this per digit ("0770090456." is one word, read digit by digit)
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class Hypothesis:
    """One sequence of the beam: text, its average log-probability and its aligned words."""
    text: str
    avg_logprob: float
    words: list[Word] = field(default_factory=list)


@dataclass
class Segment:
    """A decoded chunk of speech; ``alternatives`` are the beam's other hypotheses."""
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    alternatives: list[Hypothesis] = field(default_factory=list)


@dataclass(frozen=True)
class Uncovered:
    """A stretch of detected speech that no decoding pass could turn into words."""
    start: float
    end: float


@dataclass
class Transcription:
    segments: list[Segment]
    uncovered: list[Uncovered]
    speech: list[tuple[float, float]]   # the VAD's speech regions, seconds


@dataclass
class _Chunk:
    regions: list[tuple[int, int]]     # (start, end) samples in the original audio

    @property
    def samples(self) -> int:
        return sum(e - s for s, e in self.regions)

    def audio(self, audio: np.ndarray) -> np.ndarray:
        return np.concatenate([audio[s:e] for s, e in self.regions]).astype(np.float32, copy=False)

    @functools.cached_property
    def islands(self) -> list[tuple[float, float]]:
        """The regions' extent in seconds, regions that touch (the VAD split them at a short
        dip) joined: a word may cross between touching regions, never across a silence."""
        out: list[list[float]] = []
        for s, e in self.regions:
            if out and s / SAMPLE_RATE - out[-1][1] <= ISLAND_GAP_S:
                out[-1][1] = e / SAMPLE_RATE
            else:
                out.append([s / SAMPLE_RATE, e / SAMPLE_RATE])
        return [(a, b) for a, b in out]

    def to_original(self, t: float) -> tuple[float, int]:
        """Chunk-local seconds → (original seconds, index of the region it falls in)."""
        sample = t * SAMPLE_RATE
        before = 0
        for k, (s, e) in enumerate(self.regions):
            if sample < before + (e - s) or k == len(self.regions) - 1:
                return (s + min(max(sample - before, 0), e - s)) / SAMPLE_RATE, k
            before += e - s
        raise AssertionError("unreachable")


def make_chunks(regions: list[tuple[int, int]], max_s: float = MAX_CHUNK_S) -> list[_Chunk]:
    """Consecutive speech regions joined into chunks of at most ``max_s`` seconds of speech."""
    chunks: list[_Chunk] = []
    limit = int(max_s * SAMPLE_RATE)
    for start, end in regions:
        while end - start > limit:  # the VAD caps regions at 30 s; be safe anyway
            chunks.append(_Chunk([(start, start + limit)]))
            start += limit
        if chunks and chunks[-1].samples + (end - start) <= limit:
            chunks[-1].regions.append((start, end))
        else:
            chunks.append(_Chunk([(start, end)]))
    return chunks


SHORT_WINDOW_S = 15.0      # a short encoder window is this wide at least (seconds)...
SHORT_WINDOW_PAD_S = 3.0   # ...and has this much silence after the longest chunk in it


class Cancelled(Exception):
    """A decode given ``cancel`` stopped after its encoder (native decoding cannot be interrupted)."""


class Decoder:
    """Decodes chunks of one audio signal in batches with one beam search per chunk."""

    def __init__(self, model, tokenizer, *, beam_size: int = 5, batch_size: int = 0,
                 num_hypotheses: int = 1, hotwords: str | None = None, initial_prompt: str | None = None,
                 cancel: Callable[[], bool] | None = None, short_window: bool = False):
        from faster_whisper.transcribe import get_suppressed_tokens

        self.model = model
        self.cancel = cancel   # asked after the encoder (a third of a pass): True stops with Cancelled
        self.short_window = short_window   # see transcribe()
        self.tokenizer = tokenizer
        self.num_hypotheses = max(1, num_hypotheses)
        self.beam_size = max(beam_size, self.num_hypotheses)
        if batch_size <= 0:
            batch_size = GPU_BATCH if getattr(model.model, "device", "cpu") == "cuda" else CPU_BATCH
        # the beam cache grows with the beam: a wider beam (many alternatives) gets smaller batches
        self.batch_size = max(1, batch_size * beam_size // self.beam_size)
        previous = tokenizer.encode(" " + initial_prompt.strip()) if initial_prompt else []
        self.prompt = model.get_prompt(tokenizer, previous, without_timestamps=True, hotwords=hotwords)
        self.suppress = list(get_suppressed_tokens(tokenizer, [-1]))

    def decode(self, audio: np.ndarray, chunks: list[_Chunk],
               progress: Callable[[int], None] | None = None) -> list[Segment | None]:
        """One segment per chunk (None where the decoder wrote nothing or judged it no speech)."""
        out: list[Segment | None] = []
        for i in range(0, len(chunks), self.batch_size):
            out.extend(self._batch(audio, chunks[i:i + self.batch_size]))
            if progress:
                progress(len(out))
        return out

    def _batch(self, audio: np.ndarray, chunks: list[_Chunk]) -> list[Segment | None]:
        from faster_whisper.audio import pad_or_trim

        model, tokenizer = self.model, self.tokenizer
        extractor = model.feature_extractor
        features = [extractor(chunk.audio(audio))[..., :-1] for chunk in chunks]
        frames = [min(f.shape[-1], extractor.nb_max_frames) for f in features]
        width = extractor.nb_max_frames
        if self.short_window:   # the encoder hears the chunks and some silence, not a whole 30 s window
            fps = model.frames_per_second
            width = min(width, max(int(SHORT_WINDOW_S * fps), max(frames) + int(SHORT_WINDOW_PAD_S * fps)))
        encoder_output = model.encode(np.stack([pad_or_trim(f, width) for f in features]))
        self._check()
        results = model.model.generate(
            encoder_output, [list(self.prompt) for _ in chunks],
            beam_size=self.beam_size, patience=1.0, length_penalty=1.0,
            num_hypotheses=self.num_hypotheses, max_length=model.max_length,
            suppress_blank=True, suppress_tokens=self.suppress,
            return_scores=True, return_no_speech_prob=True)
        hypotheses = []  # per chunk: [(tokens, avg_logprob)], best first
        for result in results:
            hyps = []
            for tokens, score in zip(result.sequences_ids, result.scores):
                tokens = [t for t in tokens if t < tokenizer.eot]
                hyps.append((tokens, score * len(tokens) / (len(tokens) + 1)))
            hypotheses.append(hyps)

        best_words = self._best_words(chunks, hypotheses, encoder_output, frames)
        other_words = self._other_words(hypotheses, encoder_output, frames)
        segments: list[Segment | None] = []
        for c, (chunk, result, hyps) in enumerate(zip(chunks, results, hypotheses)):
            tokens, avg_logprob = hyps[0]
            text = tokenizer.decode(tokens).strip()
            if not text or _no_speech(result.no_speech_prob, avg_logprob) or _repetitive(text):
                segments.append(None)
                continue
            words = [w for w in (self._place(chunk, w) for w in best_words[c]) if w]
            if not words:
                segments.append(None)
                continue
            alternatives = []
            for r, (alt_tokens, alt_logprob) in enumerate(hyps[1:], start=1):
                alt_text = tokenizer.decode(alt_tokens).strip()
                if alt_text:
                    placed = [w for w in (self._place(chunk, w) for w in other_words[r][c]) if w]
                    alternatives.append(Hypothesis(alt_text, alt_logprob, placed))
            segments.append(Segment(words[0].start, words[-1].end, text, words, avg_logprob, alternatives))
        return segments

    def _check(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled()

    def _best_words(self, chunks, hypotheses, encoder_output, frames) -> list[list[dict]]:
        """Word timings of each chunk's best hypothesis, with faster-whisper's own heuristics."""
        fps = self.model.frames_per_second
        segmented = [[{"tokens": hyps[0][0], "start": 0.0, "end": chunk.samples / SAMPLE_RATE, "seek": 0}]
                     for chunk, hyps in zip(chunks, hypotheses)]
        sizes = [int(math.ceil(chunk.samples / SAMPLE_RATE) * fps) for chunk in chunks]
        sizes = [min(size, f) for size, f in zip(sizes, frames)]
        self.model.add_word_timestamps(segmented, self.tokenizer, encoder_output, sizes,
                                       PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS, 0.0)
        return [seg[0].get("words", []) for seg in segmented]

    def _other_words(self, hypotheses, encoder_output, frames) -> dict[int, list[list[dict]]]:
        """Word timings of the other hypotheses: one batched alignment per rank."""
        from faster_whisper.transcribe import merge_punctuations

        out: dict[int, list[list[dict]]] = {}
        ranks = max(len(h) for h in hypotheses)
        for r in range(1, ranks):
            tokens = [(h[r] if r < len(h) else h[0])[0] for h in hypotheses]
            if not any(tokens):
                out[r] = [[] for _ in hypotheses]
                continue
            aligned = self.model.find_alignment(self.tokenizer, tokens, encoder_output, frames)
            for alignment in aligned:
                merge_punctuations(alignment, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS)
            out[r] = [[w for w in a if w["word"]] for a in aligned] + [[] for _ in range(len(tokens) - len(aligned))]
        return out

    @staticmethod
    def _place(chunk: _Chunk, word: dict) -> Word | None:
        """A word's chunk-local times → original times, inside the stretch of speech its middle lies in."""
        if not word["word"].strip():
            return None
        start, _ = chunk.to_original(word["start"])
        end, _ = chunk.to_original(word["end"])
        if word["end"] - word["start"] > longest_word(word["word"]):
            # the last word of a decoder that ended early takes all the audio after it in the alignment
            # (day1_consultation01: "days." over 7 s of the next sentence, so no hole was seen there):
            # its start holds; the speech after it is left uncovered for the second pass
            lo, hi = next((a, b) for a, b in chunk.islands if start <= b + 1e-9)
            end = min(hi, start + longest_word(word["word"]))
            return Word(float(start), float(end), word["word"], float(word["probability"]))
        middle, _ = chunk.to_original((word["start"] + word["end"]) / 2)
        lo, hi = next((a, b) for a, b in chunk.islands if middle <= b + 1e-9)
        start, end = min(max(start, lo), middle), max(min(end, hi), middle)
        return Word(float(start), float(end), word["word"], float(word["probability"]))


def longest_word(text: str) -> float:
    """The longest a word can take to say (seconds): a phone number is one word of many digits."""
    return MAX_WORD_S + DIGIT_S * sum(c.isdigit() for c in text)


def _no_speech(no_speech_prob: float, avg_logprob: float) -> bool:
    """faster-whisper's sequential rule: the decoder itself judged the chunk silent."""
    return no_speech_prob > 0.6 and avg_logprob < -1.0


def _repetitive(text: str) -> bool:
    """A looping hypothesis ("the the the ..."), faster-whisper's compression-ratio rule."""
    data = text.encode("utf-8")
    return len(data) > 20 and len(data) / len(zlib.compress(data)) > 2.4


# --------------------------------------------------------------------------- coverage


def chunk_holes(chunk: _Chunk, segment: Segment | None, probs: np.ndarray,
                threshold: float = 0.5) -> list[tuple[float, float]]:
    """Speech of a decoded chunk that no word covers (seconds).

    A stretch of speech (touching regions joined) with no words is a hole whatever its length; so is the speech after the
    chunk's last word (where a decoder that ended early stopped) from ``MIN_TAIL_S``;
    between two words a hole must last ``MIN_HOLE_S`` (shorter ones are the alignment's
    slack, not missing words). Each must hold ``MIN_VOICED_S`` of voiced frames.
    """
    words = segment.words if segment else []
    last = words[-1].end if words else -math.inf
    holes = []
    for s, e in chunk.regions:  # a region no word reaches
        lo, hi = s / SAMPLE_RATE, e / SAMPLE_RATE
        if not any(w.end > lo and w.start < hi for w in words):
            holes.append((lo, hi))
    for lo, hi in chunk.islands:  # long gaps between the words of one stretch of speech
        inside = [w for w in words if w.end > lo and w.start < hi]
        cursor = lo
        for w in (inside + [Word(hi, hi, "", 0.0)]) if inside else []:
            tail = cursor >= last - 1e-6
            if w.start - cursor >= (MIN_TAIL_S if tail else MIN_HOLE_S):
                holes.append((cursor, w.start))
            cursor = max(cursor, w.end)
    merged: list[list[float]] = []
    for lo, hi in sorted(holes):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    holes = [(a, b) for a, b in merged]
    # voiced: above Silero's own "still speech" level (threshold - 0.15), as the VAD measures a region
    return [h for h in holes if voiced(h, probs, max(threshold - 0.15, 0.01)) >= MIN_VOICED_S]


def split_at_pauses(segment: Segment, pause: float = None) -> list[Segment]:
    """A decoded chunk cut where its words leave a long pause (the VAD joined speech
    across it); each hypothesis is cut at the same instants, so alternatives stay aligned."""
    pause = SPLIT_PAUSE_S if pause is None else pause
    words = segment.words
    cuts = [(a.end + b.start) / 2 for a, b in zip(words, words[1:]) if b.start - a.end >= pause]
    if not cuts:
        return [segment]
    bounds = [-math.inf, *cuts, math.inf]

    def part(ws: list[Word], lo: float, hi: float) -> list[Word]:
        return [w for w in ws if lo <= (w.start + w.end) / 2 < hi]

    pieces = []
    for lo, hi in zip(bounds, bounds[1:]):
        mine = part(words, lo, hi)
        alternatives = [Hypothesis(_text(part(h.words, lo, hi)), h.avg_logprob, part(h.words, lo, hi))
                        for h in segment.alternatives]
        pieces.append(Segment(mine[0].start, mine[-1].end, _text(mine), mine, segment.avg_logprob,
                              [h for h in alternatives if h.words]))
    return pieces


def _text(words: list[Word]) -> str:
    return "".join(w.word for w in words).strip()


# --------------------------------------------------------------------------- the whole pass


RELEASE_AFTER_SECONDS = 120  # shorter media: the collection costs more (~30 ms a job) than it frees


def _release_memory() -> None:
    """Hand memory freed by decoding the media back to the OS before the beam cache is built
    (glibc keeps freed blocks; on a 2-core laptop this is the difference of ~20 MB at peak)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (Windows, macOS, musl): nothing to do
        pass


def _heard(hole: tuple[float, float], heard_from: float) -> bool:
    """Whether a stretch of speech without words is decoded again: not when it lies in the lead-in, or
    leaves it by less than MIN_SPEECH_S (a hole of 0.4-3.04 s with a 3 s lead-in is the lead-in's)."""
    lo, hi = hole
    return hi > heard_from and (not heard_from or hi - max(lo, heard_from) >= MIN_SPEECH_S)


def transcribe(model, audio: np.ndarray, *, beam_size: int = 5, batch_size: int = 0,
               max_alternatives: int = 0, hotwords: str | None = None,
               initial_prompt: str | None = None, vad_threshold: float = 0.5,
               progress: Callable[[float], None] | None = None,
               cancel: Callable[[], bool] | None = None, heard_from: float = 0.0,
               short_window: bool = False) -> Transcription:
    """Decode 16 kHz mono ``audio``: segments in time order, and what could not be transcribed.
    ``cancel``: asked after each encoder pass; True raises :class:`Cancelled`.
    ``heard_from``: seconds of lead-in whose words the caller drops: speech left without words there
    is not decoded again (the second pass costs a whole encoder pass).
    ``short_window``: the encoder hears each batch in a window of SHORT_WINDOW_S or of its longest chunk
    and SHORT_WINDOW_PAD_S of silence, not Whisper's 30 s (tiny.en's encoder: 0.05 s for 15 s on 2 cores,
    0.2 s for 30 s). For a live chunk's final pass (Stop waits for one); a job keeps 30 s windows: with
    windows of its longest chunk and 3 s (no 15 s floor) it lost 12 of bench/fidelity_eval.py's 570
    sentences, not 9."""
    from .asr import english_tokenizer

    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if len(audio) > RELEASE_AFTER_SECONDS * SAMPLE_RATE:  # a long recording's decode left much behind
        _release_memory()
    tokenizer = english_tokenizer(model)
    # ask for more hypotheses than needed: many differ only in case or punctuation
    n_hyp = min(2 * max_alternatives + 2, MAX_HYPOTHESES) if max_alternatives else 1
    decoder = Decoder(model, tokenizer, beam_size=beam_size, batch_size=batch_size, num_hypotheses=n_hyp,
                      hotwords=hotwords, initial_prompt=initial_prompt, cancel=cancel,
                      short_window=short_window)
    probs = speech_probabilities(audio)
    regions = speech_regions(audio, vad_threshold, probs)
    chunks = make_chunks(regions)
    total = max(len(chunks), 1)

    def first(done: int) -> None:
        if progress:
            progress(0.9 * done / total)

    decoded = decoder.decode(audio, chunks, first)
    segments = [s for s in decoded if s]
    seconds = [(s / SAMPLE_RATE, e / SAMPLE_RATE) for s, e in regions]

    # second pass: every stretch of speech without words, decoded on its own
    holes = [h for chunk, seg in zip(chunks, decoded) for h in chunk_holes(chunk, seg, probs, vad_threshold)
             if _heard(h, heard_from)]
    uncovered: list[Uncovered] = []
    if holes:
        retry = [_Chunk([(int(lo * SAMPLE_RATE), int(hi * SAMPLE_RATE))]) for lo, hi in holes]
        for (lo, hi), found in zip(holes, decoder.decode(audio, retry)):
            if found:
                segments.append(found)
            else:
                uncovered.append(Uncovered(round(lo, 3), round(hi, 3)))
        uncovered = [u for u in uncovered if u.end - u.start >= MIN_SPEECH_S]

    # a chunk can span minutes of a conversation (its speech is at most 30 s): cut it at its
    # pauses, so words found by the second pass fall between the pieces, then fix the times
    # of all words in time order
    segments = sorted((piece for s in segments for piece in split_at_pauses(s)), key=lambda s: s.start)
    fix_word_times(sorted((w for s in segments for w in s.words), key=lambda w: w.start), probs)
    for s in segments:
        for alt in s.alternatives:
            fix_word_times(alt.words, probs)
        s.start, s.end = s.words[0].start, s.words[-1].end
    segments.sort(key=lambda s: s.start)
    if progress:
        progress(1.0)
    return Transcription(segments, uncovered, seconds)
