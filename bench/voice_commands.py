"""Voice commands on real (rendered) speech: how many commands the local engine applied right,
and how many look-alike phrases ("the period of the infection", "colon cancer") stayed text.

    python bench/voice_commands.py [--model tiny.en] [--keep DIR]

Each dictation of tests/live/dictations.py is rendered with espeak-ng and run through the real
local engine with voice commands off (the raw words and times); the command grammar is then
applied to those items (exactly what the pipeline does with the setting on) and compared with
the script. The last line reads ``voice commands: X/Y applied right (H heard as said), Z false triggers,
look-alikes kept as text A/B (C of D misheard as other words)``.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "live"), str(ROOT / "tests")]

from app.core.config import Settings  # noqa: E402
from app.engine.local import LocalEngine  # noqa: E402
from app.live.commands import apply_commands, layout_text  # noqa: E402
from app.live.templates import get_template  # noqa: E402
from dictations import SCRIPTS, commands_in, lookalikes_in, render  # noqa: E402
from helpers import job_request  # noqa: E402

NAMES = {"period": ".", "full stop": ".", "comma": ",", "colon": ":", "question mark": "?",
         "open bracket": "(", "close bracket": ")", "new line": "line_break", "new paragraph": "paragraph_break",
         "bullet": "bullet", "scratch that": "scratch", "next field": "next_field"}


def internal(items: list[dict]) -> list[dict]:
    """AWS items -> the engine's internal items (float times)."""
    return [{"type": i["type"], "content": i["alternatives"][0]["content"],
             "confidence": float(i["alternatives"][0]["confidence"]),
             **({"start": float(i["start_time"]), "end": float(i["end_time"])} if i["type"] == "pronunciation" else {})}
            for i in items]


def expected(script: str) -> list[str]:
    out = []
    for c in commands_in(script):
        out.append(NAMES.get(c) or ("go to " + c[6:].capitalize() if c.startswith("go to ") else c))
    return out


def score(name: str, script: str, items: list[dict], template=None) -> dict:
    done = apply_commands(internal(items), template.sections if template else None)
    got = [a.command for a in done.applied]
    want = expected(script)
    right = sum(b.size for b in difflib.SequenceMatcher(None, want, got, autojunk=False).get_matching_blocks())
    text = layout_text(done.items, done.layout)

    def words(t: str) -> str:
        return " " + " ".join("".join(c if c.isalnum() else " " for c in t.lower()).split()) + " "

    raw = words(" ".join(i["alternatives"][0]["content"] for i in items))
    final = words(text)
    looks = lookalikes_in(script)
    heard_looks = [look for look in looks if f" {look.lower()} " in raw]
    kept = [look for look in heard_looks if final.count(f" {look.lower()} ") >= 1]
    # the commands whose words the recogniser got right (so that the grammar could apply them)
    heard_commands = 0
    spoken_commands = [c for c in commands_in(script)]
    for phrase in set(spoken_commands):
        said = spoken_commands.count(phrase)
        in_text = raw.count(f" {phrase} ") - sum(f" {look} ".count(f" {phrase} ") for look in looks)
        heard_commands += max(0, min(said, in_text))
    return {"name": name, "commands": len(want), "right": right, "heard_commands": heard_commands, "false": len(got) - right,
            "missed": [c for c in want if c not in got] if right < len(want) else [],
            "lookalikes": len(looks), "heard": len(heard_looks), "kept": len(kept), "text": text,
            "raw": " ".join(i["alternatives"][0]["content"] if i["type"] == "pronunciation"
                            else "\b" + i["alternatives"][0]["content"] for i in items).replace(" \b", "")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--voice", default="en-us", help="espeak-ng voice (default en-us)")
    parser.add_argument("--speed", type=int, default=160, help="espeak-ng words per minute (default 160)")
    parser.add_argument("--keep", type=Path, help="keep the rendered audio and transcripts here")
    parser.add_argument("--rescore", type=Path, help="score the transcripts a --keep run left in this folder")
    args = parser.parse_args(argv)
    if args.rescore:
        return report({name: json.loads((args.rescore / f"{name}.json").read_text())["items"] for name in SCRIPTS})
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        home = work / "home"
        home.mkdir(exist_ok=True)
        engine = LocalEngine(base=home, settings=Settings(voice_commands=False), model=args.model)
        heard = {}
        for name, script in SCRIPTS.items():
            audio = render(script, work / f"{name}.wav", voice=args.voice, speed=args.speed)
            uri = engine.put_media(audio, key=f"voice-commands/{name}.wav")
            job = f"voice-commands-{name}"
            engine.start_medical_transcription_job(**job_request(job, uri))
            status = engine.wait(job, poll=0.2, timeout=600)
            assert status["TranscriptionJobStatus"] == "COMPLETED", status.get("FailureReason")
            results = engine.get_transcript(job)["results"]
            (work / f"{name}.json").write_text(json.dumps(results, indent=1))
            heard[name] = results["items"]
    return report(heard)


def report(heard: dict[str, list[dict]]) -> int:
    soap = get_template("soap")
    totals = {"commands": 0, "heard_commands": 0, "right": 0, "false": 0, "lookalikes": 0, "heard": 0, "kept": 0}
    for name, items in heard.items():
        script = SCRIPTS[name]
        row = score(name, script, items, soap if name == "soap" else None)
        for key in totals:
            totals[key] += row[key]
        print(f"{name}: commands {row['right']}/{row['commands']} right ({row['heard_commands']} heard as said), "
              f"{row['false']} false, "
              f"missed {row['missed']}; look-alikes kept {row['kept']}/{row['heard']} "
              f"(of {row['lookalikes']}, {row['lookalikes'] - row['heard']} misheard as other words)")
        print(f"  heard: {row['raw']}")
        print(f"  text:  {row['text']!r}")
    print(f"voice commands: {totals['right']}/{totals['commands']} applied right ({totals['heard_commands']} heard as "
          f"said), {totals['false']} false triggers, "
          f"look-alikes kept as text {totals['kept']}/{totals['heard']} "
          f"({totals['lookalikes'] - totals['heard']} of {totals['lookalikes']} misheard as other words)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
