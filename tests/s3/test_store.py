"""S3ObjectStore itself against moto's server: credentials, URLs, conditional writes."""

from __future__ import annotations

import pytest

from s3kit import OUT

from app.store.objectstore import ObjectNotFound
from app.store.s3store import ObjectExists, S3ObjectStore, StoreError, path_style_location


def test_transcript_urls_in_aws_form():
    assert S3ObjectStore("aws", "eu-west-2").url("b", "medical/j.json") == \
        "https://s3.eu-west-2.amazonaws.com/b/medical/j.json"
    store = S3ObjectStore("https://minio.clinic:9000/", "us-east-1")
    uri = store.url("b", "notes/j.json")
    assert uri == "https://minio.clinic:9000/b/notes/j.json"
    assert store.location(uri) == ("b", "notes/j.json")
    assert store.location("s3://b/k") == ("b", "k")
    assert store.location("https://s3.us-east-1.amazonaws.com/b/k") == ("b", "k")
    assert path_style_location(uri, "https://other.clinic:9000") is None
    assert path_style_location(uri, "https://minio.clinic:9001") is None


def test_a_transcript_object_is_written_once(moto_s3, s3):
    store = S3ObjectStore(moto_s3)
    uri = store.write_transcript(b'{"n": 1}', OUT, "once/a.json")
    assert store.read(uri) == b'{"n": 1}'
    with pytest.raises(ObjectExists) as caught:
        store.write_transcript(b'{"n": 2}', OUT, "once/a.json")
    assert caught.value.code == "ConflictException"
    assert s3.get_object(Bucket=OUT, Key="once/a.json")["Body"].read() == b'{"n": 1}'
    with pytest.raises(StoreError, match="bucket no-such-bucket doesn't exist"):
        store.write_transcript(b"{}", "no-such-bucket", "a.json")
    store.remove(uri)
    with pytest.raises(ObjectNotFound):
        store.head(uri)


def test_keys_from_the_os_keyring_when_the_environment_has_none(moto_s3, s3, monkeypatch, tmp_path):
    from app.store import s3cli

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    s3cli.delete_keys()
    with pytest.raises(StoreError, match="no credentials"):
        S3ObjectStore(moto_s3).exists(OUT, "x.json")
    try:
        s3cli.save_keys("AKIACLINICSTORE1", "clinic-secret")
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no usable OS keyring here: {exc}")
    try:
        assert S3ObjectStore(moto_s3).exists(OUT, "x.json") is False  # signed with the keyring's keys
    finally:
        s3cli.delete_keys()
