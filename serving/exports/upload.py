"""The S3 side of an export: put files with their SHA-256, list, delete, read small JSON objects.

The client is the caller's (boto3 ``s3`` client, with its own endpoint and credentials); nothing
here reads credentials or logs request details. Every object is sent with its SHA-256
(``ChecksumSHA256``), so S3 itself refuses a body that changed on the way.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

# Above this, a file goes up in parts (``upload_fileobj``), each part with its own SHA-256
# checked by S3; below it, one request whose whole-body SHA-256 S3 checks.
MULTIPART_THRESHOLD = 256 * 1024 * 1024
# S3's DeleteObjects takes at most 1000 keys per request.
_DELETE_BATCH = 1000


class ExportUploadError(RuntimeError):
    """An S3 request of an export failed; names the bucket, key and S3's error code."""


def _client_error(exc: Exception, action: str, bucket: str, key: str) -> ExportUploadError:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
    return ExportUploadError(f"could not {action} s3://{bucket}/{key}: {code}")


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def put_file(s3: Any, bucket: str, key: str, path: Path, sha256: str, content_type: str) -> None:
    """Upload ``path`` to ``key``; ``sha256`` (hex) is checked by S3 and kept as metadata."""
    from botocore.exceptions import BotoCoreError, ClientError

    size = path.stat().st_size
    try:
        with open(path, "rb") as body:
            if size <= MULTIPART_THRESHOLD:
                s3.put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=body,
                    ContentType=content_type,
                    ChecksumSHA256=_b64(sha256),
                    Metadata={"sha256": sha256},
                )
            else:
                s3.upload_fileobj(
                    body,
                    bucket,
                    key,
                    ExtraArgs={
                        "ContentType": content_type,
                        "ChecksumAlgorithm": "SHA256",
                        "Metadata": {"sha256": sha256},
                    },
                )
    except (ClientError, BotoCoreError) as exc:
        raise _client_error(exc, "upload", bucket, key) from exc


def put_json(s3: Any, bucket: str, key: str, document: str) -> str:
    """Upload a JSON document; returns its SHA-256 (hex)."""
    from botocore.exceptions import BotoCoreError, ClientError

    body = document.encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()
    try:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ChecksumSHA256=_b64(digest),
            Metadata={"sha256": digest},
        )
    except (ClientError, BotoCoreError) as exc:
        raise _client_error(exc, "upload", bucket, key) from exc
    return digest


def get_json(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """The JSON object at ``key``, or None when there is none."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise _client_error(exc, "read", bucket, key) from exc
    except BotoCoreError as exc:
        raise _client_error(exc, "read", bucket, key) from exc
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ExportUploadError(f"s3://{bucket}/{key} is not valid JSON") from exc


def list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Every key under ``prefix``, sorted."""
    from botocore.exceptions import BotoCoreError, ClientError

    keys: list[str] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
    except (ClientError, BotoCoreError) as exc:
        raise _client_error(exc, "list", bucket, prefix) from exc
    return sorted(keys)


def delete_keys(s3: Any, bucket: str, keys: list[str]) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    for start in range(0, len(keys), _DELETE_BATCH):
        chunk = keys[start : start + _DELETE_BATCH]
        try:
            answer = s3.delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
            )
        except (ClientError, BotoCoreError) as exc:
            raise _client_error(exc, "delete under", bucket, chunk[0]) from exc
        errors = answer.get("Errors") or []
        if errors:
            first = errors[0]
            raise ExportUploadError(
                f"could not delete s3://{bucket}/{first.get('Key')}: {first.get('Code')}"
                + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
            )
