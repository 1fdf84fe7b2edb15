"""What the jobs list shows, fetched off the GUI thread (widget-free): every engine's jobs."""

from __future__ import annotations

from datetime import datetime

from .common import ENGINE_LABELS, AppContext, describe_error


def when(value) -> str:
    if not value:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def fetch_jobs(ctx: AppContext) -> tuple[list[dict], list[str]]:
    """Every job of every known engine (newest first) and the problems met on the way."""
    rows, problems = [], []
    for kind in ctx.known_engines():
        try:
            engine = ctx.engine(kind)
            token, pages = None, 0
            while pages < 20:
                kwargs = {"MaxResults": 100, **({"NextToken": token} if token else {})}
                page = engine.list_medical_transcription_jobs(**kwargs)
                for summary in page.get("MedicalTranscriptionJobSummaries", []):
                    row = dict(summary, engine=kind, progress=None)
                    if summary["TranscriptionJobStatus"] == "IN_PROGRESS":
                        row["progress"] = engine.job_progress(summary["MedicalTranscriptionJobName"])
                    rows.append(row)
                token, pages = page.get("NextToken"), pages + 1
                if not token:
                    break
        except Exception as exc:
            problems.append(f"{ENGINE_LABELS.get(kind, kind)}: {describe_error(exc)}")
    rows.sort(key=lambda r: r.get("CreationTime") or datetime.min, reverse=True)
    return rows, problems
