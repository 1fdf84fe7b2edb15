"""Issue 9 benchmark: does the job keep all the speech, as fast as batching and as fully as sequential?

    .venv/bin/python bench/fidelity_eval.py [--sets consultations,paused,ami] [--model tiny.en|base|DIR]
                                            [--limit N] [--match TEXT] [--show-lost] [--per-file]
                                            [--configs job,sequential,batched] [--paused-dir DIR]
                                            [--app-root=DIR]

Three sets of speech:

* ``consultations``: each channel of each shared two-channel consultation as a mono
  recording (doctor channel 0, patient channel 1); reference = that channel's utterances;
* ``paused``: six clinical dictations with 0.5-4 s thinking pauses between sentences,
  rendered with piper (joe-us) and espeak-ng by bench/paused_dictations.py into
  ``--paused-dir`` (rendered on first use); reference = the sentences and their times;
* ``ami``: the three 30 s AMI meeting excerpts; no reference text, so WER and lost
  sentences are "n/a" and only words per minute of speech (speech = the RTTM turns' union),
  time and memory are reported.

Three configurations, the same model (``app.local.asr.load_model(resolve_model(name))``,
int8 on CPU here), each run for each set in a fresh subprocess so ``peak RSS`` is that
child's ru_maxrss (model, decoded audio and all):

* ``job``: the engine's job path, ``app.local.pipeline.transcribe_job`` for a DICTATION
  request; hypothesis words = the JSON's pronunciation items with their times;
* ``sequential``: bare ``WhisperModel.transcribe(beam_size=5, word_timestamps=True, vad_filter=True)``;
* ``batched``: bare ``BatchedInferencePipeline(model).transcribe(beam_size=5, word_timestamps=True, batch_size=8)``.

Metrics:

* WER (jiwer) after ``normalise``: lowercase, no punctuation, fillers (um, uh, er, mm...) out,
  digits written as spoken words (decimals "point", phone numbers digit by digit, years,
  ordinals, clock times, "142/88" as "over", mg/ml/kg/%/° as words), "and" inside a number
  dropped, spelled letters joined ("I N R" = "INR"), a few British spellings made American;
  the same function on reference and hypothesis.  Pooled over a set's files.  ``del``/``ins``
  are jiwer's deletions/insertions over the set.
* sentences lost: a reference sentence/utterance of which fewer than half of its
  (normalised) words are found among the hypothesis words whose middle lies within
  ±1.5 s of its span (multiset match).  Utterances that normalise to nothing ("Um.") are not
  counted.  A lost sentence is also counted as ``dropped`` when the hypothesis has fewer
  words than half its length within ±0.25 s of its span (speech left out, as opposed to
  speech transcribed wrongly).
* words/min of speech: hypothesis words (pronunciation items / faster-whisper words) per
  minute of reference speech time (union of the utterance or RTTM spans); the ``reference``
  row gives the reference's own rate.
* time: wall seconds of transcription only (audio decoded before the clock starts; the model
  loaded once per child, its load time shown apart); RTF = time / audio seconds; ratio = time /
  the sequential configuration's time on the same files.

Then the issue's targets are checked: no lost sentence for the job; job WER no worse than the
best bare configuration; job time <= 0.6 x sequential; job peak RSS <= 700 MB with tiny.en.
Timings are only indicative on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# --app-root DIR: import ``app`` from DIR (e.g. an exported older commit) instead of this tree
APP_ROOT = Path(next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--app-root=")), ROOT)).resolve()
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(APP_ROOT))
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

DATA = ROOT.parent / "shared" / "data"
CONSULTATIONS = DATA / "consultations"
AMI = DATA / "audio" / "ami_debug"
SETS = ("consultations", "paused", "ami")
CONFIGS = ("job", "sequential", "batched")
LABELS = {"job": "(a) job default", "sequential": "(b) bare sequential + VAD",
          "batched": "(c) bare batched x8", "reference": "reference"}
WINDOW = 1.5          # seconds either side of a reference span
TIGHT = 0.25          # for "dropped": hypothesis words in the span itself (± this)
LOST_FRACTION = 0.5   # lost when fewer than this share of its words is found
JOB_REQUEST = {"MedicalTranscriptionJobName": "b", "LanguageCode": "en-US", "Media": {"MediaFileUri": "file:///x"},
               "OutputBucketName": "b", "Specialty": "PRIMARYCARE", "Type": "DICTATION"}


# ---------------------------------------------------------------------------
# text normalisation (same on reference and hypothesis)
# ---------------------------------------------------------------------------

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
NUMBER_WORDS = set(ONES) | set(TENS[2:]) | {"hundred", "thousand", "million", "point"}
ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
           "nine": "ninth", "twelve": "twelfth"}
FILLERS = {"um", "umm", "uh", "uhm", "er", "erm", "ah", "hmm", "hm", "mm", "mhm", "mmm"}
UNITS = {"mg": "milligrams", "mcg": "micrograms", "µg": "micrograms", "ug": "micrograms", "ml": "milliliters",
         "kg": "kilograms", "g": "grams", "%": "percent", "°": "degrees", "°c": "degrees", "bpm": "beats per minute"}
SPELLING = {"diarrhoea": "diarrhea", "anaemia": "anemia", "anaemic": "anemic", "haemoglobin": "hemoglobin",
            "anaesthetic": "anesthetic", "anaesthesia": "anesthesia", "leucocytes": "leukocytes",
            "litres": "liters", "litre": "liter", "millilitres": "milliliters", "millilitre": "milliliter",
            "oesophagus": "esophagus", "paediatric": "pediatric", "colour": "color", "centre": "center",
            "behaviour": "behavior", "favourite": "favorite", "programme": "program", "ok": "okay",
            "mr": "mister", "mrs": "missus", "dr": "doctor", "appendicectomy": "appendectomy",
            "oedema": "edema", "foetal": "fetal", "haemorrhage": "hemorrhage", "tumour": "tumor",
            "labour": "labor", "grey": "gray", "practise": "practice", "ageing": "aging",
            "alright": "all right", "etc": "et cetera", "etcetera": "et cetera", "nighttime": "night time",
            "xray": "x ray"}


def say_int(n: int) -> str:
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    for size, word in ((10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            head, rest = divmod(n, size)
            return f"{say_int(head)} {word}" + (f" {say_int(rest)}" if rest else "")
    raise ValueError(n)


def say_year(n: int) -> str:
    if 2000 <= n <= 2009:
        return say_int(n)
    head, tail = divmod(n, 100)
    return f"{say_int(head)} " + ("hundred" if tail == 0 else f"oh {ONES[tail]}" if tail < 10 else say_int(tail))


def say_digits(s: str) -> str:
    return " ".join(ONES[int(c)] for c in s if c.isdigit())


def say_ordinal(n: int) -> str:
    words = say_int(n).split()
    last = words[-1]
    words[-1] = ORDINAL.get(last) or (last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return " ".join(words)


def say_number(token: str) -> str:
    """One digit token (commas already gone) as words."""
    if "." in token:
        whole, frac = token.split(".", 1)
        return f"{say_int(int(whole)) if whole else 'zero'} point {say_digits(frac)}"
    if len(token) > 1 and token.startswith("0") or len(token) >= 5:
        return say_digits(token)                  # phone numbers, codes
    n = int(token)
    if 1100 <= n <= 2099 and n % 100 and not 2000 <= n <= 2009 or n in (1900, 1800):
        return say_year(n)
    return say_int(n)


def _phone(match: re.Match) -> str:
    return " " + say_digits(match.group()) + " "


def _clock(match: re.Match) -> str:
    h, m = int(match.group(1)), int(match.group(2))
    return f" {say_int(h)} " + ("" if m == 0 else f"oh {ONES[m]} " if m < 10 else say_int(m) + " ")


def normalise(text: str) -> str:
    """Lowercase words without punctuation, numbers as spoken (see the module docstring)."""
    text = re.sub(r"\b([A-Z])(?:\.?\s+(?=[A-Z]\b))", r"\1", text)           # I N R -> INR, E. C. G -> ECG
    text = re.sub(r"\b([A-Z])\.(?=[A-Z]\.)", r"\1", text)
    text = text.lower().replace("’", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)                          # 1,000
    text = re.sub(r"\b\d{2,5}(?:[ -]\d{2,5}){1,3}\b",                         # phone numbers in groups
                  lambda m: _phone(m) if len(re.sub(r"\D", "", m.group())) >= 7 else m.group(), text)
    text = re.sub(r"\b(\d{1,2}):(\d{2})\b", _clock, text)
    text = re.sub(r"(\d)\s*/\s*(\d)", r"\1 over \2", text)
    text = re.sub(r"(\d)\s*-\s*(?=\d)", r"\1 to ", text)                         # 2-3 (a range)
    text = re.sub(r"(\d)\s*(%|°c?|mg|mcg|µg|ml|kg|g|bpm)(?![a-z])", lambda m: f"{m.group(1)} {UNITS[m.group(2)]}", text)
    text = re.sub(r"(?<![a-z\d])(%|°c?)", lambda m: f" {UNITS[m.group(1)]} ", text)
    text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: " " + say_ordinal(int(m.group(1))) + " ", text)
    text = re.sub(r"\d*\.\d+|\d+", lambda m: " " + say_number(m.group()) + " ", text)
    text = re.sub(r"[-–—/]", " ", text)
    text = re.sub(r"[^a-z' ]+", " ", text)
    words = []
    for w in text.split():
        w = w.strip("'")
        w = SPELLING.get(w, w)
        w = SPELLING.get(w.replace("'", ""), w.replace("'", ""))
        if not w or w in FILLERS:
            continue
        words.extend(UNITS.get(w, w).split() if w in ("mg", "mcg", "ml", "kg", "bpm") else w.split())
    out = []
    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w == "and" and out and out[-1] in ("hundred", "thousand", "million") and nxt in NUMBER_WORDS:
            continue                                                          # one hundred and ten
        if w == "a" and nxt in ("hundred", "thousand"):
            w = "one"
        out.append(w)
    return " ".join(out)


# ---------------------------------------------------------------------------
# the sets
# ---------------------------------------------------------------------------

def speech_seconds(spans: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for s, e in sorted(spans):
        if e > end:
            total += e - max(s, end)
            end = e
    return total


def consultation_items(limit: int | None) -> list[dict]:
    items = []
    for js in sorted(CONSULTATIONS.glob("*.json")):
        doc = json.loads(js.read_text())
        audio = js.with_suffix(".flac")
        for ch in sorted(int(c) for c in doc["channels"]):
            utts = sorted((u for u in doc["utterances"] if u["channel"] == ch), key=lambda u: u["start"])
            items.append({"id": f"{js.stem}.ch{ch}", "path": str(audio), "channels": len(doc["channels"]),
                          "channel": ch, "utterances": utts})
    return items[:limit] if limit else items


def paused_items(limit: int | None, out_dir: Path) -> list[dict]:
    from paused_dictations import render

    items = []
    for r in render(out_dir):
        items.append({"id": r["wav"].stem, "path": str(r["wav"]), "channels": 1, "channel": 0,
                      "utterances": r["doc"]["utterances"], "pauses": r["doc"]["pauses"]})
    return items[:limit] if limit else items


def ami_items(limit: int | None) -> list[dict]:
    turns: dict[str, list[tuple[float, float]]] = {}
    for rttm in sorted(AMI.glob("*.rttm")):
        for line in rttm.read_text().splitlines():
            f = line.split()
            if len(f) >= 5 and f[0] == "SPEAKER":
                turns.setdefault(f[1], []).append((float(f[3]), float(f[3]) + float(f[4])))
    items = []
    for wav in sorted(AMI.glob("*.wav")):
        items.append({"id": wav.stem, "path": str(wav), "channels": 1, "channel": 0, "utterances": None,
                      "speech": speech_seconds(turns.get(wav.stem, []))})
    return items[:limit] if limit else items


# ---------------------------------------------------------------------------
# child: one configuration over one set's files
# ---------------------------------------------------------------------------

def child(config: str, model_name: str, manifest: Path, out: Path) -> None:
    import numpy as np

    from app.local import asr, media

    items = json.loads(manifest.read_text())
    t0 = time.perf_counter()
    model = asr.load_model(str(asr.resolve_model(model_name)))
    load_s = time.perf_counter() - t0
    if config == "batched":
        from faster_whisper import BatchedInferencePipeline

        batched = BatchedInferencePipeline(model)
    results = []
    for item in items:
        audio = np.ascontiguousarray(media.decode(Path(item["path"]), item["channels"])[item["channel"]],
                                     dtype=np.float32)
        t0 = time.perf_counter()
        if config == "job":
            from app.local.pipeline import transcribe_job

            doc = transcribe_job(dict(JOB_REQUEST), [audio], model)
            words = [(i["alternatives"][0]["content"], float(i["start_time"]), float(i["end_time"]))
                     for i in doc["results"]["items"] if i["type"] == "pronunciation"]
        else:
            kwargs = dict(language="en", beam_size=5, word_timestamps=True)
            if config == "sequential":
                segments, _ = model.transcribe(audio, vad_filter=True, **kwargs)
            else:
                segments, _ = batched.transcribe(audio, batch_size=8, **kwargs)
            words = [(w.word.strip(), w.start, w.end) for s in segments for w in (s.words or []) if w.word.strip()]
        elapsed = time.perf_counter() - t0
        results.append({"id": item["id"], "seconds": elapsed, "duration": len(audio) / 16000, "words": words})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write_text(json.dumps({"config": config, "load_s": load_s, "peak_rss_mb": peak, "results": results,
                               "device": list(asr.pick_device())}))


def run_child(config: str, model: str, items: list[dict], tmp: Path) -> dict:
    manifest = tmp / f"{config}.manifest.json"
    out = tmp / f"{config}.out.json"
    manifest.write_text(json.dumps([{k: i[k] for k in ("id", "path", "channels", "channel")} for i in items]))
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", config, "--model", model,
                    f"--app-root={APP_ROOT}", "--manifest", str(manifest), "--out", str(out)],
                   check=True, cwd=str(ROOT))
    return json.loads(out.read_text())


# ---------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------

def lost_sentences(utterances: list[dict], words: list) -> tuple[list[dict], int]:
    """Reference utterances of which under half the words are among the hypothesis words near them."""
    lost, counted = [], 0
    for u in utterances:
        ref = normalise(u["text"]).split()
        if not ref:
            continue
        counted += 1
        lo, hi = u["start"] - WINDOW, u["end"] + WINDOW
        near = normalise(" ".join(c for c, s, e in words if lo <= (s + e) / 2 <= hi)).split()
        found = sum((Counter(ref) & Counter(near)).values())
        if found < LOST_FRACTION * len(ref):
            inside = normalise(" ".join(c for c, s, e in words
                                        if u["start"] - TIGHT <= (s + e) / 2 <= u["end"] + TIGHT)).split()
            lost.append({**u, "found": found, "of": len(ref), "near": " ".join(near),
                         "dropped": len(inside) < LOST_FRACTION * len(ref)})
    return lost, counted


def score_set(items: list[dict], outputs: dict[str, dict]) -> dict:
    import jiwer

    scored: dict[str, dict] = {}
    speech = sum(i["speech"] for i in items)
    audio = None
    for config, out in outputs.items():
        by_id = {r["id"]: r for r in out["results"]}
        refs, hyps, per_file, lost_all = [], [], {}, []
        counted = words = 0
        seconds = sum(by_id[i["id"]]["seconds"] for i in items)
        audio = sum(by_id[i["id"]]["duration"] for i in items)
        for item in items:
            r = by_id[item["id"]]
            words += len(r["words"])
            entry = {"seconds": r["seconds"], "duration": r["duration"], "words": len(r["words"])}
            if item["utterances"] is not None:
                ref = " ".join(normalise(u["text"]) for u in item["utterances"]).split()
                hyp = normalise(" ".join(c for c, _, _ in r["words"])).split()
                refs.append(" ".join(ref))
                hyps.append(" ".join(hyp))
                lost, n = lost_sentences(item["utterances"], r["words"])
                counted += n
                lost_all.extend({**x, "file": item["id"], "hyp_all": r["words"]} for x in lost)
                m = jiwer.process_words(" ".join(ref), " ".join(hyp) or "<empty>")
                entry.update(wer=m.wer, lost=len(lost), counted=n)
            per_file[item["id"]] = entry
        row = {"seconds": seconds, "audio": audio, "words": words, "speech": speech,
               "wpm": words / (speech / 60) if speech else float("nan"), "peak_rss_mb": out["peak_rss_mb"],
               "load_s": out["load_s"], "per_file": per_file, "lost": lost_all, "counted": counted}
        if refs:
            m = jiwer.process_words(refs, [h or "<empty>" for h in hyps])
            ref_words = sum(len(r.split()) for r in refs)
            row.update(wer=m.wer, deletions=m.deletions, insertions=m.insertions,
                       ref_words=ref_words, ref_wpm=ref_words / (speech / 60))
        scored[config] = row
    return scored


# ---------------------------------------------------------------------------
# printing
# ---------------------------------------------------------------------------

def fmt(x, spec=".3f", na="n/a"):
    return na if x is None or x != x else format(x, spec)


def print_table(title: str, rows: dict[str, dict], with_ref: bool) -> None:
    print(f"\n### {title}\n")
    print("| configuration | WER | del | ins | sentences lost / total | of them dropped | words/min of speech "
          "| time s | RTF | ratio to bare sequential | peak RSS MB | load s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    base = rows.get("sequential", {}).get("seconds")
    for config, r in rows.items():
        has_ref = "wer" in r
        lost = f"{len(r['lost'])} / {r['counted']}" if has_ref else "n/a"
        dropped = sum(x["dropped"] for x in r["lost"]) if has_ref else "n/a"
        print(f"| {LABELS[config]} | {fmt(r.get('wer'))} | {r.get('deletions', 'n/a')} | {r.get('insertions', 'n/a')} "
              f"| {lost} | {dropped} "
              f"| {fmt(r['wpm'], '.0f')} | {r['seconds']:.1f} | {r['seconds'] / r['audio']:.4f} "
              f"| {fmt(r['seconds'] / base if base else None, '.2f')} | {r['peak_rss_mb']:.0f} | {r['load_s']:.2f} |")
    if with_ref:
        any_row = next(iter(rows.values()))
        if "ref_wpm" in any_row:
            print(f"| {LABELS['reference']} | - | - | - | - | - | {any_row['ref_wpm']:.0f} | - | - | - | - | - |")


def print_per_file(rows: dict[str, dict], items: list[dict]) -> None:
    configs = list(rows)
    has_ref = items and items[0]["utterances"] is not None
    head = " | ".join(f"{c} {'WER / lost' if has_ref else 'words'}" for c in configs)
    print(f"\n| file | audio s | {head} |")
    print("|---|---|" + "---|" * len(configs))
    for item in items:
        cells = []
        for c in configs:
            e = rows[c]["per_file"][item["id"]]
            cells.append(f"{e['wer']:.3f} / {e['lost']}" if has_ref else str(e["words"]))
        dur = rows[configs[0]]["per_file"][item["id"]]["duration"]
        print(f"| {item['id']} | {dur:.1f} | " + " | ".join(cells) + " |")


def print_lost(set_name: str, rows: dict[str, dict]) -> None:
    any_lost = False
    for config, r in rows.items():
        for x in r["lost"]:
            if not any_lost:
                print(f"\nLost sentences ({set_name}):")
                any_lost = True
            ctx = " ".join(f"{c}@{s:.1f}" for c, s, e in x["hyp_all"] if x["start"] - 4 <= (s + e) / 2 <= x["end"] + 4)
            kind = "DROPPED (no words in its span)" if x["dropped"] else "misrecognised"
            print(f"  [{config}] {x['file']} {x['start']:.2f}-{x['end']:.2f} s "
                  f"({x['found']}/{x['of']} words found, {kind}): "
                  f"{x['text']!r}\n      hypothesis within ±{WINDOW:g} s: {x['near']!r}\n      within ±4 s: {ctx!r}")
    if not any_lost:
        print(f"\nNo lost sentences ({set_name}).")


def machine_line() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    aff = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    threads = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "CT2_INTER_THREADS") if k in os.environ}
    return (f"CPU: {cpu}; {os.cpu_count()} cores, {aff} usable; CTranslate2 threads: faster-whisper default "
            f"(cpu_threads=0 -> CTranslate2 picks, up to the usable cores){'; ' + str(threads) if threads else ''}; "
            f"load average {load}; Python {platform.python_version()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=",".join(SETS), help="comma list of consultations,paused,ami")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma list of job,sequential,batched")
    ap.add_argument("--model", default="tiny.en", help="tiny.en, base or a CTranslate2 folder")
    ap.add_argument("--limit", type=int, default=None, help="first N files of each set")
    ap.add_argument("--match", default=None, help="only files whose id contains this (e.g. fit_note.espeak)")
    ap.add_argument("--show-lost", action="store_true", help="print each lost sentence with the hypothesis near it")
    ap.add_argument("--per-file", action="store_true", help="print a per-file table for each set")
    ap.add_argument("--paused-dir", type=Path, default=Path("/tmp/clinscribe-paused"))
    ap.add_argument("--app-root", type=Path, default=ROOT,
                    help="import app/ from this folder (give it as --app-root=DIR), e.g. `git archive HEAD app` "
                         "extracted elsewhere, to measure committed code while app/ is being edited")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--manifest", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.model, args.manifest, args.out)
        return

    sets = [s for s in args.sets.split(",") if s]
    configs = [c for c in args.configs.split(",") if c]
    bad = [s for s in sets if s not in SETS] + [c for c in configs if c not in CONFIGS]
    if bad:
        ap.error(f"unknown set or configuration: {bad}")

    from app.local import asr

    device, compute = asr.pick_device()
    print(machine_line())
    print(f"app imported from {Path(asr.__file__).resolve().parents[2]}")
    print(f"Model {args.model} ({asr.resolve_model(args.model)}), {device} {compute}; configurations "
          f"{', '.join(configs)}; each configuration x set in a fresh subprocess; limit {args.limit or 'none'}")

    all_rows: dict[str, dict[str, dict]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="clinscribe-fidelity-"))
    wall0 = time.perf_counter()
    for set_name in sets:
        if set_name == "consultations":
            items = consultation_items(args.limit)
        elif set_name == "paused":
            items = paused_items(args.limit, args.paused_dir)
        else:
            items = ami_items(args.limit)
        if args.match:
            items = [i for i in items if args.match in i["id"]]
        if not items:
            print(f"\n### {set_name}: no files", flush=True)
            continue
        for item in items:
            if item["utterances"] is not None:
                item["speech"] = speech_seconds([(u["start"], u["end"]) for u in item["utterances"]])
        outputs = {}
        for config in configs:
            t0 = time.perf_counter()
            outputs[config] = run_child(config, args.model, items, tmp)
            print(f"  [{set_name}] {config}: {len(items)} files in {time.perf_counter() - t0:.0f} s "
                  f"(child wall incl. load)", file=sys.stderr, flush=True)
        rows = score_set(items, outputs)
        all_rows[set_name] = rows
        audio = next(iter(rows.values()))["audio"]
        print_table(f"{set_name}: {len(items)} files, {audio / 60:.1f} min of audio, "
                    f"{items and sum(i['speech'] for i in items) / 60:.1f} min of speech", rows, True)
        if args.per_file:
            print_per_file(rows, items)
        if args.show_lost and items and items[0]["utterances"] is not None:
            print_lost(set_name, rows)

    # summary over the sets
    if not all_rows:
        sys.exit("no files to measure")
    summary: dict[str, dict] = {}
    for config in configs:
        rs = [all_rows[s][config] for s in sets if s in all_rows]
        scored = [r for r in rs if "wer" in r]
        errors = sum(r["wer"] * r["ref_words"] for r in scored)
        ref_words = sum(r["ref_words"] for r in scored)
        speech = sum(r["speech"] for r in rs)
        summary[config] = {
            "wer": errors / ref_words if ref_words else None,
            "deletions": sum(r["deletions"] for r in scored) if scored else "n/a",
            "insertions": sum(r["insertions"] for r in scored) if scored else "n/a",
            "lost": [x for r in scored for x in r["lost"]], "counted": sum(r["counted"] for r in scored),
            "wpm": sum(r["words"] for r in rs) / (speech / 60) if speech else float("nan"),
            "seconds": sum(r["seconds"] for r in rs), "audio": sum(r["audio"] for r in rs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rs), "load_s": max(r["load_s"] for r in rs),
        }
        if not scored:
            summary[config].pop("wer")
    print_table(f"summary over {', '.join(s for s in sets if s in all_rows)} (WER pooled over the sets with reference text; "
                "peak RSS = the largest child)", summary, False)

    # the issue's targets
    print("\nIssue 9 targets:")
    if "job" not in summary:
        print("  (no job configuration run)")
    else:
        job = summary["job"]
        checks = []
        if "wer" in job:
            checks.append(("job loses no sentence", len(job["lost"]) == 0,
                           f"{len(job['lost'])} lost of {job['counted']}"))
            dropped = [x for x in job["lost"] if x["dropped"]]
            checks.append(("  (info) of them dropped: no words in the sentence's span", len(dropped) == 0,
                           f"{len(dropped)}" + "".join(f"; {x['file']} {x['start']:.1f}-{x['end']:.1f} s" for x in dropped)))
            if "sequential" in summary:
                kept = {(x["file"], x["start"]) for x in summary["sequential"]["lost"]}
                worse = [x for x in job["lost"] if (x["file"], x["start"]) not in kept]
                checks.append(("  (info) job loses none that bare sequential keeps", len(worse) == 0,
                               f"{len(worse)}" + "".join(f"; {x['file']} {x['start']:.1f}-{x['end']:.1f} s"
                                                         for x in worse)))
            bare = {c: summary[c]["wer"] for c in ("sequential", "batched") if c in summary and "wer" in summary[c]}
            if bare:
                best = min(bare, key=bare.get)
                checks.append(("job WER <= best bare WER", job["wer"] <= bare[best] + 1e-9,
                               f"{job['wer']:.3f} vs {best} {bare[best]:.3f}"))
        if "sequential" in summary:
            ratio = job["seconds"] / summary["sequential"]["seconds"]
            checks.append(("job time <= 0.6 x bare sequential", ratio <= 0.6,
                           f"{job['seconds']:.1f} s / {summary['sequential']['seconds']:.1f} s = {ratio:.2f}"))
        rss_ok = job["peak_rss_mb"] <= 700
        checks.append(("job peak RSS <= 700 MB (tiny.en)", rss_ok if args.model == "tiny.en" else None,
                       f"{job['peak_rss_mb']:.0f} MB"
                       + ("" if args.model == "tiny.en" else f" with {args.model}: not judged")))
        for name, ok, detail in checks:
            mark = "n/a " if ok is None else "PASS" if ok else "FAIL"
            print(f"  {mark}  {name}: {detail}")
    print(f"\nTotal bench wall time {time.perf_counter() - wall0:.0f} s. Times are indicative on a shared machine.")


if __name__ == "__main__":
    main()
