"""PHI stays private on disk: the home folder and everything in it are owner-only (0700 / 0600)."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from app.engine.local import LocalEngine

from helpers import AUDIO, job_request

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _open_to_others(root):
    found = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files + ([] if folder != str(root) else []):
            path = os.path.join(folder, name)
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                found.append((path, oct(stat.S_IMODE(mode))))
    if os.stat(root).st_mode & 0o077:
        found.append((str(root), oct(stat.S_IMODE(os.stat(root).st_mode))))
    return found


def test_a_job_leaves_nothing_readable_by_others(tmp_path):
    old = os.umask(0o022)  # the usual desktop umask: files 644, folders 755
    try:
        home = tmp_path / "home"
        engine = LocalEngine(base=home)
        uri = engine.put_media(AUDIO / "jfk.flac", key="visit/jfk.flac")
        engine.start_medical_transcription_job(**job_request("private-1", uri))
        job = engine.wait("private-1", poll=0.2, timeout=300)
        assert job["TranscriptionJobStatus"] == "COMPLETED"
        written = {p.name for p in home.rglob("*")}
        assert {"jobs.db", "private-1.json", "jfk.flac", "worker.log"} <= written
        assert _open_to_others(home) == []
        assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(home / "jobs.db").st_mode) == 0o600
    finally:
        os.umask(old)


def test_an_existing_home_is_tightened_when_it_is_opened(tmp_path):
    old = os.umask(0o022)
    try:
        home = tmp_path / "old-home"
        (home / "buckets" / "clinscribe-transcripts" / "medical").mkdir(parents=True)
        note = home / "buckets" / "clinscribe-transcripts" / "medical" / "visit.json"
        note.write_text("{}")
        (home / "edits").mkdir()
        os.chmod(home, 0o755)
        os.chmod(note, 0o644)
        link = home / "elsewhere"
        link.symlink_to(tmp_path)  # a link is not followed: what it points to is not ours
        os.chmod(tmp_path, 0o755)
        assert _open_to_others(home)
        LocalEngine(base=home, spawn_worker=False)
        assert _open_to_others(home) == []
        assert stat.S_IMODE(os.stat(note).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o755
    finally:
        os.umask(old)


def test_the_command_line_creates_its_home_owner_only(tmp_path):
    import subprocess

    home = tmp_path / "cli-home"
    env = dict(os.environ, CLINSCRIBE_HOME=str(home))
    out = subprocess.run([sys.executable, "-m", "app", "settings"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    assert _open_to_others(home) == []


def test_a_chosen_storage_root_is_created_owner_only_and_its_neighbours_left_alone(tmp_path):
    from app.core.config import Settings

    old = os.umask(0o022)
    try:
        mine = tmp_path / "shared-drive" / "clinic-notes"
        os.makedirs(tmp_path / "shared-drive", mode=0o755)
        other = tmp_path / "shared-drive" / "rota.txt"
        other.write_text("x")
        root = Settings(storage_root=str(mine)).buckets_root(tmp_path / "home")
        assert root == mine and stat.S_IMODE(os.stat(mine).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(other).st_mode) == 0o644
    finally:
        os.umask(old)
