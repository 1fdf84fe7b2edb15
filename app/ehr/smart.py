"""SMART Backend Services (client credentials with a signed JWT, ``private_key_jwt``) for the FHIR
client: ClinScribe signs a short-lived assertion with its private key (RS384), the EHR's token
endpoint answers with an access token, which is cached until shortly before it expires.

The key pair is made by ``clinscribe ehr-smart-key``: the private key stays in the OS keyring, the
public key is printed as a JWK Set for the EHR administrator to register with the client id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid

import urllib3
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .base import SendError

KEY_SECRET = "fhir_smart_private_key"  # the OS keyring item holding the PEM private key
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_SCOPE = "system/DocumentReference.write system/Composition.write system/Patient.read system/Patient.write"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def _load(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("The SMART key must be an RSA key.")
    return key


def public_jwk(pem: str) -> dict:
    """The public half as a JWK (RS384), with its RFC 7638 thumbprint as ``kid``."""
    numbers = _load(pem).public_key().public_numbers()

    def uint(n: int) -> str:
        return _b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))

    jwk = {"e": uint(numbers.e), "kty": "RSA", "n": uint(numbers.n)}
    kid = _b64(hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest())
    return {**jwk, "alg": "RS384", "use": "sig", "key_ops": ["verify"], "kid": kid}


def client_assertion(pem: str, client_id: str, token_url: str, *, now: float | None = None) -> str:
    now = time.time() if now is None else now
    header = {"alg": "RS384", "typ": "JWT", "kid": public_jwk(pem)["kid"]}
    claims = {"iss": client_id, "sub": client_id, "aud": token_url, "exp": int(now) + 300, "jti": str(uuid.uuid4())}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = _load(pem).sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA384())
    return f"{signing_input}.{_b64(signature)}"


class SmartAuth:
    """A token provider for FhirClient: ``token()`` returns a valid access token, fetching one when needed."""

    def __init__(self, base_url: str, client_id: str, private_key_pem: str, *, token_url: str = "",
                 scope: str = DEFAULT_SCOPE, pool: urllib3.PoolManager | None = None):
        if not client_id:
            raise SendError("No SMART client id is set: clinscribe settings --fhir-client-id ID", retryable=False)
        self.base_url, self.client_id, self.pem, self.scope = base_url.rstrip("/"), client_id, private_key_pem, scope
        self.token_url = token_url
        self.pool = pool or urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=10, read=30))
        self._token, self._expires = None, 0.0

    def _discover(self) -> str:
        url = f"{self.base_url}/.well-known/smart-configuration"
        try:
            response = self.pool.request("GET", url, headers={"Accept": "application/json"})
            endpoint = json.loads(response.data).get("token_endpoint") if response.status == 200 else None
        except (urllib3.exceptions.HTTPError, ValueError, AttributeError):
            raise SendError("The FHIR server's SMART configuration could not be read.", retryable=True) from None
        if not endpoint:
            raise SendError(f"The FHIR server publishes no SMART token endpoint (HTTP {response.status}); "
                            "set it with --fhir-token-url.", retryable=False)
        return endpoint

    def invalidate(self) -> None:
        self._token, self._expires = None, 0.0

    def token(self) -> str:
        if self._token and time.time() < self._expires - 60:
            return self._token
        self.token_url = self.token_url or self._discover()
        fields = {"grant_type": "client_credentials", "scope": self.scope, "client_assertion_type": ASSERTION_TYPE,
                  "client_assertion": client_assertion(self.pem, self.client_id, self.token_url)}
        try:
            response = self.pool.request_encode_body("POST", self.token_url, fields=fields, encode_multipart=False,
                                                     headers={"Accept": "application/json"})
        except urllib3.exceptions.HTTPError:
            raise SendError("The SMART token endpoint could not be reached.", retryable=True) from None
        try:
            data = json.loads(response.data)
        except ValueError:
            data = {}
        if response.status != 200 or not data.get("access_token"):
            reason = data.get("error_description") or data.get("error") or f"HTTP {response.status}"
            raise SendError(f"The SMART token endpoint refused ClinScribe's client credentials: {reason}",
                            retryable=response.status >= 500, status=response.status)
        self._token = data["access_token"]
        self._expires = time.time() + float(data.get("expires_in") or 300)
        return self._token
