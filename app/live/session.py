"""Live dictation: words while the clinician speaks, the final transcript the moment they stop.

Audio arrives in blocks (:meth:`LiveSession.feed`, from the recorder's thread). A background thread
re-decodes the *open chunk* — the audio since the last pause — about once a second with a fast
greedy pass; the words two passes agree on (LocalAgreement-2, as in whisper_streaming) are shown as
settled, the rest as tentative. When the voice-activity detector sees a pause (or the chunk grows
too long), the chunk is decoded once more with the job's full options (beam, alternatives, hot
words) and *closed*: its segments are final. At :meth:`stop`, only the open chunk's tail is left to
decode, so the final transcript is ready at once and goes through the same pipeline as a job; and
when the speaker pauses before Stop, that last pass was already decoded during the pause.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..local import asr, decoding
from ..local.vad import FRAME_S, speech_probabilities, speech_regions
from .closing import SHORT_PAUSE_S, last_pause, pause_end
from .finals import Final, lead_start, prompt_after, quiet_cut, same_end, shifted, words_before, words_from

SAMPLE_RATE = 16000
STEP_S = 0.75         # a greedy pass once this much new audio has come
PAUSE_S = 0.6         # silence after speech that closes the open chunk
MAX_CHUNK_S = 10.0    # longer, a chunk closes at its last pause, else after its settled words (Stop has little to do)
CONTEXT_S = 1.5      # audio after a cut inside speech that the final pass hears
LEAD_S = 6.0          # audio before a chunk that starts after a pause that its final pass hears (words dropped)
TAIL_S = 0.2          # silence kept after the last speech of a closed chunk
AHEAD_S = 0.3         # silence after speech from which Stop's final pass is done ahead, while the speaker pauses


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


@dataclass
class LiveWord:
    text: str
    start: float          # seconds from the start of the recording
    end: float
    settled: bool
    settled_at: float | None = None   # seconds of audio received when it settled (its delay behind speech)


@dataclass
class LiveState:
    words: list[LiveWord] = field(default_factory=list)

    @property
    def settled_text(self) -> str:
        return " ".join(w.text for w in self.words if w.settled)

    @property
    def tentative_text(self) -> str:
        return " ".join(w.text for w in self.words if not w.settled)


class LiveSession:
    def __init__(self, model, decode: asr.DecodeOptions | None = None, *,
                 on_update: Callable[[LiveState], None] | None = None, step: float = STEP_S,
                 pause: float = PAUSE_S, max_chunk: float = MAX_CHUNK_S,
                 short_pause: float | None = SHORT_PAUSE_S):
        self.model = model
        self.short_pause = short_pause   # None: a long chunk without a pause is cut inside speech
        self.decode = decode or asr.DecodeOptions()
        self.on_update = on_update
        self.step, self.pause, self.max_chunk = step, pause, max_chunk
        self._after_cut = False   # whether the open chunk starts where a chunk was cut inside speech
        self._blocks: list[np.ndarray] = []
        self._audio = np.zeros(0, dtype=np.float32)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.chunk_start = 0                       # samples: the open chunk starts here
        self.closed: list[decoding.Segment] = []   # final segments (recording times)
        self.closed_words: list[LiveWord] = []
        self.uncovered: list[decoding.Uncovered] = []          # speech no pass could turn into words
        self._previous: list[tuple[str, float, float]] = []   # the last greedy pass of the open chunk
        self._settled: list[LiveWord] = []                     # settled words of the open chunk
        self._tentative: list[LiveWord] = []
        self.passes = 0
        self.passes_cancelled = 0   # greedy passes Stop cut short (after their encoder)
        self.cuts_inside_speech = 0
        self._ahead: Final | None = None   # the open chunk's final pass, decoded while the speaker paused
        self.finals_ahead_used = 0         # how often stop() found its work done
        self.decoded_at_stop = False       # whether stop() had audio to decode
        self.passes_ahead = 0
        self.closes_ahead = 0       # chunks closed at a pause with the pass done ahead (not decoded again)
        self._paused = False   # the last pass found the speaker pausing (or silence only)
        self.error: BaseException | None = None
        self.stop_wait = self.stop_decode = 0.0   # seconds stop() waited for the pass in flight; decoded

    # -- input ---------------------------------------------------------------------
    def feed(self, samples: np.ndarray) -> None:
        """Mono float32 samples at 16 kHz (any block size); safe from any thread."""
        with self._lock:
            self._blocks.append(np.asarray(samples, dtype=np.float32).reshape(-1))
        self._wake.set()

    def _take(self) -> np.ndarray:
        with self._lock:
            if self._blocks:
                self._audio = np.concatenate([self._audio, *self._blocks])
                self._blocks = []
            return self._audio

    @property
    def received(self) -> float:
        with self._lock:
            return (len(self._audio) + sum(len(b) for b in self._blocks)) / SAMPLE_RATE

    # -- the background passes ------------------------------------------------------
    def start(self) -> "LiveSession":
        self._thread = threading.Thread(target=self._run, name="live-dictation", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        done = 0
        try:
            while not self._stopping:
                self._wake.wait(0.25)
                self._wake.clear()
                audio = self._take()
                if self._stopping:
                    break
                new = len(audio) - done
                # every STEP_S of audio, and as soon as the speaker seems to pause (Stop may come next)
                if new >= self.step * SAMPLE_RATE or (
                        not self._paused and new >= AHEAD_S * SAMPLE_RATE and self._quiet_tail(audio)):
                    done = len(audio)
                    self._pass(audio)
        except decoding.Cancelled:   # Stop came during a greedy pass (its words would be thrown away)
            self.passes_cancelled += 1
        except BaseException as exc:  # noqa: BLE001 - kept for stop(), which says so
            self.error = exc

    def _quiet_tail(self, audio: np.ndarray) -> bool:
        """Whether the VAD hears no speech in the last AHEAD_S of the recording (a quick look at its last
        second alone, ~2 ms)."""
        probs = speech_probabilities(audio[-SAMPLE_RATE:])
        return bool(len(probs)) and float(probs[-int(AHEAD_S / FRAME_S):].max()) < self.decode.vad_threshold

    def _pass(self, audio: np.ndarray) -> None:
        window = audio[self.chunk_start:]
        probs = speech_probabilities(window)
        regions = speech_regions(window, self.decode.vad_threshold, probs)
        now = len(window) / SAMPLE_RATE
        self._paused = False
        if not regions:
            if now > 2 * self.pause:   # silence only: the chunk moves on
                self.chunk_start += max(0, len(window) - int(self.pause * SAMPLE_RATE))
            self._paused = True   # nothing to do until speech comes
            return
        # at a pause after enough speech (a few words alone are heard worse than in their sentence), or
        # at a long pause: the first such pause in the open chunk, also one that speech after it has
        # already ended (passes come every STEP_S: one may only see a pause once speech resumed)
        end = pause_end(regions, now, self.pause)
        if end is not None:
            self._close(audio, end + int(TAIL_S * SAMPLE_RATE))
            self._publish()
            return
        # the same regions without their padding: where speech really ends, and short silences in it
        tight = speech_regions(window, self.decode.vad_threshold, probs, pad_ms=0)
        ahead, fresh = self._decode_ahead(audio, window, tight)
        if ahead is not None:   # the speaker pauses: Stop's final pass is done ahead of it
            self._paused = True
            if not fresh:       # nothing was said since the last pass: the final pass's words stand
                if self._tentative:
                    self._agree(window, audio, [(w.text, w.start, w.end) for w in ahead.words])
                    self._publish()
                return
            if now >= self.max_chunk:   # a long chunk closes at this pause, with that pass
                self._commit(ahead, audio)
                self._moved_to(ahead.stop, cut_inside=False)
                self._publish()
                return
            # the final pass is the second pass the greedy one is compared with
            self._agree(window, audio, [(w.text, w.start, w.end) for w in ahead.words])
            self._publish()
            return
        self._agree(window, audio)
        if self._stopping:   # stop() decodes the open chunk: closing part of it now would only delay it
            return
        quiet = last_pause(regions, tight, self.pause, self.short_pause, TAIL_S) if now >= self.max_chunk else None
        if quiet is not None:   # a long chunk: close it at its last pause rather than inside speech
            self._close(audio, quiet)
        elif now >= self.max_chunk and len(self._settled) >= 3:
            # close what two passes agree on: cut between the last settled word and the next one
            last = self._settled[-1].end
            nxt = self._tentative[0].start if self._tentative else last
            cut = (last + max(last, nxt)) / 2 - self.chunk_start / SAMPLE_RATE
            self._close(audio, int(cut * SAMPLE_RATE), keep_settled=True)
        self._publish()

    def _decode_ahead(self, audio: np.ndarray, window: np.ndarray,
                      tight: list[tuple[int, int]]) -> tuple[Final | None, bool]:
        """While the speaker pauses, do Stop's work ahead of it: the open chunk's final pass, which
        :meth:`stop` keeps if nothing was said after it (so the note is ready as Stop is pressed).
        Returns that pass (None while they speak) and whether it was decoded now; ``tight``: the VAD's
        regions in the open chunk without padding."""
        end = tight[-1][1] if tight else None
        if end is None or len(window) - end < AHEAD_S * SAMPLE_RATE:
            return None, False   # speaking (or only just quiet)
        if self._ahead_at(self.chunk_start + end):
            return self._ahead, False  # done already for this pause
        # up to the middle of the silence heard so far (at most TAIL_S + the VAD's padding after the speech):
        # a long chunk closed here leaves whatever is said next to the next chunk
        stop = self.chunk_start + min((end + len(window)) // 2, end + int((TAIL_S + 0.4) * SAMPLE_RATE))
        final = self._final(audio, self.chunk_start, stop)
        if final is None:
            return None, False
        self._ahead = dataclasses.replace(final, speech_end=self.chunk_start + end)
        self.passes_ahead += 1
        return self._ahead, True

    def _speech_end(self, window: np.ndarray) -> int | None:
        """Where the last speech in ``window`` ends (samples in it, without the VAD's padding)."""
        if len(window) == 0:
            return None
        tight = speech_regions(window, self.decode.vad_threshold, pad_ms=0)
        return tight[-1][1] if tight else None

    def _agree(self, window: np.ndarray, audio: np.ndarray, words: list[tuple[str, float, float]] | None = None) -> None:
        """A greedy pass over the open chunk (or the given words of another pass over it); words two
        passes agree on are settled (LocalAgreement-2)."""
        if words is None:
            # Stop does not wait for a greedy pass it would throw away: it ends after its encoder (_run)
            d = self.decode
            result = decoding.transcribe(self.model, window, beam_size=1, hotwords=d.hotwords,
                                         initial_prompt=prompt_after(d.initial_prompt, self.closed_words),
                                         vad_threshold=d.vad_threshold, cancel=lambda: self._stopping)
            self.passes += 1
            offset = self.chunk_start / SAMPLE_RATE
            words = [(w.word.strip(), w.start + offset, w.end + offset) for s in result.segments for w in s.words]
        agreed = 0
        for (a, *_), (b, *_) in zip(self._previous, words):
            if _norm(a) != _norm(b):
                break
            agreed += 1
        received = len(audio) / SAMPLE_RATE
        for text, start, end in words[len(self._settled):agreed]:
            self._settled.append(LiveWord(text, start, end, True, received))
        self._tentative = [LiveWord(t, s, e, False) for t, s, e in words[len(self._settled):]]
        self._previous = words

    def _close(self, audio: np.ndarray, end: int, keep_settled: bool = False) -> None:
        """Decode the open chunk up to ``end`` (samples in it) with the job's options: final segments.
        A cut inside speech (``keep_settled``) is decoded with CONTEXT_S more audio, and the chunk is
        cut in the widest gap between the final pass's own words near ``end``, so that no word is
        split or heard twice."""
        end = min(self.chunk_start + end, len(audio))
        if keep_settled:
            upto = min(len(audio), end + int(CONTEXT_S * SAMPLE_RATE))
            end = self._final_decode(audio, self.chunk_start, upto, end / SAMPLE_RATE)
            if end is None:
                return
            self.cuts_inside_speech += 1
        elif self._ahead_covers(audio, end):
            self._commit(self._ahead, audio)   # the pass done as the pause began
            self.closes_ahead += 1
        else:
            self._final_decode(audio, self.chunk_start, end)
        self._moved_to(end, cut_inside=keep_settled)

    def _ahead_covers(self, audio: np.ndarray, end: int) -> bool:
        """Whether the pass done ahead heard all the speech of the open chunk up to ``end`` (samples)."""
        if self._ahead is None or self._ahead.stop > end:
            return False
        return self._ahead_at(self.chunk_start + (self._speech_end(audio[self.chunk_start:end]) or 0))

    def _ahead_at(self, speech_end: int) -> bool:
        """Whether the pass done ahead is the open chunk's up to its speech ending at ``speech_end``
        (samples in the recording)."""
        ahead = self._ahead
        return ahead is not None and ahead.start == self.chunk_start and same_end(ahead.speech_end, speech_end)

    def _moved_to(self, end: int, cut_inside: bool) -> None:
        """The open chunk now starts at ``end`` (samples), the chunk before it closed."""
        cut = end / SAMPLE_RATE
        self.chunk_start = end
        self._after_cut = cut_inside   # the next chunk starts inside speech
        # words after the cut stay on screen (tentative) until the next passes settle them
        self._tentative = [dataclasses.replace(w, settled=False, settled_at=None)
                           for w in self._settled + self._tentative if w.start >= cut]
        self._previous, self._settled = [], []

    def _final_decode(self, audio: np.ndarray, start: int, stop: int, near: float | None = None) -> int | None:
        """Final segments of the chunk ``audio[start:stop]``; with ``near``, only those before the widest
        word gap within 0.6 s of ``near`` (seconds), whose middle (samples) is returned; None when there
        is none."""
        final = self._final(audio, start, stop, near)
        if final is None:
            return None
        self._commit(final, audio)
        return final.end

    def _final(self, audio: np.ndarray, start: int, stop: int, near: float | None = None) -> Final | None:
        """What :meth:`_final_decode` adds to the closed segments, without adding it."""
        if stop - start < int(0.1 * SAMPLE_RATE):
            return None
        d = self.decode   # as a job decodes its chunks: the job's options
        if self._after_cut:
            # the words before it when this chunk starts inside speech (a cut); after a pause a prompt
            # of the sentence before made tiny.en skip a phrase that echoed it (jfk's "ask what you can
            # do for your country" after "...can do for you" came back as "country.")
            lead, prompt = start, prompt_after(d.initial_prompt, self.closed_words)
        else:
            # after a pause: the speech before it is heard again (its words are the previous chunk's,
            # dropped here), as a job's window hears a sentence with the ones before it; alone, a
            # chunk's first words were misheard ("Her urine dip" as "per urine dip")
            lead, prompt = lead_start(self.closed_words, start, LEAD_S), d.initial_prompt
        chunk, offset, begin = audio[lead:stop], lead / SAMPLE_RATE, start / SAMPLE_RATE
        # a short encoder window: Stop's pass 0.1-0.3 s sooner (greedy passes keep 30 s: with short
        # windows their words agreed later, jfk's settled 0.5 s later)
        result = decoding.transcribe(self.model, chunk, beam_size=d.beam_size, max_alternatives=d.max_alternatives,
                                     hotwords=d.hotwords, initial_prompt=prompt, vad_threshold=d.vad_threshold,
                                     heard_from=(start - lead) / SAMPLE_RATE, short_window=True)
        segments = [shifted(s, offset) for s in result.segments]
        if lead < start:
            segments = [s for s in (words_from(s, begin) for s in segments) if s is not None]
        end = None
        if near is not None:
            cut = quiet_cut([w for s in segments for w in s.words], chunk[start - lead:], begin, near)
            if cut is None:
                return None
            segments = [s for s in (words_before(s, cut) for s in segments) if s is not None]
            end = int(cut * SAMPLE_RATE)
        uncovered = [decoding.Uncovered(round(max(u.start + offset, begin), 3), round(u.end + offset, 3))
                     for u in result.uncovered if u.end + offset > begin
                     and (end is None or u.start + offset < end / SAMPLE_RATE)]
        words = [LiveWord(w.word.strip(), w.start, w.end, True) for s in segments for w in s.words]
        return Final(start, stop, segments, uncovered, words, end)

    def _commit(self, final: Final, audio: np.ndarray) -> None:
        """Add a final pass's segments to the closed ones; its words are final from now on, or from
        when the passes had settled them (shown as settled since then)."""
        self.closed.extend(final.segments)
        self.uncovered.extend(final.uncovered)
        received = len(audio) / SAMPLE_RATE
        shown = {}
        for w in self._settled:
            shown.setdefault(_norm(w.text), []).append(w)
        for w in final.words:
            when = received
            for old in shown.get(_norm(w.text), []):
                if old.start < w.end + 0.3 and old.end > w.start - 0.3:
                    when = min(when, old.settled_at or received)
                    break
            self.closed_words.append(dataclasses.replace(w, settled_at=when))

    def state(self) -> LiveState:
        return LiveState(self.closed_words + self._settled + self._tentative)

    def _publish(self) -> None:
        if self.on_update:
            self.on_update(self.state())

    # -- the end -------------------------------------------------------------------
    def stop(self) -> decoding.Transcription:
        """Close the open chunk (the only audio left to decode) and return every final segment."""
        self._stopping = True
        self._wake.set()
        t0 = time.perf_counter()
        if self._thread is not None:
            self._thread.join()
        self.stop_wait = time.perf_counter() - t0   # for the pass in flight (bench/live_dictation.py)
        if self.error is not None:
            raise self.error
        audio = self._take()
        end = self._speech_end(audio[self.chunk_start:])
        if end is None:
            pass   # nothing was said since the last chunk closed (the VAD hears what a job would decode)
        elif self._ahead_at(self.chunk_start + end):
            self._commit(self._ahead, audio)   # decoded while the speaker paused, and nothing was said since
            self.finals_ahead_used += 1
        else:
            self._final_decode(audio, self.chunk_start, len(audio))
            self.decoded_at_stop = True
        self.stop_decode = time.perf_counter() - t0 - self.stop_wait
        self.chunk_start = len(audio)
        self._previous, self._settled, self._tentative = [], [], []
        self._publish()
        segments = sorted(self.closed, key=lambda s: s.start)
        return decoding.Transcription(segments, list(self.uncovered), [(s.start, s.end) for s in segments])

    @property
    def audio(self) -> np.ndarray:
        return self._take()
