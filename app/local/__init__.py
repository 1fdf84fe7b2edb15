"""The offline engine's parts: media decoding, speech recognition, the Settings steps
(alternatives, vocabulary and its term check, speakers, PHI), the job pipeline and the
worker process. Qt-free; the engine interface in :mod:`app.engine.local` drives it."""
