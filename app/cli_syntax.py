"""The AWS CLI's value syntax for ``clinscribe``'s arguments: ``Key=Value,...`` shorthand (or JSON) typed by
the service model, ``--tags``, ``--cli-input-json``, and usage errors as the AWS CLI prints them."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from .core.service import operation_model

START = "StartMedicalTranscriptionJob"


class UsageError(Exception):
    pass


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors as one line and exit 252, as AWS CLI v2 prints them (not argparse's usage text and 2)."""

    def error(self, message: str):
        raise UsageError(f"error: {message} (see '{self.prog} --help')")


def _loads(text: str, what: str):
    try:
        return json.loads(text)
    except RecursionError:
        raise UsageError(f"Invalid JSON for {what}: nested too deeply") from None
    except ValueError as exc:
        raise UsageError(f"Invalid JSON for {what}: {exc}") from None


# -- AWS CLI value syntax -------------------------------------------------------
def _coerce(value: str, shape) -> Any:
    kind = shape.type_name if shape is not None else "string"
    if kind == "boolean":
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise UsageError(f"Invalid boolean value: {value!r} (use true or false)")
    if kind in ("integer", "long"):
        try:
            return int(value)
        except ValueError:
            raise UsageError(f"Invalid integer value: {value!r}") from None
    return value


def parse_shorthand(text: str, shape) -> dict:
    """``Key=Value,Key=Value`` (or JSON) into a dict typed by the structure/map ``shape``."""
    text = text.strip()
    if text.startswith("{"):
        return _loads(text, "a structure value")
    out: dict = {}
    for pair in filter(None, re.split(r",(?=[^,=]+=)", text)):
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"Error parsing parameter: expected Key=Value, got {pair!r}")
        key = key.strip()
        member = None
        if shape is not None and shape.type_name == "structure":
            member = shape.members.get(key)
        out[key] = _coerce(value.strip(), member)
    return out


def _member_shape(name: str, operation: str = START):
    return operation_model(operation).input_shape.members[name]


def parse_tags(values: list[str]) -> list[dict]:
    if len(values) == 1 and values[0].strip().startswith("["):
        return _loads(values[0], "--tags")
    shape = _member_shape("Tags").member
    return [parse_shorthand(v, shape) for v in values]


def load_cli_input_json(value: str) -> dict:
    if value.startswith("file://"):
        try:
            value = Path(value[len("file://"):]).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"Cannot read {value}: {exc.strerror}") from None
        except ValueError:  # invalid UTF-8, a NUL in the path
            raise UsageError(f"Cannot read {value}: not a UTF-8 text file") from None
    data = _loads(value, "--cli-input-json")
    if not isinstance(data, dict):
        raise UsageError("--cli-input-json must be a JSON object")
    return data
