"""Recording from a microphone, with crash recovery."""
