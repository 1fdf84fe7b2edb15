"""The Transcribe service model and exception classes that botocore ships.

Both engines raise exceptions built here, from one botocore session, so a caller
catching ``engine.exceptions.BadRequestException`` (or plain
``botocore.exceptions.ClientError``) sees the same classes whichever engine ran.
The AWS engine builds its boto3 client on :func:`botocore_session` for that reason.
"""

from __future__ import annotations

import functools
import uuid

import botocore.exceptions
import botocore.session
from botocore.model import OperationModel, ServiceModel

SERVICE = "transcribe"


@functools.lru_cache(maxsize=1)
def botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    return botocore_session().get_service_model(SERVICE)


def operation_model(operation: str) -> OperationModel:
    return service_model().operation_model(operation)


@functools.lru_cache(maxsize=None)
def client_exceptions(service_name: str = SERVICE):
    """botocore's generated exception classes for a service (``.BadRequestException`` …)."""
    session = botocore_session()
    factory = session._get_internal_component("exceptions_factory")
    return factory.create_client_exceptions(session.get_service_model(service_name))


def exceptions():
    """Transcribe's exception classes."""
    return client_exceptions(SERVICE)


_STATUS = {
    "BadRequestException": 400,
    "ConflictException": 409,
    "NotFoundException": 404,
    "LimitExceededException": 429,
    "InternalFailureException": 500,
}


def client_error(code: str, message: str, operation: str) -> botocore.exceptions.ClientError:
    """The exception boto3 would raise for ``code`` in response to ``operation``."""
    cls = getattr(exceptions(), code, botocore.exceptions.ClientError)
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {
            "RequestId": str(uuid.uuid4()),
            "HTTPStatusCode": _STATUS.get(code, 400),
            "HTTPHeaders": {"content-type": "application/x-amz-json-1.1"},
            "RetryAttempts": 0,
        },
        "message": message,
    }
    return cls(response, operation)


def response_metadata() -> dict:
    return {
        "RequestId": str(uuid.uuid4()),
        "HTTPStatusCode": 200,
        "HTTPHeaders": {"content-type": "application/x-amz-json-1.1"},
        "RetryAttempts": 0,
    }
