"""Fixtures of the EHR tests: real servers on 127.0.0.1, notes from the real AWS transcripts."""

from __future__ import annotations

import pytest

from ehrdata import SAMPLE_FILES, sample_note
from ehrservers import fhir_server, mllp, proxy  # noqa: F401  (the real servers' fixtures)


@pytest.fixture(params=SAMPLE_FILES)
def aws_note(request):
    return sample_note(request.param)




@pytest.fixture()
def ehr_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CLINSCRIBE_HOME", str(home))
    return home
