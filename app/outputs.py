"""Where a job's transcript goes: AWS's OutputKey rules."""

from __future__ import annotations


def output_key(job_name: str, output_key: str | None) -> str:
    """``my.json`` as is; a folder ``my`` or ``my/`` → ``my/<job>.json``; none → ``medical/<job>.json``."""
    if not output_key:
        return f"medical/{job_name}.json"
    if output_key.endswith(".json"):
        return output_key
    return f"{output_key.rstrip('/')}/{job_name}.json"
