"""Where a job's transcript goes (AWS's OutputKey rules), and what a new job is called."""

from __future__ import annotations

import re
import secrets
from datetime import datetime


def job_name(stem: str | None = None) -> str:
    """A fresh job name: ``clinscribe-<date>-<time>-<short id>``, neutral by default, because a
    recording's file name often carries a patient's name into the job list; ``stem`` (e.g. the
    file name, when the user asks for it) replaces ``clinscribe``."""
    stem = re.sub(r"[^0-9A-Za-z._-]+", "-", stem or "").strip("-._")[:120] or "clinscribe"
    return f"{stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def output_key(job_name: str, output_key: str | None) -> str:
    """``my.json`` as is; a folder ``my`` or ``my/`` → ``my/<job>.json``; none → ``medical/<job>.json``."""
    if not output_key:
        return f"medical/{job_name}.json"
    if output_key.endswith(".json"):
        return output_key
    return f"{output_key.rstrip('/')}/{job_name}.json"
