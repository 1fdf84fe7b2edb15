"""PHI detection with blis's own ``blis.cy`` and with the bundle's (packaging/blis_cy.c on numpy's
OpenBLAS), in one run: time per 1000 words, peak RSS, and whether the entities are the same.

    .venv/bin/python bench/blis_shim.py [--repeat N]

The text is bench/phi_data/dictation.txt (its PHI marks removed), repeated to ~2000 words, as
transcript items.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))

PROBE = r"""
import json, resource, sys, time
import blis.cy
from app.local.phi import detect_phi
words = json.loads(sys.argv[1]); repeat = int(sys.argv[2])
items = [{"content": w, "start": i * 0.4, "end": i * 0.4 + 0.3, "confidence": 0.9} for i, w in enumerate(words)]
detect_phi(items[:50])  # the model loaded, caches warm
best = None
for _ in range(repeat):
    start = time.perf_counter(); found = detect_phi(items); took = time.perf_counter() - start
    best = took if best is None else min(best, took)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"file": blis.cy.__file__, "seconds": best, "rss": rss,
                  "entities": [(e["content"], e["category"]) for e in found]}))
"""


def words() -> list[str]:
    text = (ROOT / "bench" / "phi_data" / "dictation.txt").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    text = re.sub(r"\[[A-Za-z]+: ([^\]]+)\]", r"\1", text)
    once = text.split()
    return once * -(-2000 // len(once))  # about 2000 words


def shim_package(root: Path) -> Path:
    import blis.cy
    import blis_cy

    return blis_cy.package(root, Path(blis.cy.__file__).resolve().parents[1])


def run(pythonpath: str | None, text: list[str], repeat: int) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [pythonpath, str(ROOT)])))
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(text), str(repeat)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    text = words()
    with tempfile.TemporaryDirectory() as tmp:
        results = {"blis (BLIS, its wheel)": run(None, text, args.repeat),
                   "bundle's blis.cy (OpenBLAS)": run(str(shim_package(Path(tmp))), text, args.repeat)}
    reference = next(iter(results.values()))["entities"]
    print(f"PHI on {len(text)} words, best of {args.repeat}\n")
    print("| blis.cy | s per 1000 words | peak RSS MB | entities | same as blis |")
    print("|---|---:|---:|---:|---|")
    for name, r in results.items():
        print(f"| {name} | {r['seconds'] / len(text) * 1000:.3f} | {r['rss']:.0f} | {len(r['entities'])} "
              f"| {'yes' if r['entities'] == reference else 'NO'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
