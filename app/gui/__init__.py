"""The ClinScribe desktop app (PySide6). It talks only to the engine interface and the core."""
