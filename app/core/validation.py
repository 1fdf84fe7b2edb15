"""Request validation exactly as boto3 and the Transcribe service do it.

Two layers, as with AWS:

1. client side: botocore's own validator on the service model botocore ships
   (required members, types, unknown members, minimum lengths and values) →
   :class:`botocore.exceptions.ParamValidationError`;
2. server side: the constraints the service enforces (patterns, enums, maximum
   lengths and values) read from the same shapes, then the cross-field rules of
   medical transcription → ``BadRequestException`` with AWS's message format.

Nothing here retypes the schema: limits and patterns come from the shapes.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from botocore.model import Shape
from botocore.validate import validate_parameters

from .service import client_error, operation_model

START = "StartMedicalTranscriptionJob"

# AWS's tagging guide allows 50 tags per resource while the API model allows 200
# in one request; the spec asks for the stricter reading.
MAX_TAGS = 50


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _constraint_errors(value: Any, shape: Shape, path: str,
                       skip: Iterable[str] = ()) -> list[str]:
    """AWS-style constraint violations of ``value`` against ``shape`` (server side)."""
    if path in skip:
        return []
    errors: list[str] = []
    meta = shape.metadata

    def fail(constraint: str, shown: Any = None) -> None:
        errors.append(
            f"Value '{_shown(value if shown is None else shown)}' at '{path}' failed to satisfy "
            f"constraint: Member must {constraint}"
        )

    kind = shape.type_name
    if kind == "string":
        if getattr(shape, "enum", None) and value not in shape.enum:
            fail(f"satisfy enum value set: [{', '.join(shape.enum)}]")
        if "max" in meta and len(value) > meta["max"]:
            fail(f"have length less than or equal to {meta['max']}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
            fail(f"satisfy regular expression pattern: {meta['pattern']}")
    elif kind in ("integer", "long"):
        if "max" in meta and value > meta["max"]:
            fail(f"have value less than or equal to {meta['max']}")
    elif kind == "structure":
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                errors += _constraint_errors(value[name], member, f"{path}.{_camel(name)}" if path else _camel(name), skip)
    elif kind == "list":
        if "max" in meta and len(value) > meta["max"]:
            fail(f"have length less than or equal to {meta['max']}")
        for i, item in enumerate(value, start=1):
            errors += _constraint_errors(item, shape.member, f"{path}.{i}.member", skip)
    elif kind == "map":  # botocore's client-side validator does not check map sizes
        if "min" in meta and len(value) < meta["min"]:
            fail(f"have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            fail(f"have length less than or equal to {meta['max']}")
        for key, item in value.items():
            errors += _constraint_errors(key, shape.key, f"{path}.key", skip)
            errors += _constraint_errors(item, shape.value, f"{path}.{key}", skip)
    return errors


def _encodable(value: Any, path: str, operation: str) -> None:
    """Every string must be sendable: AWS rejects text that is not valid UTF-8 (lone surrogates)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _bad_request(f"The value at '{path or 'request'}' is not valid UTF-8. "
                               "Check your request and try again.", operation) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _encodable(key, path, operation)
            _encodable(item, f"{path}.{_camel(str(key))}" if path else _camel(str(key)), operation)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value, start=1):
            _encodable(item, f"{path}.{i}.member", operation)


def _bad_request(message: str, operation: str):
    return client_error("BadRequestException", message, operation)


def validate(operation: str, params: dict, *, allow_file_uri: bool = False) -> None:
    """Validate ``params`` for ``operation`` as boto3 and then the service would.

    ``allow_file_uri`` lets the local engine accept ``file://`` media URIs, its one
    extension to the AWS contract.
    """
    input_shape = operation_model(operation).input_shape
    validate_parameters(params, input_shape)  # raises ParamValidationError
    _encodable(params, "", operation)

    skip = []
    if allow_file_uri and str(params.get("Media", {}).get("MediaFileUri", "")).startswith("file://"):
        skip.append("media.mediaFileUri")
    errors = _constraint_errors(params, input_shape, "", skip)
    if skip:  # a file:// URI skips the s3 pattern, not the length limit
        uri_shape = input_shape.members["Media"].members["MediaFileUri"]
        errors += [e for e in _constraint_errors(params["Media"]["MediaFileUri"], uri_shape, "media.mediaFileUri")
                   if "length" in e]
    if errors:
        count = len(errors)
        head = "1 validation error detected" if count == 1 else f"{count} validation errors detected"
        raise _bad_request(f"{head}: " + "; ".join(errors), operation)
    if operation == START:
        _start_rules(params)


def _start_rules(params: dict) -> None:
    def reject(message: str):
        raise _bad_request(message, START)

    media = params.get("Media") or {}
    if not media.get("MediaFileUri"):
        reject("1 validation error detected: Value null at 'media.mediaFileUri' failed to satisfy "
               "constraint: Member must not be null")
    if media.get("RedactedMediaFileUri"):
        reject("RedactedMediaFileUri is supported only for Call Analytics jobs. "
               "Remove it and try your request again.")
    if params["LanguageCode"] != "en-US":
        reject(f"The language code {params['LanguageCode']} isn't supported for medical transcription. "
               "Use en-US and try your request again.")

    settings = params.get("Settings") or {}
    for show, most in (("ShowSpeakerLabels", "MaxSpeakerLabels"), ("ShowAlternatives", "MaxAlternatives")):
        if settings.get(show) and most not in settings:
            reject(f"When {show} is true, you must also set {most}. Check your request and try again.")
        if most in settings and not settings.get(show):
            reject(f"{most} can be set only when {show} is true. Check your request and try again.")
    # Documented as a BadRequestException until late 2023; the spec asks for the strict reading.
    if settings.get("ShowSpeakerLabels") and settings.get("ChannelIdentification"):
        reject("You can't use speaker labels and channel identification in the same request. "
               "Choose one and try your request again.")

    tags = params.get("Tags")
    if tags is not None:
        if len(tags) > MAX_TAGS:
            reject(f"The request contains {len(tags)} tags. A resource can have at most {MAX_TAGS} tags.")
        keys = [t["Key"] for t in tags]
        if len(set(keys)) != len(keys):
            reject("The request contains duplicate tag keys. Each tag key must be unique.")
        if any(k.lower().startswith("aws:") for k in keys):
            reject("Tag keys that begin with 'aws:' are reserved for AWS use.")
    # Stricter reading: an encryption context only means something with a KMS key to bind it to.
    if params.get("KMSEncryptionContext") and not params.get("OutputEncryptionKMSKeyId"):
        reject("KMSEncryptionContext can be used only together with OutputEncryptionKMSKeyId.")
