"""Fake Slack, Discord and generic webhook receivers on one loopback HTTP server.

Real sockets, real HTTP: a channel under test (or ``make demo``) is given the fake's URLs and
talks to it exactly as it would to the service. Each route answers the way its service does,
including its mistakes and its throttling:

* ``/slack/hooks/T.../B.../<token>``: a Slack incoming webhook (``slack_hook_url``); 200 ``ok``,
  404 ``no_service`` for a hook nobody registered, 400 ``no_text`` / ``invalid_payload``;
* ``/slack/api/chat.postMessage``: Slack's Web API; checks the bearer token
  (``slack_bot_token``) and the channel (``slack_channel``); failures are HTTP 200 with
  ``{"ok": false, "error": ...}`` as Slack's are;
* ``/discord/api/webhooks/<id>/<token>``: a Discord webhook (``discord_webhook_url``); 400 for
  ``content`` over 2000 characters or an empty message, 404 ``Unknown Webhook``;
* ``/hooks/<name>``: a generic webhook (``webhook_url``), optionally checking basic, header or
  bearer authentication.

Faults are injected by path prefix: ``throttle`` answers 429 in the service's own way (Slack: a
``Retry-After`` header; Discord: ``retry_after`` in the JSON body plus ``X-RateLimit-*``
headers), ``fail`` answers any status (500 by default). ``requests`` lists every request (faults
included), ``received(kind)`` the accepted messages; with ``record_dir`` each accepted message is
also appended to ``<record_dir>/<kind>.jsonl``, without credentials.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from serving.sandbox.lifecycle import LocalService

KINDS = ("slack_webhook", "slack_api", "discord", "webhook")
DISCORD_CONTENT_CHARS = 2000
DISCORD_MAX_EMBEDS = 10
# Headers never written to the record files (credentials).
_UNRECORDED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received, whatever it answered."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    kind: str | None
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Fault:
    prefix: str
    remaining: int
    status: int
    retry_after: float | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _WebhookAuth:
    mode: str = "none"
    username: str | None = None
    secret: str | None = None
    header_name: str | None = None

    def allows(self, headers: Mapping[str, str]) -> bool:
        if self.mode == "none":
            return True
        if self.mode == "header":
            assert self.header_name is not None
            return headers.get(self.header_name.lower()) == self.secret
        given = headers.get("authorization", "")
        if self.mode == "bearer":
            return given == f"Bearer {self.secret}"
        token = base64.b64encode(f"{self.username}:{self.secret}".encode()).decode()
        return given == f"Basic {token}"


@dataclass
class _Answer:
    status: int
    body: Any = None  # dict/list: JSON; str: text; None: empty
    headers: dict[str, str] = field(default_factory=dict)


class FakeMessaging(LocalService):
    """The fake services; a context manager (``with FakeMessaging() as fake: ...``)."""

    def __init__(self, record_dir: Path | None = None, *, host: str = "127.0.0.1") -> None:
        self.record_dir = Path(record_dir) if record_dir is not None else None
        self.host = host
        self.slack_bot_token = "xoxb-sandbox-" + secrets.token_hex(12)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._slack_hooks: dict[str, str] = {}  # path -> name
        self._slack_channels: dict[str, str] = {}  # name or id -> id
        self._discord_hooks: dict[str, str] = {}  # path -> name
        self._webhooks: dict[str, tuple[str, _WebhookAuth]] = {}  # path -> (name, auth)
        self._hook_urls: dict[tuple[str, str], str] = {}  # (kind, name) -> url
        self._faults: list[_Fault] = []
        self._requests: list[RecordedRequest] = []
        self._received: list[tuple[str, str, Any]] = []  # (kind, name, body)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeMessaging:
        if self._server is not None:
            raise RuntimeError("FakeMessaging is already running")
        server = ThreadingHTTPServer((self.host, 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        # A short poll interval: shutdown() waits for the loop's next poll.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-messaging",
            daemon=True,
        )
        self._thread.start()
        if self.record_dir is not None:
            self.record_dir.mkdir(parents=True, exist_ok=True)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeMessaging is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- registration ----------------------------------------------------------------------

    def slack_hook_url(self, name: str) -> str:
        """The URL of a Slack incoming webhook named ``name`` (the same URL for the same name)."""
        with self._lock:
            known = self._hook_urls.get(("slack_webhook", name))
            if known:
                return known
            number = next(self._ids)
            path = f"/slack/hooks/TSANDBOX/B{number:08d}/{secrets.token_urlsafe(18)}"
            self._slack_hooks[path] = name
            url = self._hook_urls[("slack_webhook", name)] = self.base_url + path
            return url

    @property
    def slack_api_url(self) -> str:
        """The Web API's base URL (``SlackApi(base_url=...)``)."""
        return self.base_url + "/slack/api"

    def slack_channel(self, name: str) -> str:
        """Make ``name`` a channel the bot may post to; returns it (its id works too)."""
        with self._lock:
            if name not in self._slack_channels:
                channel_id = f"C{next(self._ids):08d}"
                self._slack_channels[name] = channel_id
                self._slack_channels[channel_id] = channel_id
            return name

    def discord_webhook_url(self, name: str) -> str:
        """The URL of a Discord webhook named ``name`` (the same URL for the same name)."""
        with self._lock:
            known = self._hook_urls.get(("discord", name))
            if known:
                return known
            hook_id = 1_100_000_000_000_000_000 + next(self._ids)
            path = f"/discord/api/webhooks/{hook_id}/{secrets.token_urlsafe(48)}"
            self._discord_hooks[path] = name
            url = self._hook_urls[("discord", name)] = self.base_url + path
            return url

    def webhook_url(
        self,
        name: str,
        auth: str = "none",
        username: str | None = None,
        secret: str | None = None,
        header_name: str | None = None,
    ) -> str:
        """The URL of a generic webhook ``/hooks/<name>`` checking ``auth`` (``none``,
        ``basic`` with username/secret, ``header`` with header_name/secret, ``bearer`` with
        secret); registering a name again replaces its authentication."""
        if auth not in ("none", "basic", "header", "bearer"):
            raise ValueError(f"unknown auth {auth!r}")
        if auth != "none" and not secret:
            raise ValueError(f"auth {auth!r} needs a secret")
        if auth == "header" and not header_name:
            raise ValueError("header auth needs header_name")
        if "/" in name or not name:
            raise ValueError(f"webhook name {name!r} must be one non-empty path segment")
        path = f"/hooks/{name}"
        with self._lock:
            self._webhooks[path] = (name, _WebhookAuth(auth, username, secret, header_name))
        return self.base_url + path

    # -- faults ----------------------------------------------------------------------------

    def throttle(self, prefix: str, times: int = 1, retry_after: float = 1.0) -> None:
        """Answer the next ``times`` requests under ``prefix`` with 429, as the service does."""
        with self._lock:
            self._faults.append(_Fault(prefix, times, 429, retry_after=retry_after))

    def fail(
        self,
        prefix: str,
        times: int = 1,
        status: int = 500,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests under ``prefix`` with ``status`` (and ``body``:
        a dict is sent as JSON, a string as text), without accepting them."""
        with self._lock:
            fault = _Fault(prefix, times, status, body=body, headers=dict(headers or {}))
            self._faults.append(fault)

    def reset(self) -> None:
        """Forget requests, received messages and pending faults (registrations stay)."""
        with self._lock:
            self._faults.clear()
            self._requests.clear()
            self._received.clear()

    # -- what arrived ----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order, whatever was answered."""
        with self._lock:
            return list(self._requests)

    def received(self, kind: str, name: str | None = None) -> list[Any]:
        """The parsed JSON bodies of the messages accepted on ``kind`` routes, in order;
        ``name`` keeps those of one hook (the name it was registered with) or, for
        ``slack_api``, of one channel (as the request named it)."""
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {KINDS}")
        with self._lock:
            return [
                body
                for got_kind, got_name, body in self._received
                if got_kind == kind and (name is None or got_name == name)
            ]

    # -- serving (called from the handler threads) -----------------------------------------

    def _answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Answer:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        kind = _kind_of(path)
        with self._lock:
            answer = self._fault_answer(path, kind)
        if answer is None:
            answer = self._route(method, path, query, kind, headers, body)
        request = RecordedRequest(method, target, headers, body, kind, answer.status)
        with self._lock:
            self._requests.append(request)
        return answer

    def _fault_answer(self, path: str, kind: str | None) -> _Answer | None:
        for fault in self._faults:
            if fault.remaining > 0 and path.startswith(fault.prefix):
                fault.remaining -= 1
                if fault.status == 429 and fault.retry_after is not None:
                    return _throttled(kind, fault.retry_after)
                return _Answer(fault.status, fault.body, dict(fault.headers))
        return None

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        kind: str | None,
        headers: dict[str, str],
        body: bytes,
    ) -> _Answer:
        if method != "POST":
            return _Answer(405, "method_not_allowed")
        if kind == "slack_webhook":
            return self._slack_webhook(path, headers, body)
        if kind == "slack_api":
            return self._slack_api(path, headers, body)
        if kind == "discord":
            return self._discord(path, query, headers, body)
        if kind == "webhook":
            return self._webhook(path, headers, body)
        return _Answer(404, "not found")

    def _slack_webhook(self, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        with self._lock:
            name = self._slack_hooks.get(path)
        if name is None:
            return _Answer(404, "no_service")
        payload = _json_or_none(body)
        if not isinstance(payload, dict):
            return _Answer(400, "invalid_payload")
        if not payload.get("text") and not payload.get("blocks"):
            return _Answer(400, "no_text")
        self._accept("slack_webhook", name, path, headers, payload)
        return _Answer(200, "ok")

    def _slack_api(self, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        if path != "/slack/api/chat.postMessage":
            return _Answer(404, {"ok": False, "error": "unknown_method"})
        token = headers.get("authorization", "")
        if not token:
            return _Answer(200, {"ok": False, "error": "not_authed"})
        if token != f"Bearer {self.slack_bot_token}":
            return _Answer(200, {"ok": False, "error": "invalid_auth"})
        payload = _json_or_none(body)
        if not isinstance(payload, dict):
            return _Answer(200, {"ok": False, "error": "invalid_json"})
        with self._lock:
            channel_id = self._slack_channels.get(str(payload.get("channel")))
        if channel_id is None:
            return _Answer(200, {"ok": False, "error": "channel_not_found"})
        if not payload.get("text") and not payload.get("blocks"):
            return _Answer(200, {"ok": False, "error": "no_text"})
        ts = f"{time.time():.6f}"
        self._accept("slack_api", str(payload["channel"]), path, headers, payload)
        message = {"type": "message", "text": payload.get("text", ""), "ts": ts}
        return _Answer(200, {"ok": True, "channel": channel_id, "ts": ts, "message": message})

    def _discord(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> _Answer:
        with self._lock:
            name = self._discord_hooks.get(path)
        if name is None:
            return _Answer(404, {"message": "Unknown Webhook", "code": 10015})
        payload = _json_or_none(body)
        if not isinstance(payload, dict):
            return _Answer(400, {"message": "Cannot send an empty message", "code": 50006})
        content = payload.get("content") or ""
        embeds = payload.get("embeds") or []
        if len(content) > DISCORD_CONTENT_CHARS:
            return _invalid_form("content", "Must be 2000 or fewer in length.")
        if len(embeds) > DISCORD_MAX_EMBEDS:
            return _invalid_form("embeds", "Must be 10 or fewer in length.")
        if not content and not embeds:
            return _Answer(400, {"message": "Cannot send an empty message", "code": 50006})
        self._accept("discord", name, path, headers, payload)
        bucket = {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset-After": "0.4",
            "X-RateLimit-Bucket": "sandbox",
        }
        if query.get("wait", ["false"])[-1].lower() != "true":
            return _Answer(204, None, bucket)
        message_id = str(1_200_000_000_000_000_000 + next(self._ids))
        return _Answer(
            200,
            {"id": message_id, "type": 0, "content": content, "embeds": embeds},
            bucket,
        )

    def _webhook(self, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        with self._lock:
            registered = self._webhooks.get(path)
        if registered is None:
            return _Answer(404, {"status": "error", "message": "unknown hook"})
        name, auth = registered
        if not auth.allows(headers):
            return _Answer(401, {"status": "error", "message": "unauthorized"})
        payload = _json_or_none(body)
        if payload is None:
            return _Answer(400, {"status": "error", "message": "body is not JSON"})
        unrecorded = {auth.header_name.lower()} if auth.header_name else set()
        self._accept("webhook", name, path, headers, payload, unrecorded)
        return _Answer(200, {"status": "success", "id": str(next(self._ids))})

    def _accept(
        self,
        kind: str,
        name: str,
        path: str,
        headers: dict[str, str],
        payload: Any,
        unrecorded: set[str] | None = None,
    ) -> None:
        with self._lock:
            self._received.append((kind, name, payload))
            if self.record_dir is None:
                return
            hidden = _UNRECORDED_HEADERS | (unrecorded or set())
            line = {
                "received_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "kind": kind,
                "name": name,
                "path": path,
                "headers": {k: v for k, v in headers.items() if k not in hidden},
                "body": payload,
            }
            with open(self.record_dir / f"{kind}.jsonl", "a", encoding="utf-8") as out:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")


def _kind_of(path: str) -> str | None:
    if path.startswith("/slack/hooks/"):
        return "slack_webhook"
    if path.startswith("/slack/api/"):
        return "slack_api"
    if path.startswith("/discord/api/webhooks/"):
        return "discord"
    if path.startswith("/hooks/"):
        return "webhook"
    return None


def _throttled(kind: str | None, retry_after: float) -> _Answer:
    """A 429 the way each service sends it."""
    whole = str(max(1, math.ceil(retry_after)))
    if kind == "slack_webhook":
        return _Answer(429, "rate_limited", {"Retry-After": whole})
    if kind == "slack_api":
        return _Answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": whole})
    if kind == "discord":
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": False,
        }
        headers = {
            "Retry-After": whole,
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": "sandbox",
            "X-RateLimit-Scope": "user",
        }
        return _Answer(429, body, headers)
    body = {"status": "error", "message": "throttled"}
    return _Answer(429, body, {"Retry-After": f"{retry_after:g}"})


def _invalid_form(field_name: str, message: str) -> _Answer:
    errors = {field_name: {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": message}]}}
    return _Answer(400, {"message": "Invalid Form Body", "code": 50035, "errors": errors})


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


class _Handler(BaseHTTPRequestHandler):
    server_version = "EarshotSandbox/1"

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        fake: FakeMessaging = self.server.fake  # type: ignore[attr-defined]
        answer = fake._answer(self.command, self.path, headers, body)
        if isinstance(answer.body, dict | list):
            data = json.dumps(answer.body).encode()
            content_type = "application/json"
        elif answer.body is None:
            data, content_type = b"", "text/plain"
        else:
            data, content_type = str(answer.body).encode(), "text/plain; charset=utf-8"
        self.send_response(answer.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        return  # quiet: tests and the demo read fake.requests instead
