"""One JSON POST over the standard library, and how an HTTP answer is classified for retries.

``urllib`` rather than ``requests``: ``requests`` is only here as a dependency of other
packages, and a POST with a JSON body needs nothing more. Redirects are not followed: a webhook
that moved is a configuration to fix (and following it would send the credentials to whatever
host it names).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from serving.delivery.retry import Outcome

USER_AGENT = "Earshot/0.1 (+https://github.com/earshot-analytics/earshot)"
# Statuses that say "not now" rather than "never": throttled, timed out, or a server failure.
TRANSIENT_STATUSES = frozenset({408, 425, 429})
BODY_EXCERPT_CHARS = 200


@dataclass(frozen=True)
class HttpResponse:
    """A status, headers (names lower-cased) and the raw body."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any | None:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def excerpt(self) -> str:
        """The body's start on one line, for an error message."""
        text = " ".join(self.body.decode("utf-8", errors="replace").split())
        if len(text) > BODY_EXCERPT_CHARS:
            text = text[: BODY_EXCERPT_CHARS - 1] + "…"
        return text


class ConnectionFailed(Exception):
    """No HTTP answer at all: refused, reset, timed out, TLS or DNS failure."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirects())


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` set in its query (other parameters kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def check_http_url(url: str, what: str) -> None:
    """Refuse anything but an absolute http(s) URL when a channel is configured."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # Never echo the URL itself: it may be a credential.
        raise ValueError(f"{what}: not an http(s) URL (scheme {parts.scheme!r})")


def post_json(
    url: str,
    payload: Any,
    *,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 30.0,
) -> HttpResponse:
    """POST ``payload`` as JSON; any HTTP answer (2xx or not) is returned, no answer raises
    :class:`ConnectionFailed` (whose message never contains the URL)."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json; charset=utf-8")
    request.add_header("User-Agent", USER_AGENT)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with _OPENER.open(request, timeout=timeout_s) as answer:
            return HttpResponse(answer.status, _lower(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        with error:
            data = error.read() if error.fp is not None else b""
        return HttpResponse(error.code, _lower(error.headers.items()), data)
    except urllib.error.URLError as error:
        raise ConnectionFailed(f"connection failed: {error.reason}") from None
    except (OSError, http.client.HTTPException) as error:  # reset, timeout, bad status line
        raise ConnectionFailed(f"connection failed: {type(error).__name__}: {error}") from None


def _lower(items: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds (``2``, and the ``2.0`` some
    services send) or an HTTP date (counted from ``now``, epoch seconds); None when absent or
    unreadable, so the caller falls back to its backoff."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    reference = time.time() if now is None else now
    return max(0.0, when.timestamp() - reference)


def retry_after_of(response: HttpResponse) -> float | None:
    """The response's ``Retry-After`` in seconds. An HTTP date is counted from the response's
    own ``Date`` header when it has one, so a skewed local clock does not matter."""
    now = None
    date = response.header("Date")
    if date:
        try:
            now = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            now = None
    return parse_retry_after(response.header("Retry-After"), now)


def classify_failure(response: HttpResponse, retry_after_s: float | None = None) -> Outcome:
    """A non-2xx answer: 429, 408/425 and 5xx are worth another try (after ``retry_after_s``,
    else the ``Retry-After`` header, else the backoff); any other status is permanent."""
    status = response.status
    excerpt = response.excerpt()
    reason = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
    if 300 <= status < 400:
        return Outcome.permanent_failure(
            f"{reason} (redirected; configure the final URL, redirects are not followed)", status
        )
    if status in TRANSIENT_STATUSES or status >= 500:
        wait = retry_after_s if retry_after_s is not None else retry_after_of(response)
        return Outcome.transient_failure(reason, status, wait)
    return Outcome.permanent_failure(reason, status)
