"""AWS JSON 1.1 as Transcribe speaks it, driven by botocore's service model.

``POST /`` with ``X-Amz-Target: Transcribe.<Operation>``: the operation is looked up in
botocore's ``transcribe`` model, the JSON body is read against its input shape and the
engine's response is written per its output shape (timestamps as epoch seconds). Errors are
``{"__type": code, "Message": ...}`` with the HTTP status of the error shape, which is what
botocore's JSON parser reads to raise its exception classes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from botocore import xform_name
from botocore.model import OperationModel, OperationNotFoundError, Shape

from ..core.service import service_model

CONTENT_TYPE = "application/x-amz-json-1.1"

# What the local engine implements (app/engine/base.py): medical jobs and medical vocabularies.
OPERATIONS = (
    "StartMedicalTranscriptionJob", "GetMedicalTranscriptionJob", "ListMedicalTranscriptionJobs",
    "DeleteMedicalTranscriptionJob", "CreateMedicalVocabulary", "GetMedicalVocabulary",
    "ListMedicalVocabularies", "UpdateMedicalVocabulary", "DeleteMedicalVocabulary",
)
# Operations that change something: a replayed signature is refused for these (see auth.py).
CHANGES = tuple(op for op in OPERATIONS if op.startswith(("Start", "Create", "Update", "Delete")))

INTERNAL = "An internal error occurred. Try your request again."


class ProtocolError(Exception):
    """A request the protocol layer answers itself (unknown operation, unreadable body)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def operation(target: str | None) -> OperationModel:
    """The operation an ``X-Amz-Target`` names, if the engine implements it."""
    prefix = service_model().metadata.get("targetPrefix", "Transcribe")
    name = (target or "").partition(".")[2] if (target or "").startswith(prefix + ".") else ""
    if name not in OPERATIONS:
        raise ProtocolError("UnknownOperationException", "")  # AWS sends an empty message
    try:
        return service_model().operation_model(name)
    except OperationNotFoundError:
        raise ProtocolError("UnknownOperationException", "") from None


def method_name(op: OperationModel) -> str:
    """The engine (boto3) method for an operation: StartMedicalTranscriptionJob → start_medical_…"""
    return xform_name(op.name)


_PY = {"string": str, "boolean": bool, "integer": int, "long": int, "float": (int, float),
       "double": (int, float), "structure": dict, "map": dict, "list": list}


def _mismatch(value: Any, shape: Shape) -> ProtocolError:
    found = {dict: "Start of structure or map", list: "Start of list", str: "STRING_VALUE",
             bool: "Boolean", int: "NUMBER_VALUE", float: "NUMBER_VALUE"}.get(type(value), "Value")
    return ProtocolError("SerializationException",
                         f"{found} found where {shape.type_name} {shape.name} was expected")


def decode(value: Any, shape: Shape | None) -> Any:
    """A JSON value read against ``shape``: type-checked, unknown members and nulls dropped (as AWS does)."""
    if shape is None:
        return {}
    kind = shape.type_name
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _mismatch(value, shape)
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if kind == "blob":
        if not isinstance(value, str):
            raise _mismatch(value, shape)
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            raise ProtocolError("SerializationException", f"Invalid base64 value for {shape.name}") from None
    expected = _PY.get(kind, object)
    if not isinstance(value, expected) or (kind in ("integer", "long", "float", "double")
                                            and isinstance(value, bool)):
        raise _mismatch(value, shape)
    if kind == "structure":
        return {k: decode(v, shape.members[k]) for k, v in value.items()
                if k in shape.members and v is not None}
    if kind == "list":
        return [decode(v, shape.member) for v in value]
    if kind == "map":
        return {decode(k, shape.key): decode(v, shape.value) for k, v in value.items()}
    return value


def read_body(body: bytes, op: OperationModel) -> dict:
    """The request parameters for ``op`` from a JSON 1.1 body."""
    try:
        data = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProtocolError("SerializationException", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ProtocolError("SerializationException", "Start of structure or map expected")
    try:
        return decode(data, op.input_shape)
    except RecursionError:
        raise ProtocolError("SerializationException", "The request body is nested too deeply.") from None


def encode(value: Any, shape: Shape) -> Any:
    """A response value written per ``shape`` (members outside the shape, e.g. ResponseMetadata, dropped)."""
    kind = shape.type_name
    if kind == "structure":
        return {k: encode(v, shape.members[k]) for k, v in value.items() if k in shape.members and v is not None}
    if kind == "list":
        return [encode(v, shape.member) for v in value]
    if kind == "map":
        return {k: encode(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.timezone.utc)
            return round(value.timestamp(), 3)
        return value
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    return value


def response_body(result: dict, op: OperationModel) -> bytes:
    out = encode(result, op.output_shape) if op.output_shape is not None else {}
    return json.dumps(out, separators=(",", ":")).encode("utf-8")


def error_status(code: str) -> int:
    """The HTTP status of an error shape in the model (its ``httpStatusCode``; 500 for faults)."""
    try:
        shape = service_model().shape_for(code)
    except Exception:  # not a modeled error (auth, protocol): the caller knows its status
        return 400
    error = shape.metadata.get("error") or {}
    return int(error.get("httpStatusCode") or (500 if shape.metadata.get("fault") else 400))


def error_body(code: str, message: str, *, lower: bool = False) -> bytes:
    """``{"__type": ..., "Message": ...}``; the auth layer's errors use ``message`` as AWS's do."""
    return json.dumps({"__type": code, ("message" if lower else "Message"): message},
                      separators=(",", ":")).encode("utf-8")
