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
                    if summary["TranscriptionJobStatus"] != "COMPLETED":  # what the watchdog did (stalls)
                        row["notices"] = engine.job_notices(summary["MedicalTranscriptionJobName"])
                    rows.append(row)
                token, pages = page.get("NextToken"), pages + 1
                if not token:
                    break
        except Exception as exc:
            problems.append(f"{ENGINE_LABELS.get(kind, kind)}: {describe_error(exc)}")
    rows.sort(key=lambda r: r.get("CreationTime") or datetime.min, reverse=True)
    return rows, problems


def short_when(value) -> str:
    """A compact time for a table cell: "02 Dec 14:05" (the full time goes in the tooltip)."""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%d %b %H:%M")
    return str(value or "")


def fmt_duration(seconds: float | None) -> str:
    if not seconds:
        return ""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, sec = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{sec:02d}" if hours else f"{minutes}:{sec:02d}"


def detail_key(job: dict) -> tuple:
    """What a job's details depend on: the same name made again, or a new status, are new keys."""
    return (job["engine"], job["MedicalTranscriptionJobName"], str(job.get("CreationTime")),
            job["TranscriptionJobStatus"])


def transcript_facts(transcript: dict) -> tuple[str, float | None]:
    """(the transcript's text, the end time of its last word) from a transcript JSON."""
    results = transcript.get("results") or {}
    text = " ".join(t.get("transcript", "") for t in results.get("transcripts") or []).strip()
    ends = [float(i["end_time"]) for i in results.get("items") or [] if i.get("end_time") not in (None, "")]
    return text, (max(ends) if ends else None)


def job_details(ctx: AppContext, job: dict) -> dict:
    """``{"text": transcript text, "duration": seconds or None}`` of one job; never raises.

    The text is that of a COMPLETED job's transcript ("" when it cannot be read, e.g. an encrypted
    transcript whose key is not on this computer); the duration is the transcript's, else the media's.
    """
    kind, name = job["engine"], job["MedicalTranscriptionJobName"]
    text, duration = "", None
    try:
        engine = ctx.engine(kind)
    except Exception:
        return {"text": text, "duration": duration}
    if job["TranscriptionJobStatus"] == "COMPLETED":
        try:
            text, duration = transcript_facts(engine.get_transcript(name))
        except Exception:   # unreadable or locked: show nothing rather than an error
            pass
    if duration is None:
        try:
            path = ctx.media.get(kind, name) or engine.media_path(name)
            if path is not None and path.is_file():
                from ..local.media import probe
                duration = probe(path).duration or None
        except Exception:
            pass
    return {"text": text, "duration": duration}


def fetch_details(ctx: AppContext, jobs: list[dict], known) -> dict:
    """Details of the jobs whose :func:`detail_key` is not in ``known`` (read off the GUI thread)."""
    return {detail_key(j): job_details(ctx, j) for j in jobs if detail_key(j) not in known}
