"""The clinic's S3-compatible object store (AWS S3, MinIO, Ceph...) behind the local engine.

Chosen by the ``s3_endpoint_url`` setting ("" keeps the local buckets, the single-box default;
"aws" is AWS S3 itself; anything else, e.g. ``https://minio.clinic:9000``, a store of the clinic's,
addressed path-style). It offers the same small interface as
:class:`~app.store.objectstore.LocalObjectStore` (``exists``, ``check_output``, ``head``, ``read``,
``open_media``, ``write_transcript``, ``put_file``, ``remove``, ``resolve``), so the engine and the
worker use either unchanged.

- ``s3://bucket/key``, AWS's ``https://s3.<region>.amazonaws.com/bucket/key`` forms and path-style
  URLs on the configured endpoint name objects in the store; ``file://`` URIs stay local files.
- Media is read into memory (``io.BytesIO``), never copied to disk in plaintext; audio sealed at
  rest (``encrypt_audio``) is opened there with the local key ``clinscribe-audio``.
- A transcript is written with ``PutObject`` and ``If-None-Match: *``: an existing object is never
  overwritten. Its TranscriptFileUri is the object's URL in AWS's path-style form.
- Credentials: an access key pair kept in the OS keyring for this store (``clinscribe s3-login``,
  entries ``s3:aws_access_key_id`` / ``s3:aws_secret_access_key``) when there is one; otherwise
  boto3's own chain (environment, ``~/.aws``, an instance role), which is what a headless server
  without a keyring uses. Nothing is written to settings or logs.
- Failures are :class:`StoreError` (an AWS-style ``code`` and ``reason``), or ObjectNotFound /
  :class:`ObjectForbidden` for an object that is missing or may not be read.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import boto3
import botocore.exceptions
from botocore.config import Config

from .objectstore import InvalidKey, LocalObjectStore, ObjectNotFound, check_name, parse_s3_uri

AWS = "aws"
KEY_ID_SECRET = "s3:aws_access_key_id"
SECRET_KEY_SECRET = "s3:aws_secret_access_key"


def keyring_keys() -> dict:
    """The S3 store's keys from the OS keyring (``clinscribe s3-login``) as boto3 arguments; ``{}``
    without them or without a usable keyring (a headless server: then boto3's own chain)."""
    try:
        from . import credentials
        key_id, secret = credentials.get_secret(KEY_ID_SECRET), credentials.get_secret(SECRET_KEY_SECRET)
    except Exception:
        return {}
    return {"aws_access_key_id": key_id, "aws_secret_access_key": secret} if key_id and secret else {}
MAX_KEY_BYTES = 1024

MEDIA_UNREADABLE = ("The S3 URI that you provided can't be accessed. Make sure that you have "
                    "read permission and try your request again.")
UNREACHABLE = ("Internal failure: the object store could not be reached (ClinScribe tried several "
               "times). Try your request again.")


class StoreError(RuntimeError):
    """The object store refused a request or could not be reached."""

    def __init__(self, reason: str, code: str = "InternalFailureException"):
        super().__init__(reason)
        self.reason, self.code = reason, code


class ObjectForbidden(ObjectNotFound):
    """The object may not be read (403): the caller may treat it as unreadable media."""

    reason = MEDIA_UNREADABLE


class ObjectExists(StoreError):
    """A transcript object is already at the key (never overwritten)."""


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: botocore.exceptions.ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _missing(exc: botocore.exceptions.ClientError) -> bool:
    return _code(exc) in ("NoSuchKey", "NoSuchBucket", "404", "NotFound") or _status(exc) == 404


def _forbidden(exc: botocore.exceptions.ClientError) -> bool:
    return _code(exc) in ("AccessDenied", "403", "Forbidden", "InvalidAccessKeyId",
                          "SignatureDoesNotMatch") or _status(exc) == 403


def _mapped(exc: botocore.exceptions.ClientError, missing: Exception, forbidden: Exception) -> Exception:
    """``missing`` for a 404, ``forbidden`` for a 403, else an internal failure naming the answer."""
    if _missing(exc):
        return missing
    if _forbidden(exc):
        return forbidden
    return StoreError(f"Internal failure: the object store answered {_code(exc) or _status(exc)}. "
                      "Try your request again.")


def no_bucket(bucket: str) -> StoreError:
    return StoreError(f"The S3 bucket {bucket} doesn't exist. Check the OutputBucketName and try your "
                      "request again.", "BadRequestException")


def no_write_permission(bucket: str) -> StoreError:
    return StoreError(f"You don't have permission to write to the S3 bucket {bucket}. Check the "
                      "bucket's permissions and try your request again.", "BadRequestException")


def path_style_location(uri: str, endpoint_url: str | None) -> tuple[str, str] | None:
    """(bucket, key) of a path-style URL on ``endpoint_url`` (``https://host:port/bucket/key``)."""
    if not endpoint_url or endpoint_url == AWS:
        return None
    base, target = urlparse(endpoint_url), urlparse(uri)
    if target.scheme not in ("http", "https") or (target.hostname, target.port) != (base.hostname, base.port):
        return None
    path = target.path
    prefix = base.path.rstrip("/")
    if prefix and not path.startswith(prefix + "/"):
        return None
    bucket, _, key = path[len(prefix):].lstrip("/").partition("/")
    return (bucket, unquote(key)) if bucket and key else None


class S3ObjectStore:
    """Objects on an S3-compatible store; ``file://`` media from the local buckets at ``root``."""

    remote = True

    def __init__(self, endpoint_url: str, region: str = "us-east-1", root: Path | None = None, *,
                 create: bool = True, client=None):
        endpoint_url = (endpoint_url or "").strip()
        self.endpoint_url = "" if endpoint_url.lower() == AWS else endpoint_url.rstrip("/")
        self.region = region or "us-east-1"
        self.local = LocalObjectStore(Path(root), create=create) if root is not None else None
        self.root = self.local.root if self.local else None  # recovery of jobs.db looks there
        self._client = client

    # -- set-up -------------------------------------------------------------------
    def describe(self) -> dict:
        """What a worker process needs to open the same store (no credentials)."""
        return {"endpoint_url": self.endpoint_url or AWS, "region": self.region}

    @property
    def client(self):
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self):
        keys = keyring_keys()
        config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=60,
                        signature_version="s3v4")
        kwargs: dict = {"region_name": self.region, "config": config}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
            if not (urlparse(self.endpoint_url).hostname or "").endswith("amazonaws.com"):
                # MinIO, Ceph, moto: bucket.<host> names do not resolve
                kwargs["config"] = config.merge(Config(s3={"addressing_style": "path"}))
        try:
            return boto3.Session(**keys).client("s3", **kwargs)
        except botocore.exceptions.BotoCoreError as exc:
            raise StoreError(f"Internal failure: the object store cannot be used ({type(exc).__name__}). "
                             "Check the s3_endpoint_url and s3_region settings.") from None

    def _call(self, operation: str, **params):
        try:
            return getattr(self.client, operation)(**params)
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError,
                botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectionClosedError):
            raise StoreError(UNREACHABLE) from None
        except botocore.exceptions.NoCredentialsError:
            raise StoreError("Internal failure: ClinScribe has no credentials for the object store. Save "
                             "them with 'clinscribe s3-login' or give them to boto3 (environment, "
                             "~/.aws, an instance role) and try your request again.") from None

    # -- names --------------------------------------------------------------------
    def location(self, uri: str) -> tuple[str, str] | None:
        """(bucket, key) of an S3 URI of this store, or None."""
        found = parse_s3_uri(uri) or path_style_location(uri, self.endpoint_url)
        return found if found and found[0] and found[1] else None

    def url(self, bucket: str, key: str) -> str:
        """The object's URL as AWS writes TranscriptFileUri (path style)."""
        base = self.endpoint_url or f"https://s3.{self.region}.amazonaws.com"
        return f"{base}/{bucket}/{quote(key, safe='/!*()~-_.')}"

    @staticmethod
    def check_key(bucket: str, key: str) -> None:
        check_name(bucket, "bucket name")
        check_name(key, "key")
        if not bucket or "/" in bucket:
            raise InvalidKey(f"invalid bucket name {bucket!r}")
        if len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise InvalidKey(f"the key is {len(key.encode())} bytes long; S3 allows at most {MAX_KEY_BYTES}")

    def _where(self, uri: str) -> tuple[str, str]:
        found = self.location(uri)
        if found is None:
            raise ObjectNotFound(uri)
        return found

    # -- the engine's operations --------------------------------------------------------
    def exists(self, bucket: str, key: str) -> bool:
        try:
            self.check_key(bucket, key)
        except InvalidKey:
            return False
        try:
            self._call("head_object", Bucket=bucket, Key=key)
        except botocore.exceptions.ClientError as exc:
            if _missing(exc):
                return False
            raise self._output_error(exc, bucket) from None
        return True

    def check_output(self, bucket: str, key: str) -> None:
        """Before a job is queued: the key is usable and the output bucket is there (HeadBucket)."""
        self.check_key(bucket, key)
        try:
            self._call("head_bucket", Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            raise self._output_error(exc, bucket) from None

    @staticmethod
    def _output_error(exc: botocore.exceptions.ClientError, bucket: str) -> StoreError:
        return _mapped(exc, no_bucket(bucket), no_write_permission(bucket))

    def _read_object(self, operation: str, uri: str):
        """``operation`` (head_object, get_object) on the object ``uri`` names; ObjectNotFound
        (ObjectForbidden for 403) unless it is there and can be read."""
        bucket, key = self._where(uri)
        try:
            return self._call(operation, Bucket=bucket, Key=key)
        except botocore.exceptions.ClientError as exc:
            raise _mapped(exc, ObjectNotFound(uri), ObjectForbidden(uri)) from None

    def head(self, uri: str) -> None:
        """ObjectNotFound (ObjectForbidden for 403) unless ``uri`` is an object that can be read."""
        if uri.startswith("file://") and self.local is not None:
            self.local.resolve(uri)
            return
        self._read_object("head_object", uri)

    def read(self, uri: str) -> bytes:
        if uri.startswith("file://") and self.local is not None:
            return self.local.resolve(uri).read_bytes()
        return self._read_object("get_object", uri)["Body"].read()

    def open_media(self, uri: str, home: Path):
        """The media in memory (a named BytesIO); audio sealed at rest is opened there too."""
        from . import audiovault

        if uri.startswith("file://") and self.local is not None:
            return self.local.open_media(uri, home)
        data = self.read(uri)
        return audiovault.open_bytes(home, data, posixpath.basename(self._where(uri)[1]) or "media")

    def write_transcript(self, body: bytes, bucket: str, key: str) -> str:
        """PutObject, never over an existing object; returns the TranscriptFileUri."""
        self.check_key(bucket, key)
        try:
            self._call("put_object", Bucket=bucket, Key=key, Body=body, IfNoneMatch="*",
                       ContentType="application/json")
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in ("PreconditionFailed", "412") or _status(exc) == 412:
                raise ObjectExists(f"The transcript file s3://{bucket}/{key} already exists; ClinScribe never "
                                   "overwrites one. Use a different job name or OutputKey.",
                                   "ConflictException") from None
            raise self._output_error(exc, bucket) from None
        return self.url(bucket, key)

    def put_file(self, source: Path, bucket: str, key: str, *, seal_home: Path | None = None) -> str:
        """Upload a local file (sealed at rest first when ``seal_home`` is given); its ``s3://`` URI."""
        from . import audiovault

        self.check_key(bucket, key)
        data = Path(source).read_bytes()
        if seal_home is not None:
            data = audiovault.seal_bytes(seal_home, data)
        try:
            self._call("put_object", Bucket=bucket, Key=key, Body=data)
        except botocore.exceptions.ClientError as exc:
            raise self._output_error(exc, bucket) from None
        return f"s3://{bucket}/{key}"

    def remove(self, uri: str) -> None:
        found = self.location(uri)
        if found is None:
            return
        try:
            self._call("delete_object", Bucket=found[0], Key=found[1])
        except botocore.exceptions.ClientError as exc:
            if not _missing(exc):
                raise self._output_error(exc, found[0]) from None

    def resolve(self, uri: str) -> Path:
        """A local file only for ``file://`` URIs: objects in the store are not on this computer."""
        if uri.startswith("file://") and self.local is not None:
            return self.local.resolve(uri)
        raise ObjectNotFound(uri)


def from_settings(settings, root: Path | None, *, create: bool = True) -> S3ObjectStore:
    return S3ObjectStore(settings.s3_endpoint_url, settings.s3_region, root, create=create)


def open_store(options: dict):
    """The store a queued job's options name: the S3 store, or the local buckets (the default)."""
    remote = options.get("object_store")
    root = Path(options["storage_root"]) if options.get("storage_root") else None
    if remote:
        return S3ObjectStore(remote["endpoint_url"], remote.get("region", "us-east-1"), root)
    return LocalObjectStore(root)
