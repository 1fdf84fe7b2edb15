"""A local stand-in for S3: one folder per bucket under a storage root.

``s3://bucket/key``, the ``https://s3.<region>.amazonaws.com/bucket/key`` forms
and ``file://`` URIs all resolve to files on disk.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+)\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com$")
_PATH_HOST = re.compile(r"^s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com$")


class ObjectNotFound(LookupError):
    pass


class InvalidKey(ObjectNotFound, ValueError):
    """A key the local bucket cannot hold: it would leave the bucket, or a name is too long."""


NAME_MAX = 255 - len(".part")  # bytes per path component, less the temporary file's suffix
PATH_MAX = 4096 - len(".part")


def check_name(text: str, what: str) -> None:
    if "\0" in text:
        raise InvalidKey(f"the {what} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKey(f"the {what} is not valid UTF-8") from None


def parse_s3_uri(uri: str) -> tuple[str, str] | None:
    """(bucket, key) of an ``s3://`` or S3 ``https://`` URI, or None for other URIs."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        return parsed.netloc, unquote(parsed.path.lstrip("/"))
    if parsed.scheme in ("http", "https"):
        host = parsed.hostname or ""
        if _PATH_HOST.match(host):
            bucket, _, key = parsed.path.lstrip("/").partition("/")
            return bucket, unquote(key)
        match = _VIRTUAL_HOST.match(host)
        if match:
            return match["bucket"], unquote(parsed.path.lstrip("/"))
    return None


class LocalObjectStore:
    def __init__(self, root: Path, *, create: bool = True):
        self.root = Path(root)
        if create:  # not in a read-only home: there nothing is stored, and lookups find nothing
            self.root.mkdir(parents=True, exist_ok=True)

    def path(self, bucket: str, key: str) -> Path:
        """The file for ``bucket``/``key``; InvalidKey (naming why) when the local bucket can't hold it."""
        check_name(bucket, "bucket name")
        check_name(key, "key")
        if not bucket or "/" in bucket or bucket in (".", ".."):
            raise InvalidKey(f"invalid bucket name {bucket!r}")
        try:
            target = (self.root / bucket / key).resolve()
            bucket_dir = (self.root / bucket).resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
            raise InvalidKey(f"the key {key!r} can't be resolved in bucket {bucket}: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
        if bucket_dir not in target.parents:
            raise InvalidKey(f"the key {key!r} would leave the bucket {bucket} ('..' parts are not "
                             "supported by local buckets)")
        long = [part for part in target.relative_to(self.root).parts if len(part.encode()) > NAME_MAX]
        if long:
            raise InvalidKey(f"a part of the key is {len(long[0].encode())} bytes long; local buckets "
                             f"allow at most {NAME_MAX} bytes between slashes")
        if len(str(target).encode()) > PATH_MAX:
            raise InvalidKey(f"the key makes a path of {len(str(target).encode())} bytes; this file "
                             f"system allows at most {PATH_MAX}")
        return target

    def put_file(self, source: Path, bucket: str, key: str) -> str:
        target = self.path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        return f"s3://{bucket}/{key}"

    def put_bytes(self, data: bytes, bucket: str, key: str) -> Path:
        target = self.path(bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        return target

    def resolve(self, uri: str) -> Path:
        """The local file behind ``uri``; ObjectNotFound when there is none."""
        try:
            if uri.startswith("file://"):
                path = Path(unquote(urlparse(uri).path))
                check_name(str(path), "path")
            else:
                location = parse_s3_uri(uri)
                if location is None or not location[0] or not location[1]:
                    raise ObjectNotFound(uri)
                path = self.path(*location)
            if not path.is_file():
                raise ObjectNotFound(uri)
        except (OSError, ValueError, RuntimeError):  # a NUL, a name too long, a symlink loop
            raise ObjectNotFound(uri) from None
        return path

    # -- the interface the engine and the worker share with S3ObjectStore (app/store/s3store.py) --
    remote = False

    def describe(self) -> None:
        """What a worker needs besides ``storage_root`` to open this store: nothing."""
        return None

    def exists(self, bucket: str, key: str) -> bool:
        try:
            return self.path(bucket, key).exists()
        except ObjectNotFound:
            return False

    def check_output(self, bucket: str, key: str) -> None:
        """InvalidKey when the local bucket cannot hold ``key``."""
        self.path(bucket, key)

    def head(self, uri: str) -> None:
        self.resolve(uri)

    def read(self, uri: str) -> bytes:
        return self.resolve(uri).read_bytes()

    def open_media(self, uri: str, home: Path):
        from . import audiovault

        return audiovault.open_audio(home, self.resolve(uri))

    def write_transcript(self, body: bytes, bucket: str, key: str) -> str:
        return self.put_bytes(body, bucket, key).as_uri()

    def remove(self, uri: str) -> None:
        try:
            self.resolve(uri).unlink(missing_ok=True)
        except ObjectNotFound:
            pass
