"""SMART Backend Services: ClinScribe's signed JWT assertion is checked by a token endpoint that
verifies it with the registered public JWK (cryptography), and only the token it issued opens the
FHIR server; an expired token is renewed once."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
import uuid

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.ehr import send, smart
from app.ehr.base import SendError
from app.ehr.fhir_client import FhirClient
from app.ehr.outbox import FAILED, SENT
from ehrdata import sample_note, settings_for

CLIENT_ID = "clinscribe-test-client"


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenEndpoint:
    """An OAuth token endpoint as an EHR runs it for SMART Backend Services."""

    def __init__(self, proxy, jwk: dict):
        self.proxy, self.jwk, self.seen_jti, self.issued = proxy, jwk, set(), []
        self.token_url = f"{proxy.url}/auth/token"
        proxy.accepted_tokens = set()
        proxy.local_routes["/.well-known/smart-configuration"] = lambda m, h, b: (
            200, "application/json", json.dumps({"token_endpoint": self.token_url,
                                                 "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                                                 "token_endpoint_auth_signing_alg_values_supported": ["RS384"]}).encode())
        proxy.local_routes["/auth/token"] = self.token

    def _error(self, text):
        return 400, "application/json", json.dumps({"error": "invalid_client", "error_description": text}).encode()

    def token(self, method, headers, body):
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != smart.ASSERTION_TYPE:
            return self._error("wrong grant")
        head, claims, sig = form["client_assertion"].split(".")
        header = json.loads(unb64(head))
        payload = json.loads(unb64(claims))
        key = rsa.RSAPublicNumbers(int.from_bytes(unb64(self.jwk["e"]), "big"),
                                   int.from_bytes(unb64(self.jwk["n"]), "big")).public_key()
        try:
            key.verify(unb64(sig), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA384())
        except Exception:
            return self._error("bad signature")
        if header != {"alg": "RS384", "typ": "JWT", "kid": self.jwk["kid"]}:
            return self._error("bad header")
        if payload["iss"] != CLIENT_ID or payload["sub"] != CLIENT_ID or payload["aud"] != self.token_url:
            return self._error("bad claims")
        if not time.time() < payload["exp"] <= time.time() + 300 or payload["jti"] in self.seen_jti:
            return self._error("expired or replayed")
        self.seen_jti.add(payload["jti"])
        token = uuid.uuid4().hex
        self.issued.append(token)
        self.proxy.accepted_tokens.add(token)
        return 200, "application/json", json.dumps({"access_token": token, "token_type": "bearer",
                                                    "expires_in": 300, "scope": form["scope"]}).encode()


@pytest.fixture()
def pem():
    return smart.new_private_key_pem()


def test_backend_services_token_opens_the_server_and_is_reused(proxy, fhir_server, pem):
    endpoint = TokenEndpoint(proxy, smart.public_jwk(pem))
    auth = smart.SmartAuth(proxy.url, CLIENT_ID, pem)
    client = FhirClient(proxy.url, auth=auth, sleep=lambda s: None)
    from app.export import fhir

    for _ in range(2):
        assert client.post_document(fhir.render(sample_note())).server_id.startswith("DocumentReference/")
    assert len(endpoint.issued) == 1 and auth.token_url == endpoint.token_url  # discovered, then cached
    # the server revokes it: one new token, the send goes through
    proxy.accepted_tokens.clear()
    assert client.post_document(fhir.render(sample_note())).server_id.startswith("DocumentReference/")
    assert len(endpoint.issued) == 2


def test_an_unregistered_key_is_refused_in_words(proxy, fhir_server, pem):
    TokenEndpoint(proxy, smart.public_jwk(smart.new_private_key_pem()))  # another key was registered
    client = FhirClient(proxy.url, auth=smart.SmartAuth(proxy.url, CLIENT_ID, pem), sleep=lambda s: None)
    with pytest.raises(SendError) as err:
        client.post_document("{}")
    assert str(err.value) == "The SMART token endpoint refused ClinScribe's client credentials: bad signature"
    assert not err.value.retryable


def test_send_with_smart_settings_and_the_key_in_the_keyring(ehr_home, proxy, fhir_server, pem, monkeypatch):
    TokenEndpoint(proxy, smart.public_jwk(pem))
    monkeypatch.setattr("app.store.credentials.get_secret", lambda name: pem if name == smart.KEY_SECRET else None)
    settings = settings_for(ehr_home, fhir_base_url=proxy.url, fhir_auth="smart", fhir_client_id=CLIENT_ID)
    row = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home)
    assert row.status == SENT
    monkeypatch.setattr("app.store.credentials.get_secret", lambda name: None)
    row = send.send_note(sample_note(), "fhir", settings=settings, base=ehr_home)
    assert row.status == FAILED and "ehr-smart-key" in row.last_error


def test_the_public_jwk_is_a_proper_rs384_key(pem):
    jwk = smart.public_jwk(pem)
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RS384" and len(unb64(jwk["n"])) == 256
    assert "d" not in jwk and "PRIVATE" not in json.dumps(jwk)
