"""What a medical transcription job computes, from decoded audio to the transcript JSON.

Qt-free and queue-free: the worker calls :func:`transcribe_job`; benchmarks and
tests can call it directly.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import asr, transcript
from .media import mixdown

LOCAL_ACCOUNT_ID = "000000000000"


def transcribe_job(request: dict, channels: list[np.ndarray], model, *,
                   decode: asr.DecodeOptions | None = None,
                   progress: Callable[[float], None] | None = None,
                   account_id: str = LOCAL_ACCOUNT_ID) -> dict:
    """The AWS transcript document for ``request`` over the decoded ``channels``."""
    decode = decode or asr.DecodeOptions()
    audio = mixdown(channels)
    segments = asr.transcribe(model, audio, decode, progress)
    items, groups = transcript.items_from_segments(segments)
    return transcript.build(request["MedicalTranscriptionJobName"], account_id, items, groups)
