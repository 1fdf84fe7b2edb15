"""Where ClinScribe keeps its state, and the user's settings.

Everything (job database, local buckets, settings, unpacked models, logs) lives
under one folder: platformdirs' user data directory, or ``CLINSCRIBE_HOME``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import platformdirs

from .privacy import private_folder

APP_NAME = "ClinScribe"


class SettingsError(ValueError):
    """settings.json exists but cannot be used; the file is left exactly as it is."""

    def __init__(self, path: Path, problem: str):
        self.path = path
        super().__init__(f"The settings file {path} cannot be used: {problem}. It was left untouched; "
                         "fix it or move it away (ClinScribe then starts with default settings).")


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
    aws_s3_endpoint_url: str = ""    # the AWS engine's S3 client only (empty: aws_endpoint_url)
    aws_input_bucket: str = ""
    aws_input_prefix: str = "clinscribe/"
    # the local engine's media and transcripts: "" = the local buckets (single box), "aws" = AWS S3,
    # else an S3-compatible store's URL (MinIO, Ceph...), e.g. https://minio.clinic:9000 (app/store/s3store.py)
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    worker_stall_seconds: float = 300.0  # a local worker with no progress this long is replaced
    # "": jobs in SQLite in the home; "postgresql://user@host/db": one queue for a pool of workers
    # (`clinscribe worker`) on any machines. No password here: libpq's ~/.pgpass, PGPASSFILE or PGPASSWORD.
    job_store_url: str = ""
    worker_lease_seconds: float = 60.0   # a pool worker silent this long has its job re-queued
    voice_commands: bool = True      # DICTATION jobs (local engine): "period", "new paragraph", "next field"... applied
    encrypt_audio: bool = False      # recordings and bucket audio sealed at rest (key clinscribe-audio, in the keyring)
    note_author: str = ""            # export: the reviewing clinician's name on notes (default of a note header)
    note_author_id: str = ""         # export: the author's identifier, e.g. an NPI
    note_organization: str = ""      # export: the clinic or hospital
    # sending notes to the EHR (app/ehr): a FHIR R4 server and/or an HL7 v2 interface engine (MLLP)
    fhir_base_url: str = ""          # e.g. https://fhir.example.org/r4 (empty: not configured)
    fhir_auth: str = "none"          # "none", "bearer" (token in the OS keyring: ehr-login) or "smart"
    fhir_client_id: str = ""         # SMART Backend Services client id (key: ehr-smart-key)
    fhir_token_url: str = ""         # SMART token endpoint (empty: from .well-known/smart-configuration)
    mllp_host: str = ""              # interface engine (Mirth Connect, Rhapsody...) listener
    mllp_port: int = 2575            # the IANA port for HL7 over MLLP
    mllp_tls: bool = False           # MLLP inside TLS (the system's trusted CAs check the engine)

    @classmethod
    def load(cls, base: Path | None = None) -> "Settings":
        """The saved settings; defaults when there is no file. A file that cannot be read or is
        damaged raises SettingsError (never silently defaults: a chosen storage root would be lost)."""
        path = (base or home()) / "settings.json"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeError) as exc:
            raise SettingsError(path, getattr(exc, "strerror", None) or str(exc)) from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SettingsError(path, f"not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise SettingsError(path, "not a JSON object")
        defaults = cls()
        known = {f.name: f for f in fields(cls)}
        for key, value in data.items():
            if key not in known:
                continue
            default = getattr(defaults, key)
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise SettingsError(path, f"'{key}' must be true or false")
                continue
            if isinstance(default, str) and not isinstance(value, str):
                raise SettingsError(path, f"'{key}' must be a string")
            if isinstance(default, (int, float)) and (isinstance(value, bool) or not isinstance(value, (int, float))
                                                      or value <= 0):
                raise SettingsError(path, f"'{key}' must be a positive number")
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, base: Path | None = None) -> Path:
        """Written atomically (a temporary file in the same folder, fsync, rename), owner-only."""
        path = (base or home()) / "settings.json"
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(asdict(self), f, indent=2)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if os.name == "posix":
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        return path

    def buckets_root(self, base: Path | None = None) -> Path:
        if not self.storage_root:
            return private_folder((base or home()) / "buckets")  # recordings and transcripts: owner-only
        # a folder the user chose: created owner-only, but what the user keeps there is not touched
        root = Path(self.storage_root).expanduser()
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return root
