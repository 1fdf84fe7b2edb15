"""The server's Prometheus metrics (prometheus_client's text format) and its per-request log line.

Gauges are read from the job store when scraped (queue depth by status, jobs finished in the
last minute, real-time factor of recent jobs); request counts are kept in this process. Nothing
here carries PHI: no job names, file names or text, only operations, codes, counts and times.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from ..store.jobstore import COMPLETED, FAILED, IN_PROGRESS, QUEUED

RECENT = 50  # finished jobs looked at for the per-minute rates and the real-time factor

log = logging.getLogger("clinscribe.server")


def setup_logging(level: int = logging.INFO) -> None:
    """One JSON object a line on stderr (the request lines and the server's own notices)."""
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False


def log_event(**fields) -> None:
    log.info(json.dumps({"time": round(time.time(), 3), **fields}, separators=(",", ":")))


class Metrics:
    """Request counters of this process, plus the store's figures at scrape time."""

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str], int] = {}
        self._seconds: dict[str, float] = {}

    def count(self, operation: str, code: str, seconds: float) -> None:
        with self._lock:
            key = (operation, code)
            self._requests[key] = self._requests.get(key, 0) + 1
            self._seconds[operation] = self._seconds.get(operation, 0.0) + seconds

    def queue(self) -> dict[str, int]:
        counts = self.store.counts()
        return {status: counts.get(status, 0) for status in (QUEUED, IN_PROGRESS, COMPLETED, FAILED)}

    def collect(self):  # prometheus_client's collector protocol
        counts = self.queue()
        jobs = GaugeMetricFamily("clinscribe_jobs", "Jobs in the store by status.", labels=["status"])
        for status, n in counts.items():
            jobs.add_metric([status], n)
        yield jobs
        yield GaugeMetricFamily("clinscribe_queue_depth", "Jobs waiting or running (QUEUED + IN_PROGRESS).",
                                value=counts[QUEUED] + counts[IN_PROGRESS])
        now = time.time()
        recent = {status: self.store.list(status=status, limit=RECENT) for status in (COMPLETED, FAILED)}
        for status, name in ((COMPLETED, "completed"), (FAILED, "failed")):
            yield GaugeMetricFamily(f"clinscribe_jobs_{name}", f"Jobs {name}, kept in the store.",
                                    value=counts[status])
            yield GaugeMetricFamily(f"clinscribe_jobs_{name}_per_minute", f"Jobs {name} in the last 60 seconds.",
                                    value=sum(1 for r in recent[status] if (r.completion_time or 0) > now - 60))
        timed = [r for r in recent[COMPLETED] if r.media_duration and r.start_time and r.completion_time]
        audio = sum(r.media_duration for r in timed)
        busy = sum(r.completion_time - r.start_time for r in timed)
        yield GaugeMetricFamily("clinscribe_real_time_factor",
                                f"Processing seconds per second of audio, over the last {RECENT} completed jobs "
                                "(start to completion; below 1 is faster than real time).",
                                value=round(busy / audio, 4) if audio else float("nan"))
        yield GaugeMetricFamily("clinscribe_recent_audio_seconds", "Seconds of audio of those jobs.", value=audio)
        with self._lock:
            requests, seconds = dict(self._requests), dict(self._seconds)
        total = CounterMetricFamily("clinscribe_requests", "API requests by operation and error code "
                                    "(code \"\" for a success).", labels=["operation", "code"])
        for (op, code), n in sorted(requests.items()):
            total.add_metric([op, code], n)
        yield total
        spent = CounterMetricFamily("clinscribe_request_seconds", "Time spent answering API requests.",
                                    labels=["operation"])
        for op, s in sorted(seconds.items()):
            spent.add_metric([op], s)
        yield spent

    def render(self) -> bytes:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        return generate_latest(registry)
