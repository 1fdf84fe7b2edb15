"""What the S3 tests share besides fixtures: bucket names, moto's server, an engine on it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

pytest.importorskip("moto.server")
from moto.server import ThreadedMotoServer  # noqa: E402

MEDIA = "clinic-media"
OUT = "clinic-transcripts"
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_EC2_METADATA_DISABLED": "true"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def s3_engine(home: Path, moto_url: str, **kwargs):
    from app.core.config import Settings
    from app.engine.local import LocalEngine

    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(s3_endpoint_url=moto_url, s3_region="us-east-1", default_input_bucket=MEDIA,
                        default_output_bucket=OUT)
    settings.save(home)
    return LocalEngine(base=home, **kwargs)
