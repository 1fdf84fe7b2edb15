"""Where ClinScribe keeps its state, and the user's settings.

Everything (job database, local buckets, settings, unpacked models, logs) lives
under one folder: platformdirs' user data directory, or ``CLINSCRIBE_HOME``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import platformdirs

from .privacy import private_folder

APP_NAME = "ClinScribe"


def home() -> Path:
    env = os.environ.get("CLINSCRIBE_HOME")
    path = Path(env).expanduser() if env else platformdirs.user_data_path(APP_NAME, appauthor=False)
    return private_folder(path)  # PHI: owner-only


@dataclass
class Settings:
    """User settings, kept in ``settings.json`` in the home folder (never credentials)."""

    engine: str = "local"            # "local" or "aws"
    model: str = "tiny.en"           # "tiny.en", "base", or a CTranslate2 Whisper folder
    device: str = "auto"             # "auto", "cpu" or "cuda"
    compute_type: str = "auto"       # "auto" (CUDA float16 / CPU int8) or any CTranslate2 type
    storage_root: str = ""           # local buckets; empty means <home>/buckets
    default_input_bucket: str = "clinscribe-media"
    default_output_bucket: str = "clinscribe-transcripts"
    aws_region: str = "us-east-1"
    aws_profile: str = ""
    aws_endpoint_url: str = ""
    aws_input_bucket: str = ""
    aws_input_prefix: str = "clinscribe/"
    worker_stall_seconds: float = 300.0  # a local worker with no progress this long is replaced

    @classmethod
    def load(cls, base: Path | None = None) -> "Settings":
        path = (base or home()) / "settings.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, base: Path | None = None) -> Path:
        path = (base or home()) / "settings.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def buckets_root(self, base: Path | None = None) -> Path:
        if not self.storage_root:
            return private_folder((base or home()) / "buckets")  # recordings and transcripts: owner-only
        # a folder the user chose: created owner-only, but what the user keeps there is not touched
        root = Path(self.storage_root).expanduser()
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return root
