"""ClinScribe: medical dictation and transcription with AWS Transcribe Medical's contract.

The package is Qt-free except for :mod:`app.gui`; everything else runs headless.
"""

__version__ = "0.1.0"
