"""What the job form knows without widgets: presets, media formats, and which field an error is about."""

from __future__ import annotations

import re

MEDIA_FORMATS = ("mp3", "mp4", "wav", "flac", "ogg", "amr", "webm", "m4a")
PRESETS = {
    "Dictation": dict(type="DICTATION", who="none", alternatives=False),
    "Conversation, 2 speakers": dict(type="CONVERSATION", who="speakers", speakers=2),
    "Two-channel recording": dict(type="CONVERSATION", who="channels"),
}

# Which field an error message is about: camelCase paths (server side), parameter names (client side)
# and words of the cross-field rules.
FIELD_KEYS = [
    ("name", ("medicalTranscriptionJobName", "MedicalTranscriptionJobName", "job name")),
    ("language", ("languageCode", "LanguageCode", "language code")),
    ("format", ("mediaFormat", "MediaFormat")),
    ("rate", ("mediaSampleRateHertz", "MediaSampleRateHertz")),
    ("media", ("media.mediaFileUri", "MediaFileUri", "RedactedMediaFileUri", "Media")),
    ("speakers", ("maxSpeakerLabels", "MaxSpeakerLabels", "ShowSpeakerLabels", "speaker labels")),
    ("alternatives", ("maxAlternatives", "MaxAlternatives", "ShowAlternatives")),
    ("vocabulary", ("vocabularyName", "VocabularyName", "vocabulary")),
    ("bucket", ("outputBucketName", "OutputBucketName")),
    ("key", ("outputKey", "OutputKey")),
    ("context", ("kMSEncryptionContext", "kmsEncryptionContext", "KMSEncryptionContext")),
    ("kms", ("outputEncryptionKMSKeyId", "OutputEncryptionKMSKeyId")),
    ("template", ("template",)),
    ("tags", ("tags", "Tags", "tag", "Tag")),
]


def field_for(message: str) -> str:
    for field, keys in FIELD_KEYS:
        if any(k in message for k in keys):
            return field
    return "general"


def split_errors(message: str) -> list[str]:
    """AWS's "N validation errors detected: a; b" and botocore's multi-line text → single messages."""
    head = re.match(r"^\d+ validation errors? detected: ", message)
    if head:
        return [p.strip() for p in re.split(r"; (?=Value )", message[head.end():]) if p.strip()]
    if message.startswith("Parameter validation failed:"):
        return [line.strip() for line in message.splitlines()[1:] if line.strip()]
    return [message]


def describe_media(info) -> str:
    minutes, seconds = divmod(info.duration, 60)
    duration = f"{int(minutes)}:{seconds:04.1f}" if minutes else f"{seconds:.1f} s"
    channels = {1: "mono", 2: "2 channels"}.get(info.channels, f"{info.channels} channels")
    return f"{info.media_format.upper()} · {info.sample_rate} Hz · {channels} · {duration} · " \
           f"{info.size / 1024 / 1024:.1f} MB"
