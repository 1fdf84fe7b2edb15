"""Shared fixtures: real audio from ../shared/data, isolated ClinScribe homes."""

from __future__ import annotations

import os

import pytest

from helpers import AUDIO, DATA, ROOT  # noqa: F401  (shared with the test modules)


@pytest.fixture(scope="session", autouse=True)
def _worker_idle_short():
    # Workers spawned by tests exit soon after their queue empties.
    os.environ.setdefault("CLINSCRIBE_WORKER_IDLE", "5")
    yield


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory):
    """One ClinScribe home (and so one worker and one loaded model) shared by a session."""
    return tmp_path_factory.mktemp("clinscribe-home")


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A fresh, isolated ClinScribe home for one test."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("CLINSCRIBE_HOME", str(path))
    return path
