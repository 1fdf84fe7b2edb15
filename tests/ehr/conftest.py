"""Fixtures of the EHR tests: real servers on 127.0.0.1, notes from the real AWS transcripts."""

from __future__ import annotations

import pytest

from ehrdata import SAMPLE_FILES, sample_note
from servers import FaultProxy, FhirServer, MllpListener, fhir_server_unavailable


@pytest.fixture(params=SAMPLE_FILES)
def aws_note(request):
    return sample_note(request.param)


@pytest.fixture(scope="session")
def fhir_server():
    reason = fhir_server_unavailable()
    if reason:
        pytest.skip(reason)
    server = FhirServer()
    yield server
    server.stop()


@pytest.fixture()
def proxy(fhir_server):
    p = FaultProxy(fhir_server.port)
    yield p
    p.stop()


@pytest.fixture()
def mllp():
    listener = MllpListener()
    yield listener
    listener.stop()


@pytest.fixture()
def ehr_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CLINSCRIBE_HOME", str(home))
    return home
