"""A local stand-in for AWS KMS: envelope encryption of transcripts (and their edits).

A job that names ``OutputEncryptionKMSKeyId`` gets its transcript written as an
envelope instead of plain JSON, as AWS writes it SSE-KMS encrypted:

- every object has its own random 256-bit **data key**; the content is sealed
  with AES-256-GCM under it;
- the data key is wrapped for the named **local key**, an X25519 key pair: the
  private half lives only in the OS keyring (``ClinScribe`` service, entry
  ``kms:<key id>``), the public half in ``<home>/kms/keys.json``. Wrapping uses an
  ephemeral X25519 exchange, HKDF-SHA256 and AES-256-GCM, so the worker process
  that writes transcripts never needs the keyring, and nothing on disk can open
  them;
- the key id and the **encryption context** are bound to both layers as
  associated data (the context is also kept, readable, in the envelope, as the AWS
  Encryption SDK keeps it in its message header): reading with another context,
  or after anyone altered either, fails.

Errors are those a boto3 KMS caller gets: ``NotFoundException`` (no such key
here), ``InvalidCiphertextException`` (other context, altered or foreign data),
``AccessDeniedException`` (the keyring cannot be used).

A key is created on first use (when a job naming it is submitted) or imported
(:meth:`LocalKms.import_key`, e.g. the 32-byte private key exported on another
workstation). Key ids follow KMS's forms: a key id, a key ARN, ``alias/name`` or
an alias ARN; an ARN and its bare id name the same local key.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import botocore.exceptions
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import credentials

MAGIC = "ClinScribeEncryptedObject"
VERSION = 1
ALGORITHM = "X25519-HKDF-SHA256+AES-256-GCM"
_INFO = b"ClinScribe local KMS v1"
_RAW = serialization.Encoding.Raw


def kms_error(code: str, message: str, operation: str) -> botocore.exceptions.ClientError:
    """The exception boto3's KMS client raises for ``code``."""
    from ..core.service import client_exceptions

    cls = getattr(client_exceptions("kms"), code, botocore.exceptions.ClientError)
    return cls({"Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": 0}}, operation)


def canonical_key_id(key_id: str) -> str:
    """``arn:aws:kms:r:a:key/ID`` → ``ID``; ``arn:…:alias/x`` → ``alias/x``; anything else as given."""
    key_id = key_id.strip()
    if key_id.startswith("arn:"):
        resource = key_id.split(":", 5)[-1]
        if resource.startswith(("key/", "alias/")):
            return resource[4:] if resource.startswith("key/") else resource
    return key_id


def _context_bytes(key_id: str, context: dict | None) -> bytes:
    return json.dumps({"KeyId": key_id, "EncryptionContext": dict(sorted((context or {}).items()))},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def is_envelope(data: bytes) -> bool:
    return data.lstrip()[:40].startswith(b'{"' + MAGIC.encode() + b'"')


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class LocalKms:
    """Local keys of one ClinScribe home: public halves in ``kms/keys.json``, private in the keyring."""

    def __init__(self, home: Path):
        self.folder = Path(home) / "kms"
        self.index_path = self.folder / "keys.json"

    # -- the key index ------------------------------------------------------------
    def _index(self) -> dict:
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise kms_error("KMSInternalException", f"The local key list {self.index_path} cannot be read "
                            f"({type(exc).__name__}); it is left as it is.", "DescribeKey") from None
        return data if isinstance(data, dict) else {}

    def _write_index(self, index: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".keys.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(index, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.index_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def list_keys(self) -> list[dict]:
        return [{"KeyId": k, "CreationDate": v.get("CreationDate", "")} for k, v in sorted(self._index().items())]

    # -- the keyring ------------------------------------------------------------------
    @staticmethod
    def _secret_name(key: str) -> str:
        return f"kms:{key}"

    def _private(self, key: str, operation: str) -> X25519PrivateKey | None:
        try:
            value = credentials.get_secret(self._secret_name(key))
        except credentials.CredentialStoreError as exc:
            raise kms_error("AccessDeniedException", f"The local KMS key {key} cannot be read: {exc}",
                            operation) from None
        if value is None:
            return None
        return X25519PrivateKey.from_private_bytes(base64.b64decode(value))

    def _remember(self, key: str, private: X25519PrivateKey) -> None:
        index = self._index()
        public = _b64(private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw))
        if index.get(key, {}).get("PublicKey") != public:
            index[key] = {"PublicKey": public,
                          "CreationDate": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            self._write_index(index)

    def ensure_key(self, key_id: str, operation: str = "StartMedicalTranscriptionJob") -> str:
        """The local key ``key_id`` names, created (in the keyring, then the index) if new."""
        key = canonical_key_id(key_id)
        private = self._private(key, operation)
        if private is None:
            if key in self._index():
                # The index knows it but the keyring lost it: a new key would hide that; refuse.
                raise kms_error("NotFoundException",
                                f"The local KMS key {key} is no longer in the OS keyring; import it "
                                "(clinscribe kms import-key) or name another key.", operation)
            private = X25519PrivateKey.generate()
            try:
                credentials.set_secret(self._secret_name(key), _b64(private.private_bytes(
                    _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())))
            except credentials.CredentialStoreError as exc:
                raise kms_error("AccessDeniedException", f"The local KMS key {key} cannot be created: {exc}",
                                operation) from None
        self._remember(key, private)
        return key

    def import_key(self, key_id: str, material: bytes) -> str:
        """Keep a 32-byte X25519 private key (raw or base64) as ``key_id``."""
        key = canonical_key_id(key_id)
        raw = material.strip()
        if len(raw) != 32:
            try:
                raw = base64.b64decode(raw, validate=True)
            except ValueError:
                raw = b""
        if len(raw) != 32:
            raise kms_error("ValidationException", "The key material must be 32 bytes (raw or base64), "
                            "as clinscribe kms export-key writes it.", "ImportKeyMaterial")
        private = X25519PrivateKey.from_private_bytes(raw)
        try:
            credentials.set_secret(self._secret_name(key), _b64(raw))
        except credentials.CredentialStoreError as exc:
            raise kms_error("AccessDeniedException", f"The key cannot be stored: {exc}", "ImportKeyMaterial") from None
        self._remember(key, private)
        return key

    def export_key(self, key_id: str) -> str:
        key = canonical_key_id(key_id)
        private = self._private(key, "ExportKey")
        if private is None:
            raise kms_error("NotFoundException", f"Key '{key}' does not exist here.", "ExportKey")
        return _b64(private.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()))

    # -- envelopes ------------------------------------------------------------------------
    def encrypt(self, plaintext: bytes, key_id: str, context: dict | None = None, *, job_name: str = "") -> bytes:
        """An envelope of ``plaintext`` for ``key_id`` (needs only the key's public half).

        ``job_name`` (already in the object's key, so no secret) lets a damaged job history be
        rebuilt from the envelope alone.
        """
        key = canonical_key_id(key_id)
        entry = self._index().get(key)
        if not entry:
            raise kms_error("NotFoundException", f"Key '{key}' does not exist here.", "Encrypt")
        public = X25519PublicKey.from_public_bytes(base64.b64decode(entry["PublicKey"]))
        aad = _context_bytes(key, context)
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = secrets.token_bytes(12)
        body = AESGCM(data_key).encrypt(nonce, plaintext, aad)
        ephemeral = X25519PrivateKey.generate()
        ephemeral_public = ephemeral.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
        kek = self._kek(ephemeral.exchange(public), ephemeral_public)
        key_nonce = secrets.token_bytes(12)
        wrapped = AESGCM(kek).encrypt(key_nonce, data_key, aad)
        envelope = {MAGIC: VERSION, "Algorithm": ALGORITHM, "KeyId": key,
                    "EncryptionContext": dict(context or {}),
                    "EphemeralPublicKey": _b64(ephemeral_public), "KeyNonce": _b64(key_nonce),
                    "EncryptedDataKey": _b64(wrapped), "Nonce": _b64(nonce), "Ciphertext": _b64(body)}
        if job_name:
            envelope["JobName"] = job_name
        return json.dumps(envelope, ensure_ascii=False).encode("utf-8")

    @staticmethod
    def _kek(shared: bytes, ephemeral_public: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_public, info=_INFO).derive(shared)

    @staticmethod
    def envelope_key(data: bytes) -> tuple[str, dict] | None:
        """``(key id, encryption context)`` of an envelope, or None for anything else."""
        if not is_envelope(data):
            return None
        try:
            envelope = json.loads(data)
            return envelope["KeyId"], dict(envelope.get("EncryptionContext") or {})
        except (ValueError, KeyError, TypeError):
            return None

    def decrypt(self, data: bytes, context: dict | None = None, operation: str = "Decrypt") -> bytes:
        """The plaintext of an envelope; ``context``, when given, must be the one it was sealed with."""
        invalid = kms_error("InvalidCiphertextException",
                            "The data cannot be decrypted: it was sealed with another encryption context, "
                            "was altered, or is not a ClinScribe envelope.", operation)
        try:
            envelope = json.loads(data)
            key = envelope["KeyId"]
            stored = dict(envelope.get("EncryptionContext") or {})
            fields = [base64.b64decode(envelope[f], validate=True) for f in
                      ("EphemeralPublicKey", "KeyNonce", "EncryptedDataKey", "Nonce", "Ciphertext")]
        except (ValueError, KeyError, TypeError):
            raise invalid from None
        if envelope.get(MAGIC) != VERSION or (context is not None and dict(context) != stored):
            raise invalid
        private = self._private(key, operation)
        if private is None:
            raise kms_error("NotFoundException", f"Key '{key}' does not exist here: its private half is not "
                            "in this computer's keyring (import it with clinscribe kms import-key).", operation)
        ephemeral_public, key_nonce, wrapped, nonce, body = fields
        aad = _context_bytes(key, stored)
        try:
            kek = self._kek(private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public)), ephemeral_public)
            data_key = AESGCM(kek).decrypt(key_nonce, wrapped, aad)
            return AESGCM(data_key).decrypt(nonce, body, aad)
        except Exception:  # InvalidTag, or a malformed public key / nonce
            raise invalid from None


class Sealer:
    """Seals and opens one job's other files (its edits) with the job's key and context."""

    def __init__(self, kms: LocalKms, key_id: str, context: dict | None):
        self.kms, self.key_id, self.context = kms, key_id, dict(context or {})

    @staticmethod
    def is_sealed(data: bytes) -> bool:
        return is_envelope(data)

    def seal(self, data: bytes) -> bytes:
        return self.kms.encrypt(data, self.key_id, self.context)

    def unseal(self, data: bytes) -> bytes:
        return self.kms.decrypt(data, self.context)

    def owns(self, data: bytes) -> bool:
        """Whether ``data`` was sealed with this sealer's key and context."""
        named = LocalKms.envelope_key(data)
        return named is not None and canonical_key_id(named[0]) == canonical_key_id(self.key_id) \
            and named[1] == self.context
