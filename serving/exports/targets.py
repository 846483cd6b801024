"""Where a tenant's exports go: one S3 bucket and prefix per tenant, never shared.

A prefix is normalised once, here, so that every comparison and every key is built from the same
spelling: ``/acme//`` and ``acme`` would otherwise be two prefixes for one folder, and a prefix
holding ``..`` could point outside the folder a tenant was given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# S3's rules for general purpose bucket names
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

# A prefix segment: characters S3 documents as safe in keys, plus '=' for hive-style folders
# (tenant=acme). Nothing that needs URL encoding or means something to a shell or a path.
_SEGMENT = re.compile(r"^[A-Za-z0-9!_.*'()=-]+$")
# Keys are at most 1024 bytes; the export's own part (exports/<id>/<schema>.<table>.parquet)
# needs room after the prefix.
MAX_PREFIX_LENGTH = 512


class ExportTargetError(ValueError):
    """A bucket or prefix that cannot receive a tenant's export, or two that overlap."""


def validate_bucket(bucket: str) -> str:
    """Return ``bucket`` when it is a valid S3 general purpose bucket name."""
    if not isinstance(bucket, str) or not _BUCKET_CHARS.match(bucket):
        raise ExportTargetError(
            f"bucket {bucket!r} is not a valid S3 bucket name: 3 to 63 characters, lowercase "
            "letters, digits, '.' and '-', beginning and ending with a letter or digit"
        )
    if ".." in bucket:
        raise ExportTargetError(f"bucket {bucket!r} has two adjacent periods")
    if _IP_ADDRESS.match(bucket):
        raise ExportTargetError(f"bucket {bucket!r} is formatted as an IP address")
    for reserved in _RESERVED_BUCKET_PREFIXES:
        if bucket.startswith(reserved):
            raise ExportTargetError(f"bucket {bucket!r} starts with the reserved {reserved!r}")
    for reserved in _RESERVED_BUCKET_SUFFIXES:
        if bucket.endswith(reserved):
            raise ExportTargetError(f"bucket {bucket!r} ends with the reserved {reserved!r}")
    return bucket


def normalise_prefix(prefix: str) -> str:
    """``prefix`` as ``seg/seg/`` (or ``""`` for the whole bucket): no leading slash, one
    trailing slash, no empty, ``.`` or ``..`` segment."""
    if not isinstance(prefix, str):
        raise ExportTargetError(f"prefix {prefix!r} is not a string")
    stripped = prefix.strip("/")
    if not stripped:
        return ""
    segments = stripped.split("/")
    for segment in segments:
        if segment == "":
            raise ExportTargetError(f"prefix {prefix!r} has an empty segment ('//')")
        if segment in (".", ".."):
            raise ExportTargetError(f"prefix {prefix!r} has a {segment!r} segment")
        if not _SEGMENT.match(segment):
            raise ExportTargetError(
                f"prefix {prefix!r}: segment {segment!r} may hold only letters, digits and "
                "!_.*'()=-"
            )
    normalised = "/".join(segments) + "/"
    if len(normalised) > MAX_PREFIX_LENGTH:
        raise ExportTargetError(
            f"prefix {prefix!r} is {len(normalised)} characters, at most {MAX_PREFIX_LENGTH}"
        )
    return normalised


@dataclass(frozen=True)
class ExportTarget:
    """A tenant's export destination: ``s3://<bucket>/<prefix>``; the prefix is normalised
    (``"/acme"`` becomes ``"acme/"``, ``""`` is the whole bucket)."""

    bucket: str
    prefix: str = ""

    def __post_init__(self) -> None:
        validate_bucket(self.bucket)
        object.__setattr__(self, "prefix", normalise_prefix(self.prefix))

    @property
    def exports_prefix(self) -> str:
        """Where every export of this target lives: ``<prefix>exports/``."""
        return f"{self.prefix}exports/"

    def export_folder(self, export_id: str) -> str:
        return f"{self.exports_prefix}{export_id}/"

    @property
    def latest_key(self) -> str:
        return f"{self.exports_prefix}latest.json"

    def uri(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{key or self.prefix}"

    def contains(self, other: ExportTarget) -> bool:
        """Whether every key under ``other`` is also under this target."""
        return self.bucket == other.bucket and other.prefix.startswith(self.prefix)


def check_disjoint(targets: Mapping[str, ExportTarget]) -> None:
    """Refuse tenants whose targets overlap: one prefix equal to or inside another's in the same
    bucket would let a tenant reading its own folder receive another tenant's files.

    Prefixes end with '/', so ``acme/`` and ``acme2/`` are apart; different buckets never overlap.
    """
    items = sorted(targets.items())
    for i, (tenant_a, a) in enumerate(items):
        for tenant_b, b in items[i + 1 :]:
            if a.contains(b) or b.contains(a):
                if a.prefix == b.prefix:
                    how = "the same prefix"
                elif a.contains(b):
                    how = f"{tenant_b}'s prefix inside {tenant_a}'s"
                else:
                    how = f"{tenant_a}'s prefix inside {tenant_b}'s"
                raise ExportTargetError(
                    f"export targets of tenants {tenant_a!r} ({a.uri()}) and {tenant_b!r} "
                    f"({b.uri()}) overlap ({how}): each tenant needs a prefix of its own"
                )
