"""Live dictation (session, feed, job) and what batch dictations share with it: voice commands, templates."""
