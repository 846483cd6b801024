"""Byte-level access to the landing zone's storage, kept behind one small class.

The landing zone (``warehouse/landing.py``) decides *what* goes where; this module only knows how
to put bytes at a key atomically, move, list and delete them. Keys are POSIX-style relative paths
(``acme/files/orders/dt=2026-11-24/<batch>.parquet``). Two implementations share the protocol
:class:`LandingStorage`: a local folder (this module, the default) and an S3 bucket
(``warehouse/s3_storage.py``, production). Readers never assume a local file: they open a key
(``open_read``), ask for a temporary local copy (``local_paths``, for DuckDB's Parquet reader) or
read only the footer (``parquet_rows``).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

import pyarrow.parquet as pq

# Files being written carry this prefix until they are complete, so no reader lists them.
TEMP_PREFIX = ".tmp-"


class LandingStorage(Protocol):
    """What the landing zone needs of its storage; keys are relative POSIX paths."""

    def open_write(self, key: str) -> AbstractContextManager[BinaryIO]: ...
    def open_read(self, key: str) -> AbstractContextManager[BinaryIO]: ...
    def move(self, source_key: str, target_key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def list_files(self, prefix: str, suffix: str = "") -> list[str]: ...
    def list_children(self, prefix: str) -> list[str]: ...
    def sizes(self, prefix: str) -> dict[str, int]: ...
    def parquet_rows(self, key: str) -> int: ...
    def local_paths(self, keys: list[str]) -> AbstractContextManager[list[Path]]: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def delete_stale(self, prefix: str, older_than_s: float) -> None: ...
    def describe(self, key: str) -> str: ...


class LocalFolderStorage:
    """The landing zone's storage as a folder on the local file system."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The local path of ``key`` (readers such as DuckDB open these directly)."""
        return self.root.joinpath(*self._parts(key))

    @contextmanager
    def open_write(self, key: str) -> Iterator[BinaryIO]:
        """Write ``key`` atomically: readers see the old content or the complete new one.

        The bytes go to a hidden temporary file beside the target, are flushed to disk, then
        renamed over it (a rename within one file system is atomic), so a crash at any point
        never leaves a partly written file under ``key``.
        """
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{target.name}")
        try:
            with open(temp, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)

    def move(self, source_key: str, target_key: str) -> None:
        """Move one complete file to ``target_key``, replacing what is there atomically."""
        target = self.path(target_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(source_key), target)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def list_files(self, prefix: str, suffix: str = "") -> list[str]:
        """Keys of the files under ``prefix``, recursively and sorted; hidden files left out."""
        base = self.path(prefix)
        if not base.is_dir():
            return []
        keys = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                if name.startswith(".") or not name.endswith(suffix):
                    continue
                rel = Path(dirpath, name).relative_to(self.root)
                keys.append(rel.as_posix())
        return sorted(keys)

    def sizes(self, prefix: str) -> dict[str, int]:
        """Bytes of every file under ``prefix`` (keys as :meth:`list_files` gives them)."""
        return {key: self.path(key).stat().st_size for key in self.list_files(prefix)}

    @contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        with open(self.path(key), "rb") as handle:
            yield handle

    def parquet_rows(self, key: str) -> int:
        """Rows of a Parquet file, from its footer."""
        return pq.read_metadata(self.path(key)).num_rows

    @contextmanager
    def local_paths(self, keys: list[str]) -> Iterator[list[Path]]:
        """Local paths of ``keys``: the files themselves, nothing to copy."""
        paths = [self.path(key) for key in keys]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"no such landing file(s): {', '.join(missing)}")
        yield paths

    def describe(self, key: str) -> str:
        return str(self.path(key))

    def list_children(self, prefix: str) -> list[str]:
        """Names of the folders directly under ``prefix``, sorted; hidden ones skipped."""
        base = self.path(prefix) if prefix else self.root
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))

    def delete_prefix(self, prefix: str) -> None:
        """Delete everything under ``prefix``."""
        base = self.path(prefix)
        if base.is_dir():
            shutil.rmtree(base)
        elif base.exists():
            base.unlink()

    def delete_stale(self, prefix: str, older_than_s: float) -> None:
        """Delete the folders directly under ``prefix`` untouched for ``older_than_s`` seconds.

        Used for the staging areas of imports that crashed; live imports keep touching theirs.
        """
        base = self.path(prefix)
        if not base.is_dir():
            return
        cutoff = time.time() - older_than_s
        for child in base.iterdir():
            if child.is_dir() and child.stat().st_mtime < cutoff:
                shutil.rmtree(child, ignore_errors=True)

    @staticmethod
    def _parts(key: str) -> tuple[str, ...]:
        parts = PurePosixPath(key).parts
        # Keys are built from validated names, but refuse anything that could leave the root.
        if not parts or PurePosixPath(key).is_absolute() or any(p in ("..", "") for p in parts):
            raise ValueError(f"invalid landing key {key!r}")
        return parts
