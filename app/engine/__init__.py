"""Engines run StartMedicalTranscriptionJob requests: locally or on AWS."""

from __future__ import annotations

from .base import TERMINAL, TranscriptionEngine

__all__ = ["TERMINAL", "TranscriptionEngine", "create_engine"]


def create_engine(kind: str | None = None, **kwargs) -> TranscriptionEngine:
    """The engine named ``kind`` ("local" or "aws"; default: the user's setting)."""
    from ..core.config import Settings

    settings = kwargs.pop("settings", None) or Settings.load(kwargs.get("base"))
    kind = kind or settings.engine
    if kind == "local":
        from .local import LocalEngine
        return LocalEngine(settings=settings, **kwargs)
    if kind == "aws":
        from .aws import AwsEngine
        return AwsEngine(settings=settings, **kwargs)
    raise ValueError(f"Unknown engine '{kind}': use 'local' or 'aws'")
