"""Each platform's webhook signature, checked in constant time against the tenant's secret.

Every check takes the raw request body exactly as it arrived: a signature over re-serialised
JSON would not match. Comparisons use :func:`hmac.compare_digest` so the time an answer takes
says nothing about how much of a forged signature was right.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

# HubSpot's own limit: a request whose timestamp is older than this is refused (replay).
HUBSPOT_MAX_AGE_S = 300


class SignatureError(Exception):
    """The request is not signed by the tenant's secret (or is too old); answered 401."""


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _same(expected: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def base64_hmac(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): Shopify's and WooCommerce's scheme."""
    return base64.b64encode(_hmac_sha256(secret.encode(), body)).decode()


def check_base64_hmac(secret: str, body: bytes, given: str | None, header: str) -> None:
    if not _same(base64_hmac(secret, body), given):
        raise SignatureError(f"missing or wrong {header}")


def squarespace_signature(secret: str, body: bytes) -> str:
    """hex(HMAC-SHA256(bytes.fromhex(secret), body)): Squarespace gives its secret as hex."""
    return _hmac_sha256(squarespace_key(secret), body).hex()


def squarespace_key(secret: str) -> bytes:
    """The key bytes of a Squarespace secret; ValueError when it is not hex text."""
    try:
        return bytes.fromhex(secret.strip())
    except ValueError:
        # The parser's message quotes part of the value: left out.
        raise ValueError("is not hex text (Squarespace gives its webhook secret as hex)") from None


def check_squarespace(secret: str, body: bytes, given: str | None) -> None:
    expected = squarespace_signature(secret, body)
    if not given or not hmac.compare_digest(expected, given.strip().lower()):
        raise SignatureError("missing or wrong Squarespace-Signature")


def hubspot_v3_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """base64(HMAC-SHA256(secret, method + uri + body + timestamp)): HubSpot's v3 scheme."""
    message = method.upper().encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(_hmac_sha256(secret.encode(), message)).decode()


def check_hubspot_v3(
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str | None,
    given: str | None,
    now_ms: int,
) -> None:
    """The v3 signature, and a timestamp (ms since the epoch) at most five minutes old."""
    if not timestamp or not timestamp.strip().isdigit():
        raise SignatureError("missing or malformed X-HubSpot-Request-Timestamp")
    age_s = (now_ms - int(timestamp.strip())) / 1000
    if age_s > HUBSPOT_MAX_AGE_S:
        raise SignatureError(
            f"X-HubSpot-Request-Timestamp is {age_s:.0f} s old (more than {HUBSPOT_MAX_AGE_S} s)"
        )
    if not _same(hubspot_v3_signature(secret, method, uri, body, timestamp.strip()), given):
        raise SignatureError("missing or wrong X-HubSpot-Signature-v3")


def check_shared_secret(secret: str, given: str | None, header: str) -> None:
    """A secret sent as it is in a header the sender was told to add (BigCommerce, Meta)."""
    if not _same(secret, given):
        raise SignatureError(f"missing or wrong {header}")
