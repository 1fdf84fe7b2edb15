"""Live dictation pieces that are also used by batch jobs: voice commands and note templates."""
