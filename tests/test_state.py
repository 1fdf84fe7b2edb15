"""A damaged or foreign jobs.db, a damaged settings.json, an unwritable logs/, a read-only home:
the history is never silently lost, a transcript never silently overwritten, a job never stuck."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time

import botocore.exceptions
import pytest

from app.core.config import Settings, SettingsError
from app.engine.local import LocalEngine
from helpers import AUDIO, ROOT, job_request

JFK = AUDIO / "jfk.flac"


def _permissions_bind() -> bool:
    """False for root with CAP_DAC_OVERRIDE (it writes into an 0o500 folder anyway)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o500)
        try:
            open(os.path.join(tmp, "probe"), "w").close()
        except PermissionError:
            return True
        finally:
            os.chmod(tmp, 0o700)
        return False


as_root = os.name == "posix" and not _permissions_bind()


def clinscribe(home, *args):
    env = dict(os.environ, CLINSCRIBE_HOME=str(home))
    proc = subprocess.run([sys.executable, "-m", "app", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr
    return proc


def backed_up(home) -> set:
    try:
        return {r[0] for r in sqlite3.connect(home / "backups" / "jobs.db.1").execute("SELECT name FROM jobs")}
    except sqlite3.Error:
        return set()


def wait_for_backup(home, names, seconds=30):
    """The worker writes its backup right after each job."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and backed_up(home) != names:
        time.sleep(0.1)


@pytest.fixture(scope="module")
def done_home(tmp_path_factory):
    """A home with one real COMPLETED job (jfk) and one FAILED job (a file that is not audio)."""
    home = tmp_path_factory.mktemp("state-home")
    engine = LocalEngine(base=home)
    bad = home / "not-audio.flac"
    bad.write_text("this is not audio")
    engine.start_medical_transcription_job(**job_request("failed-job", engine.put_media(bad)))
    engine.start_medical_transcription_job(**job_request("jfk-job", engine.put_media(JFK)))
    assert engine.wait("failed-job", poll=0.2, timeout=120)["TranscriptionJobStatus"] == "FAILED"
    assert engine.wait("jfk-job", poll=0.2, timeout=120)["TranscriptionJobStatus"] == "COMPLETED"
    wait_for_backup(home, {"failed-job", "jfk-job"})
    return home


@pytest.fixture()
def copy(done_home, tmp_path):
    target = tmp_path / "home"
    shutil.copytree(done_home, target)
    # as a database closed by its last user is: the write-ahead log folded in (the worker of
    # done_home may still hold it open when it is copied)
    db = sqlite3.connect(target / "jobs.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return target


def statuses(engine):
    jobs = engine.list_medical_transcription_jobs(MaxResults=100)["MedicalTranscriptionJobSummaries"]
    return {j["MedicalTranscriptionJobName"]: j["TranscriptionJobStatus"] for j in jobs}


# -- item 1: a damaged jobs.db -------------------------------------------------------------
def test_a_rolling_backup_is_kept_owner_only(done_home):
    backup = done_home / "backups" / "jobs.db.1"
    assert backup.is_file()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert backed_up(done_home) == {"failed-job", "jfk-job"}


def test_an_emptied_jobs_db_is_set_aside_and_rebuilt_from_the_transcripts(copy):
    shutil.rmtree(copy / "backups", ignore_errors=True)
    (copy / "jobs.db").write_bytes(b"")
    proc = clinscribe(copy, "list-medical-transcription-jobs")
    assert proc.returncode == 0
    line, = proc.stderr.strip().splitlines()  # one line: what happened and what to run
    assert "jobs.db" in line and "damaged-" in line and "list-medical-transcription-jobs" in line
    aside, = [p for p in copy.glob("jobs.db.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert aside.stat().st_size == 0  # kept, not deleted
    jobs = json.loads(proc.stdout)["MedicalTranscriptionJobSummaries"]
    assert [(j["MedicalTranscriptionJobName"], j["TranscriptionJobStatus"]) for j in jobs] == [("jfk-job", "COMPLETED")]
    engine = LocalEngine(base=copy)
    assert engine.notice is None  # repaired once
    assert engine.get_transcript("jfk-job")["jobName"] == "jfk-job"
    job = engine.get_medical_transcription_job(MedicalTranscriptionJobName="jfk-job")["MedicalTranscriptionJob"]
    assert job["Transcript"]["TranscriptFileUri"].endswith("medical/jfk-job.json")
    assert engine.media_path("jfk-job") is None  # a rebuilt job does not know its recording


def _garbage(path):
    path.write_bytes(os.urandom(4096))


def _foreign(path):
    path.unlink()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
    db.commit()
    db.close()


def _future_version(path):
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()


@pytest.mark.parametrize("damage", [_garbage, _foreign, _future_version], ids=["garbage", "foreign", "version"])
def test_a_damaged_or_foreign_jobs_db_is_restored_from_the_backup(copy, damage):
    damage(copy / "jobs.db")
    before = (copy / "jobs.db").read_bytes()
    engine = LocalEngine(base=copy)
    assert "backup jobs.db.1" in engine.notice
    aside, = [p for p in copy.glob("jobs.db.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert aside.read_bytes() == before
    # the backup knows the FAILED job, which no transcript could tell
    assert statuses(engine) == {"failed-job": "FAILED", "jfk-job": "COMPLETED"}


def test_transcripts_newer_than_the_backup_are_added_back(copy):
    db = sqlite3.connect(copy / "backups" / "jobs.db.1")
    db.execute("DELETE FROM jobs WHERE name = 'jfk-job'")  # the backup predates the jfk job
    db.commit()
    db.close()
    (copy / "jobs.db").write_bytes(b"")
    engine = LocalEngine(base=copy)
    assert statuses(engine) == {"failed-job": "FAILED", "jfk-job": "COMPLETED"}


def test_a_new_job_never_overwrites_an_existing_transcript(copy):
    engine = LocalEngine(base=copy)
    transcript = engine.transcript_path("jfk-job")
    kept = transcript.read_bytes()
    engine.delete_medical_transcription_job(MedicalTranscriptionJobName="jfk-job")  # the file stays
    media = engine.put_media(JFK)
    for request in (job_request("jfk-job", media),
                    job_request("other", media, OutputKey="medical/jfk-job.json")):
        with pytest.raises(engine.exceptions.ConflictException, match="already exists"):
            engine.start_medical_transcription_job(**request)
    assert "other" not in statuses(engine)
    assert transcript.read_bytes() == kept


# -- item 2: a damaged settings.json ------------------------------------------------------
def test_a_damaged_settings_file_stops_the_cli_and_is_left_untouched(home):
    damaged = b'{"storage_root": "/mnt/clinic-share", "engine": "lo'
    (home / "settings.json").write_bytes(damaged)
    proc = clinscribe(home, "list-medical-transcription-jobs")
    assert proc.returncode != 0 and proc.stdout == ""
    line, = proc.stderr.strip().splitlines()
    assert str(home / "settings.json") in line and "JSON" in line
    assert (home / "settings.json").read_bytes() == damaged
    assert not (home / "jobs.db").exists()  # nothing ran on defaults


def test_settings_with_a_wrong_type_are_refused_and_a_missing_file_is_defaults(home):
    assert Settings.load(home) == Settings()
    (home / "settings.json").write_text(json.dumps({"storage_root": 5}))
    with pytest.raises(SettingsError, match="storage_root"):
        Settings.load(home)


def test_settings_are_saved_atomically_and_owner_only(home):
    old = os.umask(0o022)
    try:
        Settings(storage_root=str(home / "chosen")).save(home)
    finally:
        os.umask(old)
    path = home / "settings.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in home.iterdir()) == ["settings.json"]  # no temporary file left
    assert Settings.load(home).storage_root == str(home / "chosen")


def test_the_desktop_app_shows_a_damaged_settings_file_instead_of_starting(home, monkeypatch):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.gui import main as gui_main

    (home / "settings.json").write_text("{not json")
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda parent, title, text: shown.append(text)))
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)  # old code: would open the window
    assert gui_main.main([]) == 1
    assert len(shown) == 1 and str(home / "settings.json") in shown[0]


# -- item 3: logs/ that cannot be written ---------------------------------------------------
def _submit_and_wait(home):
    engine = LocalEngine(base=home)
    engine.start_medical_transcription_job(**job_request("logless", engine.put_media(JFK)))
    return engine.wait("logless", poll=0.2, timeout=120)["TranscriptionJobStatus"]


def test_a_job_completes_when_logs_is_not_a_folder(home):
    (home / "logs").write_text("")  # e.g. a stray file: logs/worker.log cannot be opened
    assert _submit_and_wait(home) == "COMPLETED"


@pytest.mark.skipif(as_root, reason="root can write an 0o000 folder")
def test_a_job_completes_when_logs_is_unwritable(home):
    (home / "logs").mkdir()
    (home / "logs").chmod(0)
    try:
        assert _submit_and_wait(home) == "COMPLETED"
        proc = clinscribe(home, "list-medical-transcription-jobs")
        assert proc.returncode == 0, proc.stderr
    finally:
        (home / "logs").chmod(0o700)


# -- item 4: a read-only home ------------------------------------------------------------------
def _chmod_tree(root, writable):
    for folder, dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            os.chmod(path, os.stat(path).st_mode | 0o200 if writable else os.stat(path).st_mode & ~0o222)
    for folder, dirs, files in os.walk(root, topdown=False):
        os.chmod(folder, 0o700 if writable else 0o500)


@pytest.mark.skipif(as_root, reason="root can write a read-only home")
def test_a_read_only_home_reads_and_says_why_writing_fails(copy):
    _chmod_tree(copy, writable=False)
    try:
        engine = LocalEngine(base=copy)
        assert statuses(engine) == {"failed-job": "FAILED", "jfk-job": "COMPLETED"}
        assert engine.get_transcript("jfk-job")["jobName"] == "jfk-job"
        with pytest.raises(botocore.exceptions.ClientError, match="read-only") as err:
            engine.start_medical_transcription_job(**job_request("new", "s3://clinscribe-media/jfk.flac"))
        assert str(copy) in str(err.value)
        for args in (["list-medical-transcription-jobs"], ["get-medical-transcription-job",
                     "--medical-transcription-job-name", "jfk-job"], ["get-transcript", "--medical-transcription-job-name", "jfk-job"]):
            assert clinscribe(copy, *args).returncode == 0
        proc = clinscribe(copy, "delete-medical-transcription-job", "--medical-transcription-job-name", "jfk-job")
        assert proc.returncode == 254
        line, = proc.stderr.strip().splitlines()
        assert str(copy) in line and "read-only" in line
    finally:
        _chmod_tree(copy, writable=True)


def test_the_desktop_app_tells_the_user_when_the_job_database_was_rebuilt(copy):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.gui.main import create_app
    from app.gui.common import AppContext

    create_app()
    (copy / "jobs.db").write_bytes(b"")
    ctx = AppContext(copy)
    told = []
    ctx.notice.connect(told.append)
    ctx.engine("local")
    assert len(told) == 1 and "jobs.db.damaged-" in told[0]


@pytest.mark.skipif(as_root, reason="root can write a read-only home")
def test_a_read_only_home_without_jobs_lists_none(home):
    home.chmod(0o500)
    try:
        proc = clinscribe(home, "list-medical-transcription-jobs")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["MedicalTranscriptionJobSummaries"] == []
    finally:
        home.chmod(0o700)
