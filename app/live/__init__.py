"""Live dictation: incremental transcription while recording (session.py) and its job (job.py)."""
