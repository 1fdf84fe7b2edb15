"""Acoustic check of vocabulary terms: hear a term the first pass misheard.

Hot words bias Whisper's beam search, but a small model still writes "flum" for
"phlegm" or "never in thitis" for "labyrinthitis": the term's first tokens look
unlikely, the beam drops it early, and the rest of the hypothesis is built around
the mishearing.  This step asks the model the question directly.  For every run of
1–4 recognised words that sounds like a vocabulary term (a loose phonetic match,
:func:`candidates`), the model scores both wordings of a short stretch of audio
around the run with teacher forcing — the original words and the same words with
the run replaced by the term — and the term is kept only when the audio supports it
better.  The model, not a string rule, decides; a long (distinctive) term gets a small
prior credit (:data:`TERM_PRIOR`, scaled by how closely the run sounds like it), as
contextual biasing does, because the clinic's vocabulary says to expect it.

Scoring uses CTranslate2's ``WhisperModel.align`` (the call faster-whisper makes
for word timestamps), whose ``text_token_probs`` are the probabilities of the given
tokens under the audio; the prompt names the one term being checked, as hot words
do.  Costs: one encoder pass per stretch of audio with candidates and one short
decoder pass per candidate; runs of confidently heard words are not checked.

Internals used (see app/alternatives.py for the pin): ``model.model.align``,
``model.encode``, ``model.feature_extractor`` and the Tokenizer (``asr.english_tokenizer``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from rapidfuzz import fuzz

from .asr import Segment, Word, english_tokenizer
from .vocabulary import Vocabulary, _is_inflection, _letters, _phonetic

__all__ = ["Candidate", "candidates", "check_terms"]

SAMPLE_RATE = 16000
MAX_RUN_WORDS = 4       # a term is misheard as at most this many words
MIN_SIMILARITY = 75.0   # rapidfuzz ratio of the run to the term (phonetic key or letters)
SHORT_TERM = 6          # terms with fewer letters look like ordinary words:
MIN_SIMILARITY_SHORT = 85.0  # they must match more closely and get no prior (below)
MAX_CONFIDENCE = 0.9    # a run whose every word is at least this sure is not checked
CONTEXT_WORDS = 4       # words of context either side of the run
MAX_WINDOW_WORDS = 24   # one encoder pass covers at most this many words
MAX_WINDOW_SECONDS = 28.0  # Whisper hears 30 s at most
PAD_SECONDS = 0.2       # audio kept before the first and after the last context word
SILENCE_SECONDS = 1.0   # silence appended to a stretch of audio before encoding
TERM_PRIOR = 3.0        # log-probability credit of a (long) vocabulary term that sounds
                        # exactly like the run: the clinic said to expect it, so it may be
                        # up to e^3 times less likely; the credit falls to 0 at MIN_SIMILARITY


@dataclass(frozen=True)
class Candidate:
    """Words ``first`` .. ``first + count - 1`` of a segment might be ``term``."""
    first: int
    count: int
    term: str
    similarity: float
    prior: float  # log-probability credit: up to TERM_PRIOR for a long term, 0 for a short one


@dataclass(frozen=True)
class _Form:
    term: str      # as written in the transcript (DisplayAs, else the phrase)
    letters: str   # lower-case letters of one form (phrase, DisplayAs or SoundsLike)
    phonetic: str
    max_words: int  # the most words a mishearing of it may have


def _forms(vocabulary: Vocabulary) -> list[_Form]:
    return [_Form(t.entry.output, t.letters, t.phonetic, max(t.words, t.syllables - 1))
            for t in vocabulary._targets()]


def candidates(words: list[Word], vocabulary: Vocabulary, forms: list[_Form] | None = None) -> list[Candidate]:
    """Runs of ``words`` that sound like a vocabulary term and are not written as it.

    A run is considered when at least one of its words was heard with probability
    below MAX_CONFIDENCE, it has no more words than the term has syllables (less one),
    it neither contains the term ("-hour Holter monitor") nor is an inflection of it
    ("steroids" for "steroid"), its length is within a third of the term's, and its
    phonetic key or spelling is similar enough.
    Runs stop at a word that already is a vocabulary term.
    """
    forms = forms if forms is not None else _forms(vocabulary)
    keys = [_letters(w.word) for w in words]
    exact = {form.letters for form in forms}
    found: dict[tuple[int, int, str], Candidate] = {}
    for i in range(len(words)):
        run = ""
        for n in range(1, MAX_RUN_WORDS + 1):
            if i + n > len(words) or not keys[i + n - 1] or keys[i + n - 1] in exact:
                break
            run += keys[i + n - 1]
            if min(w.probability for w in words[i:i + n]) >= MAX_CONFIDENCE:
                continue
            sound = _phonetic(run)
            for form in forms:
                if n > form.max_words or form.letters in run or _is_inflection(run, form.letters):
                    continue  # too many words, the term is already there, or another form of it
                if abs(len(run) - len(form.letters)) > max(2, len(form.letters) // 3):
                    continue
                short = len(form.letters) < SHORT_TERM
                similarity = max(fuzz.ratio(sound, form.phonetic), fuzz.ratio(run, form.letters))
                if similarity < (MIN_SIMILARITY_SHORT if short else MIN_SIMILARITY):
                    continue
                key = (i, n, form.term)
                if key not in found or found[key].similarity < similarity:
                    prior = 0.0 if short else TERM_PRIOR * (similarity - MIN_SIMILARITY) / (100.0 - MIN_SIMILARITY)
                    found[key] = Candidate(i, n, form.term, similarity, prior)
    return list(found.values())


class _Scorer:
    """Teacher-forced log-probability of a wording of a stretch of audio."""

    def __init__(self, model):
        self.model = model
        self.tokenizer = english_tokenizer(model)

    def encode(self, audio: np.ndarray):
        """Encoder output for a stretch of audio (< 30 s) and its number of frames.

        Not padded to Whisper's 30 s window: the encoder costs in proportion to the
        audio given, and a second of silence after the speech is enough for scoring
        (measured on both bench/vocab_eval.py sets while building this: nearly the
        recall of 30 s padding — 1 to 4 term occurrences fewer — in a third of the time).
        """
        extractor = self.model.feature_extractor
        silence = np.zeros(int(SILENCE_SECONDS * SAMPLE_RATE), np.float32)
        features = extractor(np.concatenate([np.asarray(audio, np.float32), silence]))
        frames = min(features.shape[-1], extractor.nb_max_frames)
        frames -= frames % 2  # the encoder halves the frame rate
        return self.model.encode(np.ascontiguousarray(features[:, :frames])), frames

    def tokens(self, text: str) -> list[int]:
        return self.tokenizer.encode(" " + text.strip())

    def score(self, encoded, text: str, terms: list[str]) -> tuple[float, list[float]]:
        """Sum of token log-probabilities of ``text``, and the per-token ones."""
        tok = self.tokenizer
        prompt = [tok.sot_prev, *self.tokens(", ".join(terms)), *tok.sot_sequence, tok.no_timestamps]
        tokens = self.tokens(text)
        output, frames = encoded
        result = self.model.model.align(output, prompt, [tokens], [frames])[0]
        logp = [math.log(max(p, 1e-12)) for p in result.text_token_probs]
        return sum(logp), logp


def _trailing_punctuation(word: str) -> str:
    """" flum?" -> "?"."""
    stripped = word.strip()
    return stripped[len(stripped.rstrip(".,?!:;")):]


def _text(words: list[str]) -> str:
    """Words as the decoder writes them: one space before each (Whisper words may carry more)."""
    return "".join(" " + w.strip() for w in words if w.strip())


def _clusters(found: list[Candidate], n_words: int) -> list[tuple[int, int, list[Candidate]]]:
    """Candidates grouped by overlapping context windows: (first word, end word, candidates)."""
    groups: list[tuple[int, int, list[Candidate]]] = []
    for cand in sorted(found, key=lambda c: c.first):
        lo = max(0, cand.first - CONTEXT_WORDS)
        hi = min(n_words, cand.first + cand.count + CONTEXT_WORDS)
        if groups and lo < groups[-1][1] and hi - groups[-1][0] <= MAX_WINDOW_WORDS:
            g_lo, g_hi, members = groups[-1]
            groups[-1] = (g_lo, max(g_hi, hi), members + [cand])
        else:
            groups.append((lo, hi, [cand]))
    return groups


def check_terms(model, audio: np.ndarray, segments: list[Segment], vocabulary: Vocabulary) -> list[Segment]:
    """``segments`` with misheard vocabulary terms replaced where the audio supports them.

    ``audio`` is the mono 16 kHz signal the segments were decoded from (times are
    absolute).  A replaced run becomes one word spanning the run, written as the term,
    with the term's own probability under the audio.
    """
    forms = _forms(vocabulary)
    scorer = None
    out: list[Segment] = []
    for segment in segments:
        words = list(segment.words)
        found = candidates(words, vocabulary, forms)
        if not found:
            out.append(segment)
            continue
        scorer = scorer or _Scorer(model)
        texts = [w.word for w in words]
        replaced: list[tuple[int, int, Word]] = []
        for lo, hi, members in _clusters(found, len(words)):
            start = max(0.0, words[lo].start - PAD_SECONDS)
            end = words[hi - 1].end + PAD_SECONDS
            if end - start > MAX_WINDOW_SECONDS:
                continue  # words spread over a long pause: not one stretch of speech
            encoded = scorer.encode(audio[int(start * SAMPLE_RATE): int(end * SAMPLE_RATE)])
            terms = list(dict.fromkeys(c.term for c in members))
            original, _ = scorer.score(encoded, _text(texts[lo:hi]), terms)
            best = None  # (gain, candidate, word)
            for cand in members:
                end_run = cand.first + cand.count
                written = cand.term + _trailing_punctuation(texts[end_run - 1])
                before = _text(texts[lo:cand.first])
                proposed, logp = scorer.score(encoded, before + _text([written] + texts[end_run:hi]), terms)
                gain = proposed + cand.prior - original
                if gain <= 0 or (best is not None and gain <= best[0]):
                    continue
                n_before = len(scorer.tokens(before)) if before else 0
                n_term = max(1, len(scorer.tokens(before + " " + cand.term)) - n_before)
                term_logp = logp[n_before: n_before + n_term]
                run = words[cand.first: end_run]
                word = Word(run[0].start, run[-1].end, " " + written, math.exp(sum(term_logp) / len(term_logp)))
                best = (gain, cand, word)
            if best is not None:
                replaced.append((best[1].first, best[1].count, best[2]))
        if not replaced:
            out.append(segment)
            continue
        new_words = []
        skip = {i for a, n, _ in replaced for i in range(a, a + n)}
        at = {a: w for a, _, w in replaced}
        for i, w in enumerate(words):
            if i in at:
                new_words.append(at[i])
            elif i not in skip:
                new_words.append(w)
        out.append(replace(segment, words=new_words, text="".join(w.word for w in new_words).strip()))
    return out
