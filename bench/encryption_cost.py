"""What encryption at rest costs: the local KMS envelope against plain writes, like for like.

Seals and opens real AWS transcripts (../shared/data/aws-samples) and 10 minutes of 16 kHz PCM
audio (the size of a recorded dictation) with app.store.kms, and writes each to disk with and
without sealing (write + fsync, as the app writes transcripts and edits). Needs a usable OS keyring
(run it inside scripts/test.sh's D-Bus session, or on a desktop): the key's private half lives there.

    python bench/encryption_cost.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.store import credentials  # noqa: E402
from app.store.kms import LocalKms  # noqa: E402

SAMPLES = ROOT.parent / "shared" / "data" / "aws-samples"


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _best(func, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    credentials.SERVICE_NAME = f"ClinScribe-bench-{uuid.uuid4().hex[:6]}"
    folder = Path(tempfile.mkdtemp())
    kms = LocalKms(folder)
    key = kms.ensure_key("alias/bench")
    context = {"department": "cardiology"}
    objects = [(p.name, p.read_bytes()) for p in sorted(SAMPLES.glob("*.json"))]
    objects.append(("10 min PCM 16 kHz", os.urandom(16000 * 2 * 600)))
    print("| object | size | plain write | sealed write | open (decrypt) | sealed size |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, data in objects:
        plain = _best(lambda: _write(folder / "plain", data))
        sealed_data = kms.encrypt(data, key, context)
        sealed = _best(lambda: _write(folder / "sealed", kms.encrypt(data, key, context)))
        opened = _best(lambda: kms.decrypt(sealed_data, context))
        print(f"| {name} | {len(data) / 1e6:.2f} MB | {plain * 1e3:.1f} ms | {sealed * 1e3:.1f} ms "
              f"| {opened * 1e3:.1f} ms | {len(sealed_data) / len(data):.2f}× |")
    credentials.delete_secret("kms:alias/bench")
    return 0


if __name__ == "__main__":
    sys.exit(main())
