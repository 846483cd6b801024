"""The landing zone's storage in an S3 bucket (production), with LocalFolderStorage's semantics.

Keys are the same POSIX-style relative paths as on a local folder
(``acme/files/orders/dt=2026-11-24/<batch>.parquet``); the object key is ``<prefix>/<key>``.
S3 has no folders and no rename, so:

- ``open_write`` spools the bytes locally and uploads them when the block ends normally. An S3
  PUT (single or multipart) only becomes visible once complete, so readers see the old object or
  the whole new one, never part of it, and an exception inside the block uploads nothing.
- ``move`` is a managed copy (multipart copy for big objects) followed by a delete of the source.
- "Folders" are key prefixes up to a ``/``; a folder exists while an object is under it.

Errors from S3 are raised as :class:`S3StorageError` (an ``OSError``; missing objects as
:class:`S3KeyNotFound`, also a ``FileNotFoundError``, refused access as :class:`S3AccessDenied`,
also a ``PermissionError``) whose message names the bucket and key. Credentials never appear in
messages: they are only ever handled by boto3's own credential chain.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

import pyarrow as pa
import pyarrow.parquet as pq
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

# Bytes written through open_write stay in memory up to this size, then spill to a temp file.
SPOOL_MAX_BYTES = 64 * 1024 * 1024
# S3 returns at most 1000 keys per listing page and deletes at most 1000 keys per request.
MAX_PAGE_SIZE = 1000
PARQUET_MAGIC = b"PAR1"
# The last 8 bytes of a Parquet file: a 4-byte little-endian footer length, then the magic.
PARQUET_TAIL = 8

NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
ACCESS_DENIED_CODES = frozenset(
    {"403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
)

T = TypeVar("T")


class S3StorageError(OSError):
    """An S3 request of the landing zone failed; the message names the bucket and key."""


class S3KeyNotFound(S3StorageError, FileNotFoundError):
    """The object does not exist (the bucket does)."""


class S3AccessDenied(S3StorageError, PermissionError):
    """S3 refused the request: missing permission or invalid credentials."""


def _validated_parts(key: str, what: str) -> list[str]:
    """The parts of a relative POSIX key, refusing anything that is not a plain relative path.

    Stricter than a local path: ``a//b`` and ``a/./b`` name different objects in S3 than
    ``a/b``, so empty and ``.`` parts are refused rather than normalised away.
    """
    if not isinstance(key, str) or not key or key.startswith("/"):
        raise ValueError(f"invalid {what} {key!r}")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts) or "\\" in key or "\0" in key:
        raise ValueError(f"invalid {what} {key!r}")
    return parts


def _is_hidden(relative: str) -> bool:
    return any(part.startswith(".") for part in relative.split("/"))


class S3Storage:
    """The landing zone's storage as the objects under ``<prefix>/`` in an S3 bucket."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        client: Any = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        spool_max_bytes: int = SPOOL_MAX_BYTES,
        transfer_config: TransferConfig | None = None,
    ) -> None:
        if not bucket or "/" in bucket:
            raise ValueError(f"invalid S3 bucket name {bucket!r}")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
        prefix = prefix.strip("/")
        if prefix:
            _validated_parts(prefix, "S3 storage prefix")
        self.bucket = bucket
        self.prefix = prefix
        # Object keys of this storage start with this (empty, or the prefix and a slash).
        self._root = f"{prefix}/" if prefix else ""
        if client is None:
            import boto3

            client = boto3.session.Session().client("s3")
        self.client = client
        # Smaller pages only serve to exercise pagination in tests; 1000 is S3's maximum.
        self.page_size = page_size
        self.spool_max_bytes = spool_max_bytes
        self.transfer_config = transfer_config or TransferConfig()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> S3Storage:
        """Storage configured by ``EARSHOT_LANDING_BUCKET`` and ``EARSHOT_LANDING_PREFIX``.

        Credentials and region come from boto3's standard chain (``AWS_ACCESS_KEY_ID``, profiles,
        instance or pod roles, ...), which also honours ``AWS_ENDPOINT_URL``;
        ``EARSHOT_S3_ENDPOINT_URL`` overrides the endpoint for the landing zone alone.
        """
        env = os.environ if environ is None else environ
        bucket = env.get("EARSHOT_LANDING_BUCKET", "").strip()
        if not bucket:
            raise ValueError(
                "EARSHOT_LANDING_BUCKET is not set: name the S3 bucket that holds the landing zone"
            )
        import boto3
        from botocore.config import Config

        endpoint = env.get("EARSHOT_S3_ENDPOINT_URL", "").strip() or None
        client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint, config=Config(retries={"mode": "standard"})
        )
        return cls(bucket, env.get("EARSHOT_LANDING_PREFIX", ""), client)

    # -- keys --------------------------------------------------------------------------------

    def object_key(self, key: str) -> str:
        """The S3 object key of landing key ``key``."""
        _validated_parts(key, "landing key")
        return self._root + key

    def describe(self, key: str) -> str:
        """``s3://<bucket>/<prefix>/<key>``, for messages."""
        return f"s3://{self.bucket}/{self.object_key(key)}"

    def _folder(self, prefix: str) -> str:
        """The S3 listing prefix of the folder ``prefix`` (``""`` is the storage's top level)."""
        return self.object_key(prefix) + "/" if prefix else self._root

    # -- writing -----------------------------------------------------------------------------

    @contextmanager
    def open_write(self, key: str) -> Iterator[BinaryIO]:
        """Write ``key`` atomically: readers see the old object or the complete new one.

        The bytes are spooled (in memory, on disk past ``spool_max_bytes``) and uploaded when the
        block ends normally; ``upload_fileobj`` switches to a multipart upload for big files,
        which S3 only makes visible once every part is there. An exception in the block
        uploads nothing.
        """
        obj = self.object_key(key)
        with tempfile.SpooledTemporaryFile(max_size=self.spool_max_bytes) as spool:
            yield cast(BinaryIO, spool)
            spool.seek(0)
            self._call(
                "upload",
                obj,
                lambda: self.client.upload_fileobj(
                    spool, self.bucket, obj, Config=self.transfer_config
                ),
            )

    def move(self, source_key: str, target_key: str) -> None:
        """Copy ``source_key`` over ``target_key`` (replacing it atomically), then delete it."""
        source = self.object_key(source_key)
        target = self.object_key(target_key)
        # The managed copy switches to a multipart copy for big objects (single copies stop
        # at 5 GB).
        self._call(
            "copy",
            source,
            lambda: self.client.copy(
                {"Bucket": self.bucket, "Key": source},
                self.bucket,
                target,
                Config=self.transfer_config,
            ),
        )
        self._call(
            "delete", source, lambda: self.client.delete_object(Bucket=self.bucket, Key=source)
        )

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under ``prefix/``, hidden ones included, and one named ``prefix``."""
        folder = self.object_key(prefix) + "/"
        for page in self._pages(folder):
            self._delete_objects([item["Key"] for item in page.get("Contents", [])], folder)
        if self.exists(prefix):
            self._delete_objects([self.object_key(prefix)], self.object_key(prefix))

    def delete_stale(self, prefix: str, older_than_s: float) -> None:
        """Delete the folders directly under ``prefix`` untouched for ``older_than_s`` seconds.

        A folder's age is that of its newest object (S3 folders have no time of their own).
        Used for the staging areas of imports that crashed; live imports keep writing to theirs.
        """
        self._delete_older_than(prefix, time.time() - older_than_s)

    def _delete_older_than(self, prefix: str, cutoff: float) -> None:
        folder = self._folder(prefix)
        newest: dict[str, float] = {}
        for page in self._pages(folder):
            for item in page.get("Contents", []):
                child, sep, _ = item["Key"][len(folder) :].partition("/")
                if sep and child:
                    stamp = item["LastModified"].timestamp()
                    newest[child] = max(newest.get(child, stamp), stamp)
        base = f"{prefix}/" if prefix else ""
        for child, stamp in sorted(newest.items()):
            if stamp < cutoff:
                self.delete_prefix(base + child)

    # -- reading -----------------------------------------------------------------------------

    def exists(self, key: str) -> bool:
        """Whether the object ``key`` exists.

        Asked with a one-key listing rather than a HEAD request: a HEAD answers a bare 404 for a
        missing bucket too, which would read as "no such object" instead of an error.
        """
        obj = self.object_key(key)
        page = self._call(
            "list",
            obj,
            lambda: self.client.list_objects_v2(Bucket=self.bucket, Prefix=obj, MaxKeys=1),
        )
        # The key itself sorts before every longer key that starts with it.
        contents = page.get("Contents", [])
        return bool(contents) and contents[0]["Key"] == obj

    def list_files(self, prefix: str, suffix: str = "") -> list[str]:
        """Keys of the objects under ``prefix``, recursively and sorted; hidden ones left out."""
        return sorted(self._visible(prefix, suffix))

    def sizes(self, prefix: str) -> dict[str, int]:
        """Size in bytes of every (non-hidden) object under ``prefix``, by key."""
        return dict(sorted(self._visible(prefix, "").items()))

    def list_children(self, prefix: str) -> list[str]:
        """Names of the folders directly under ``prefix`` (``""``: the top level), sorted."""
        folder = self._folder(prefix)
        names = set()
        for page in self._pages(folder, delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(folder) :].rstrip("/")
                if name and "/" not in name and not name.startswith("."):
                    names.add(name)
        return sorted(names)

    @contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        """A seekable binary file with the content of ``key`` (downloaded to a spool file)."""
        obj = self.object_key(key)
        with tempfile.SpooledTemporaryFile(max_size=self.spool_max_bytes) as spool:
            self._call(
                "download",
                obj,
                lambda: self.client.download_fileobj(
                    self.bucket, obj, spool, Config=self.transfer_config
                ),
            )
            spool.seek(0)
            yield cast(BinaryIO, spool)

    def parquet_rows(self, key: str) -> int:
        """The row count of the Parquet object ``key``, read from its footer alone.

        Two ranged GETs: the last 8 bytes (footer length and magic), then the footer. pyarrow
        parses the footer from a buffer laid out like a file with no data pages in it
        (``PAR1`` + footer + length + ``PAR1``); it does not look at the column chunks.
        """
        obj = self.object_key(key)
        tail = self._get_range(obj, f"bytes=-{PARQUET_TAIL}")
        if len(tail) < PARQUET_TAIL or tail[4:] != PARQUET_MAGIC:
            raise ValueError(f"{self.describe(key)} is not a Parquet file (no PAR1 footer)")
        footer_len = int.from_bytes(tail[:4], "little")
        footer = self._get_range(obj, f"bytes=-{footer_len + PARQUET_TAIL}")
        if len(footer) != footer_len + PARQUET_TAIL:
            raise ValueError(f"{self.describe(key)}: Parquet footer length {footer_len} is invalid")
        buffer = pa.py_buffer(PARQUET_MAGIC + footer)
        try:
            return pq.read_metadata(pa.BufferReader(buffer)).num_rows
        except (pa.ArrowException, OSError) as exc:
            raise ValueError(f"{self.describe(key)}: unreadable Parquet footer: {exc}") from exc

    @contextmanager
    def local_paths(self, keys: list[str]) -> Iterator[list[Path]]:
        """Local copies of ``keys`` (for DuckDB and pyarrow), in order; removed afterwards.

        Each object lands at its own key under a fresh temporary folder, so equal file names
        in different folders stay apart and readers still see the ``dt=`` folders.
        """
        objects = [self.object_key(key) for key in keys]  # refuse a bad key before any download
        with tempfile.TemporaryDirectory(prefix="earshot-landing-") as tmp:
            paths = []
            for key, obj in zip(keys, objects, strict=True):
                path = Path(tmp).joinpath(*key.split("/"))
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    self._call(
                        "download",
                        obj,
                        lambda obj=obj, path=path: self.client.download_file(
                            self.bucket, obj, str(path), Config=self.transfer_config
                        ),
                    )
                paths.append(path)
            yield paths

    # -- internals ---------------------------------------------------------------------------

    def _visible(self, prefix: str, suffix: str) -> dict[str, int]:
        """Key -> size of the non-hidden objects under ``prefix/`` whose name ends in ``suffix``."""
        folder = self.object_key(prefix) + "/"
        found: dict[str, int] = {}
        for page in self._pages(folder):
            for item in page.get("Contents", []):
                below = item["Key"][len(folder) :]
                # Skip hidden parts like a local folder does, and folder markers or doubled
                # slashes that no valid landing key produces.
                if not below or _is_hidden(below) or "" in below.split("/"):
                    continue
                if below.rsplit("/", 1)[-1].endswith(suffix):
                    found[item["Key"][len(self._root) :]] = int(item["Size"])
        return found

    def _pages(self, folder: str, delimiter: str | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a listing of ``folder`` (S3 returns at most 1000 keys a page)."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": folder}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(**kwargs, PaginationConfig={"PageSize": self.page_size})
        iterator = iter(pages)
        while True:
            page = self._call("list", folder, lambda: next(iterator, None))
            if page is None:
                return
            yield page

    def _delete_objects(self, objects: list[str], where: str) -> None:
        """Delete ``objects`` in requests of at most ``page_size`` (S3 takes 1000 at most)."""
        for start in range(0, len(objects), self.page_size):
            batch = objects[start : start + self.page_size]
            response = self._call(
                "delete",
                where,
                lambda batch=batch: self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                ),
            )
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise S3StorageError(
                    f"S3 delete of {len(errors)} object(s) under s3://{self.bucket}/{where} "
                    f"failed, first s3://{self.bucket}/{first.get('Key')}: "
                    f"{first.get('Code')}: {first.get('Message')}"
                )

    def _get_range(self, obj: str, byte_range: str) -> bytes:
        def get() -> bytes:
            response = self.client.get_object(Bucket=self.bucket, Key=obj, Range=byte_range)
            with response["Body"] as body:
                return body.read()

        return self._call("read", obj, get)

    def _call(self, action: str, obj: str, request: Callable[[], T]) -> T:
        """Run one S3 request; turn boto's errors into S3StorageErrors naming bucket and key."""
        try:
            return request()
        except ClientError as exc:
            raise self._translate(exc, action, obj) from exc
        except Boto3Error as exc:
            # upload helpers wrap a ClientError in S3UploadFailedError; classify the original.
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, ClientError):
                raise self._translate(cause, action, obj) from exc
            raise S3StorageError(f"S3 {action} of s3://{self.bucket}/{obj} failed: {exc}") from exc
        except BotoCoreError as exc:
            # Connection errors, missing credentials: the message names no secret.
            raise S3StorageError(f"S3 {action} of s3://{self.bucket}/{obj} failed: {exc}") from exc

    def _translate(self, exc: ClientError, action: str, obj: str) -> S3StorageError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        detail = error.get("Message") or exc.response.get("ResponseMetadata", {}).get(
            "HTTPStatusCode", ""
        )
        where = f"s3://{self.bucket}/{obj}"
        if code == "NoSuchBucket" or (code in NOT_FOUND_CODES and not self._bucket_exists()):
            return S3StorageError(
                f"S3 {action} of {where} failed: bucket {self.bucket!r} does not exist"
            )
        if code in NOT_FOUND_CODES:
            return S3KeyNotFound(f"S3 {action} of {where} failed: no such object")
        message = f"S3 {action} of {where} failed: {code or 'error'}: {detail}"
        if code in ACCESS_DENIED_CODES:
            return S3AccessDenied(message)
        return S3StorageError(message)

    def _bucket_exists(self) -> bool:
        """Tells a missing bucket from a missing key after a bare 404 (HEAD has no error body)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            return str(exc.response.get("Error", {}).get("Code")) not in ("404", "NoSuchBucket")
        except BotoCoreError:
            return True
        return True
