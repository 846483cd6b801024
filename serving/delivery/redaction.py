"""Keeping secrets out of errors and logs.

A chat or automation webhook URL *is* its credential (Slack's ``/services/T../B../<token>``,
Discord's ``/webhooks/<id>/<token>``, a Zapier catch hook's path), so a channel is only ever
shown by scheme and host.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

REDACTED = "***"


def redact_url(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: no user info, path, query or fragment."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return REDACTED
    host = parts.hostname
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret replaced by ***.

    Defence in depth: reasons are built without secrets, but a library's exception text or a
    server's error body could echo a URL or a token back.
    """
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def url_secrets(url: str) -> tuple[str, ...]:
    """The parts of a webhook URL that must never be shown: the URL, and its path and query
    (a token can sit in either)."""
    parts = urlsplit(url)
    found = [url, parts.path.strip("/"), parts.query]
    return tuple(part for part in found if part)
