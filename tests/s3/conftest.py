"""The clinic's S3 store for the local engine: moto's server over HTTP on 127.0.0.1 as the endpoint."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/helpers.py

from s3kit import ENV, MEDIA, OUT, s3_engine, start_moto  # noqa: E402


@pytest.fixture(scope="session")
def aws_env():
    """boto3's normal chain finds credentials in the environment (the worker process inherits it)."""
    saved = {k: os.environ.get(k) for k in (*ENV, "AWS_PROFILE")}
    os.environ.update(ENV)
    os.environ.pop("AWS_PROFILE", None)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def moto_s3(aws_env):
    server, url = start_moto()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def s3(moto_s3):
    """A plain boto3 S3 client pointed at moto, as a clinic's own tools would use."""
    import boto3

    client = boto3.client("s3", endpoint_url=moto_s3, region_name="us-east-1")
    for bucket in (MEDIA, OUT):
        client.create_bucket(Bucket=bucket)
    return client


@pytest.fixture(scope="module")
def engine(tmp_path_factory, moto_s3, s3):
    """A real local engine (and worker) whose media and transcripts are on moto's S3."""
    return s3_engine(tmp_path_factory.mktemp("s3home"), moto_s3)
