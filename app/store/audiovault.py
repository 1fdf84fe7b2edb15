"""Recordings and bucket audio encrypted at rest (the ``encrypt_audio`` setting).

Each file is sealed whole into a KMS envelope (AES-256-GCM, its own data key) for the local key
``clinscribe-audio`` (made on first use; its private half only in the OS keyring), with the
encryption context ``{"purpose": "audio-at-rest"}``. Sealing needs only the public half; opening
needs the keyring. Opened audio lives in memory (``io.BytesIO``), never in a plaintext file."""

from __future__ import annotations

import io
from pathlib import Path

from ..core.privacy import write_private
from .kms import LocalKms, is_envelope

AUDIO_KEY = "clinscribe-audio"
CONTEXT = {"purpose": "audio-at-rest"}


EDITS_CONTEXT = {"purpose": "edits-at-rest"}


class _EnsuringSealer:
    """Seals with the local data-at-rest key, made on first use (the keyring is asked only then)."""

    def __init__(self, home: Path):
        from .kms import Sealer

        self._sealer = Sealer(LocalKms(home), AUDIO_KEY, EDITS_CONTEXT)
        self.key_id, self.context = AUDIO_KEY, dict(EDITS_CONTEXT)

    is_sealed = staticmethod(is_envelope)

    def seal(self, data: bytes) -> bytes:
        self._sealer.kms.ensure_key(AUDIO_KEY, "Encrypt")
        return self._sealer.seal(data)

    def unseal(self, data: bytes) -> bytes:
        return self._sealer.unseal(data)

    def owns(self, data: bytes) -> bool:
        return self._sealer.owns(data)


def edits_sealer(home: Path):
    """What seals a plain job's edits (and note header) at rest, with the same local key as the audio."""
    return _EnsuringSealer(home)


def is_sealed(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return is_envelope(f.read(64))
    except OSError:
        return False


def seal_file(home: Path, path: Path) -> bool:
    """Replace ``path`` by its sealed form (atomic, owner-only); False when it already was."""
    path = Path(path)
    data = path.read_bytes()
    if is_envelope(data[:64]):
        return False
    kms = LocalKms(home)
    kms.ensure_key(AUDIO_KEY, "Encrypt")
    write_private(path, kms.encrypt(data, AUDIO_KEY, CONTEXT))
    return True


def open_audio(home: Path, path: Path):
    """``path`` itself when it is plain audio, else its plaintext in memory (a named BytesIO)."""
    path = Path(path)
    if not is_sealed(path):
        return path
    plain = io.BytesIO(LocalKms(home).decrypt(path.read_bytes(), CONTEXT, "Decrypt"))
    plain.name = path.name  # the suffix still names the container
    return plain


def seal_bytes(home: Path, data: bytes) -> bytes:
    """``data`` sealed for the local key ``clinscribe-audio`` (unchanged when it already is)."""
    if is_envelope(data[:64]):
        return data
    kms = LocalKms(home)
    kms.ensure_key(AUDIO_KEY, "Encrypt")
    return kms.encrypt(data, AUDIO_KEY, CONTEXT)


def open_bytes(home: Path, data: bytes, name: str) -> io.BytesIO:
    """Audio held in memory (e.g. read from an S3 store), opened when sealed; a named BytesIO."""
    plain = io.BytesIO(LocalKms(home).decrypt(data, CONTEXT, "Decrypt") if is_envelope(data[:64]) else data)
    plain.name = name  # the suffix still names the container
    return plain


def read_audio(home: Path, path: Path) -> bytes:
    source = open_audio(home, path)
    return source.getvalue() if isinstance(source, io.BytesIO) else Path(source).read_bytes()
