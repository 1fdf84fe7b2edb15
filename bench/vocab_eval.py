"""Medical-term recall with and without a custom vocabulary, through the engine's own steps.

    .venv/bin/python bench/vocab_eval.py [--set consultations|unseen] [--model tiny.en|base|DIR]
                                         [--files N] [--show-changes] [--threads 2]

Two sets of speech:

* ``consultations`` (default): the shared two-channel consultations, each channel on its
  own, against the reference utterances.  The vocabulary is ONE clinic-wide file: the terms
  of a general primary-care list written below (not from the files) that occur in any
  reference, so terms of other consultations act as distractors.
* ``unseen``: six clinical dictations written for this bench (bench/unseen_dictations.py),
  rendered with every installed synthetic voice, never used to tune the engine; the
  vocabulary is all 77 of their terms (more than faster-whisper's hot-word budget holds).

Every recording is transcribed the way a job is (app.local.asr.transcribe: batched, beam 5,
word timestamps, VAD), three ways:

* ``plain``: no vocabulary;
* ``hot words``: the vocabulary as hot words, then DisplayAs rewriting (Vocabulary.apply);
* ``engine``: what a job with VocabularyName does: hot words, then the acoustic term check
  (app.local.termcheck.check_terms), then DisplayAs rewriting.

Recall per term occurrence: hits = min(#ref, #hyp) per recording and term (whole words,
any case); "extra" counts occurrences beyond the reference (false insertions).  Times are
wall-clock seconds; the ratio is to the plain pass.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.local.vocabulary import Vocabulary, parse_vocabulary_file  # noqa: E402

# A general primary-care term list (display forms).  Plurals are separate terms, as AWS
# asks for every form in a vocabulary.  Written without looking for specific files'
# spellings; the script keeps only the ones the references contain.
CANDIDATES = [
    # medicines and products
    "paracetamol", "ibuprofen", "aspirin", "codeine", "naproxen", "amoxicillin",
    "penicillin", "flucloxacillin", "clarithromycin", "doxycycline", "trimethoprim",
    "nitrofurantoin", "metronidazole", "salbutamol", "Ventolin", "Clenil", "beclometasone",
    "Symbicort", "Seretide", "montelukast", "prednisolone", "hydrocortisone", "betamethasone",
    "Cetraben", "Diprobase", "Dermol", "emollient", "emollients", "loratadine",
    "cetirizine", "fexofenadine", "Piriton", "chlorphenamine", "omeprazole", "lansoprazole",
    "Gaviscon", "Rennie", "Rennies", "Dioralyte", "loperamide", "Imodium", "metformin",
    "insulin", "atorvastatin", "simvastatin", "ramipril", "lisinopril", "amlodipine",
    "bisoprolol", "warfarin", "apixaban", "levothyroxine", "sertraline", "citalopram",
    "fluoxetine", "amitriptyline", "gabapentin", "tramadol", "morphine", "sumatriptan",
    "antibiotic", "antibiotics", "antihistamine", "antihistamines", "steroid", "steroids",
    "inhaler", "inhalers", "nasal spray", "eye drops", "Latex",
    # conditions
    "asthma", "eczema", "psoriasis", "dermatitis", "diarrhea", "diarrhoea", "constipation",
    "gastroenteritis", "food poisoning", "irritable bowel syndrome", "Crohn's disease",
    "appendicitis", "gallstones", "reflux", "heartburn", "pneumonia", "bronchitis",
    "tonsillitis", "sinusitis", "otitis media", "labyrinthitis", "vertigo", "tinnitus",
    "Bell's palsy", "stroke", "migraine", "epilepsy", "meningitis", "neurofibromatosis",
    "polyps", "hay fever", "anaphylaxis", "urticaria", "cellulitis", "hypertension",
    "diabetes", "angina", "arrhythmia", "atrial fibrillation", "heart attack", "anaemia",
    "hypothyroidism", "depression", "anxiety", "insomnia", "osteoarthritis",
    "rheumatoid arthritis", "gout", "sciatica", "urinary tract infection", "cystitis",
    "chlamydia", "COVID", "influenza", "chickenpox", "shingles",
    # symptoms and findings
    "fever", "temperature", "vomiting", "nausea", "dizziness", "dizzy", "numbness",
    "palpitations", "wheezing", "wheezy", "shortness of breath", "sputum", "phlegm",
    "cough", "rash", "itchiness", "itchy", "swelling", "fatigue", "lethargic",
    "dehydration", "hydrated", "jawline", "abdomen", "stools", "exacerbation",
    # examinations and procedures
    "peak flow", "blood test", "blood pressure", "urine sample", "stool sample", "X-ray",
    "ultrasound", "CT scan", "MRI", "ECG", "spirometry", "biopsy", "endoscopy",
    "colonoscopy", "neurological examination", "physical examination", "prescription",
    "vaccination", "referral", "A and E",
]


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'").replace("&", " and ")  # "A&E" is "A and E"
    text = re.sub(r"[^a-z0-9']+", " ", text)
    return " " + " ".join(text.split()) + " "


def count(term: str, text_norm: str) -> int:
    """Whole-word occurrences of a (possibly multi-word) term in normalised text."""
    return text_norm.count(normalise(term))


def phrase_of(term: str) -> str:
    """The vocabulary Phrase for a display form: letters, ' and . only, words hyphenated."""
    return re.sub(r"[^A-Za-z'.]+", "-", term).strip("-")


def build_vocabulary(terms: list[str]) -> tuple[bytes, Vocabulary]:
    rows = ["Phrase\tIPA\tSoundsLike\tDisplayAs"]
    for term in terms:
        phrase = phrase_of(term)
        if not phrase or not re.search(r"[A-Za-z]", phrase):
            continue
        display = "" if phrase.replace("-", " ") == term else term
        rows.append(f"{phrase}\t\t\t{display}")
    data = ("\n".join(rows) + "\n").encode("utf-8")
    return data, parse_vocabulary_file(data)


def items_of(segments, vocabulary=None) -> list[dict]:
    from app.core import transcript

    runs = [transcript.segment_items(segment) for segment in segments]
    if vocabulary is not None:
        runs = [vocabulary.apply(run) for run in runs]
    return [item for run in runs for item in run]


def text_of(items: list[dict]) -> str:
    return " ".join(it["content"] for it in items if it["type"] == "pronunciation")


def consultation_cases(data: Path, files: int):
    """(name, audio, reference text, [(term, counter)]) per channel, and the vocabulary file."""
    from faster_whisper import decode_audio

    refs = sorted(data.glob("*.json"))[: files or None]
    references = {}
    for path in refs:
        utterances = json.loads(path.read_text())["utterances"]
        references[path] = [" ".join(u["text"] for u in utterances if u["channel"] == ch) for ch in (0, 1)]
    all_ref = normalise(" ".join(t for chans in references.values() for t in chans))
    present = [t for t in CANDIDATES if count(t, all_ref)]
    terms = [(t, lambda text, t=t: count(t, normalise(text))) for t in present]
    cases = []
    for path, texts in references.items():
        audio = decode_audio(str(path.with_suffix(".flac")), split_stereo=True)
        for ch, text in enumerate(texts):
            cases.append((f"{path.stem} ch{ch}", audio[ch], text, terms))
    return cases, build_vocabulary(present)[0]


def unseen_cases(out_dir: Path, files: int):
    from faster_whisper import decode_audio

    import unseen_dictations as ud

    cases = []
    for r in ud.render(out_dir)[: files or None]:
        terms = [(e["display"][0], lambda text, e=e: ud.count_term(text, e)) for e in r["terms"]]
        cases.append((f"{r['name']} {r['voice']}", decode_audio(str(r["wav"])), r["text"], terms))
    return cases, ud.vocabulary_tsv().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["consultations", "unseen"], default="consultations")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "consultations")
    parser.add_argument("--unseen-dir", type=Path, default=Path("/tmp/clinscribe-unseen"),
                        help="where the unseen dictations are rendered (outside the repository)")
    parser.add_argument("--files", type=int, default=0, help="only the first N files")
    parser.add_argument("--model", default="tiny.en", help="tiny.en, base, or a CTranslate2 Whisper folder")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--show-changes", action="store_true",
                        help="print every rewrite the term check made, and the misses")
    args = parser.parse_args()

    import jiwer
    from faster_whisper import WhisperModel

    from app.local import asr, termcheck

    if args.set == "consultations":
        cases, vocab_file = consultation_cases(args.data, args.files)
    else:
        cases, vocab_file = unseen_cases(args.unseen_dir, args.files)
    vocab = parse_vocabulary_file(vocab_file)
    model = WhisperModel(str(asr.resolve_model(args.model)), device="cpu", compute_type="int8",
                         cpu_threads=args.threads)
    n_hot = len(model.hf_tokenizer.encode(" " + vocab.hotwords()).ids)
    print(f"set: {args.set}, model: {args.model}, {len(cases)} recordings, "
          f"{sum(len(c[1]) for c in cases) / 16000 / 60:.1f} min")
    print(f"vocabulary: {len(vocab.entries)} entries, {len(vocab_file)} bytes; hot words {n_hot} tokens "
          f"(faster-whisper keeps {model.max_length // 2 - 1})\n")

    modes = ("plain", "hot words", "engine")
    header = (f"{'recording':34} {'terms':>5} | " + " | ".join(f"{m:>9} {'extra':>5} {'WER':>5}" for m in modes)
              + f" | {'time plain':>10} {'hot ×':>6} {'engine ×':>8}")
    print(header)
    print("-" * len(header))
    totals = Counter()
    misses = Counter()
    for name, audio, reference, terms in cases:
        row = Counter()
        options = asr.DecodeOptions(hotwords=vocab.hotwords())
        t0 = time.perf_counter()
        plain = asr.transcribe(model, audio, asr.DecodeOptions())
        t1 = time.perf_counter()
        hot = asr.transcribe(model, audio, options)
        t2 = time.perf_counter()
        checked = termcheck.check_terms(model, audio, hot, vocab)
        t3 = time.perf_counter()
        row["time plain"], row["time hot words"], row["time engine"] = t1 - t0, t2 - t1, t3 - t1
        ref_norm = normalise(reference).strip()
        for mode, items in (("plain", items_of(plain)), ("hot words", items_of(hot, vocab)),
                            ("engine", items_of(checked, vocab))):
            hyp = text_of(items)
            row[f"wer_err {mode}"] += jiwer.wer(ref_norm, normalise(hyp).strip()) * len(ref_norm.split())
            for term, counter in terms:
                r, h = counter(reference), counter(hyp)
                row[f"hit {mode}"] += min(r, h)
                row[f"extra {mode}"] += max(0, h - r)
                if mode == "engine" and h < r:
                    misses[term] += r - h
        row["words"] += len(ref_norm.split())
        row["terms"] += sum(counter(reference) for _, counter in terms)
        totals.update(row)
        print(_line(name, row, modes), flush=True)
        if args.show_changes:
            for before, after in zip(hot, checked):
                print_changes(before.text.split(), after.text.split())
    print("-" * len(header))
    print(_line("overall", totals, modes))
    print("\nmissed by the engine:", ", ".join(f"{t} ×{n}" for t, n in misses.most_common()) or "none")


def print_changes(before: list[str], after: list[str], context: int = 3) -> None:
    import difflib

    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, before, after).get_opcodes():
        if op != "equal":
            print(f"    {' '.join(before[max(0, a0 - context): a1 + context])!r}\n"
                  f"      -> {' '.join(after[max(0, b0 - context): b1 + context])!r}")


def _line(name: str, row: Counter, modes) -> str:
    cells = []
    for mode in modes:
        recall = 100 * row[f"hit {mode}"] / max(1, row["terms"])
        cells.append(f"{recall:8.1f}% {row[f'extra {mode}']:5d} {row[f'wer_err {mode}'] / max(1, row['words']):5.3f}")
    plain = max(1e-9, row["time plain"])
    return (f"{name:34} {row['terms']:5d} | " + " | ".join(cells)
            + f" | {row['time plain']:9.1f}s {row['time hot words'] / plain:5.2f}x {row['time engine'] / plain:7.2f}x")


if __name__ == "__main__":
    main()
