"""The machinery every fake API shares: a threaded local HTTP server and injectable faults.

A platform's fake subclasses :class:`FakeApi` and implements ``route`` (its paths, auth and
formats). The base adds what real APIs do to a client, each switched on by a test:

* throttling: a fixed window with 429 + ``Retry-After`` (:class:`WindowLimit`), a window after
  which the client is blocked for a while (Transistor), a leaky bucket (Podbean, Shopify);
* bursts of 5xx answers and malformed (truncated) JSON pages on chosen paths;
* ``hold``: the n-th request to a path blocks until released, so a test can kill a sync
  midway at a known point;
* a log of every request (path, query, headers, answer), to assert what a client asked.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    query_list: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # Raw bytes sent as they are (a CSV, a truncated page); ``body`` is JSON-encoded otherwise.
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


def json_response(body: Any, status: int = 200, **headers: str) -> Response:
    return Response(status=status, body=body, headers=dict(headers))


def error(status: int, body: Any, **headers: str) -> Response:
    return Response(status=status, body=body, headers=dict(headers))


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None without one."""
    value = request.header("Authorization") or ""
    return value[len("Bearer ") :] if value.startswith("Bearer ") else None


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The ``(user, password)`` of an ``Authorization: Basic`` header; None without one."""
    value = request.header("Authorization") or ""
    if not value.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(value[len("Basic ") :], validate=True).decode()
    except ValueError:  # not base64, or not UTF-8: no credentials a server would accept
        return None
    user, _, password = decoded.partition(":")
    return user, password


def renamed(record: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """``record`` with each field of ``renames`` moved to its new name (a changed API).

    Names may be dotted (``attributes.title``): the value moves from that nested object to the
    new dotted place, created when missing."""
    for old, new in renames.items():
        *parents, key = old.split(".")
        holder = record
        for part in parents:
            holder = holder[part]
        value = holder.pop(key)
        *new_parents, new_key = new.split(".")
        holder = record
        for part in new_parents:
            holder = holder.setdefault(part, {})
        holder[new_key] = value
    return record


@dataclass
class Served:
    """One request the fake answered, and how."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    at: float


class WindowLimit:
    """At most ``requests`` per ``per_seconds`` (sliding); over it, 429 with ``Retry-After``.

    With ``block_s`` the client that went over is refused for that long, whatever it does
    (Transistor: "blocked 10 s")."""

    def __init__(
        self,
        requests: int,
        per_seconds: float,
        *,
        block_s: float = 0.0,
        retry_after: bool = True,
        response: Callable[[float], Response] | None = None,
    ) -> None:
        self.requests = requests
        self.per_seconds = per_seconds
        self.block_s = block_s
        self.retry_after = retry_after
        self.response = response
        self._times: deque[float] = deque()
        self._blocked_until = 0.0

    def refuse(self, now: float) -> Response | None:
        if now < self._blocked_until:
            return self._refusal(self._blocked_until - now)
        while self._times and now - self._times[0] >= self.per_seconds:
            self._times.popleft()
        if len(self._times) >= self.requests:
            if self.block_s:
                self._blocked_until = now + self.block_s
                return self._refusal(self.block_s)
            return self._refusal(self.per_seconds - (now - self._times[0]))
        self._times.append(now)
        return None

    def _refusal(self, wait_s: float) -> Response:
        if self.response is not None:
            return self.response(wait_s)
        headers = {"Retry-After": str(max(1, int(wait_s + 0.999)))} if self.retry_after else {}
        return error(429, {"error": "Too Many Requests"}, **headers)


class LeakyBucket:
    """A bucket of ``capacity`` requests that drains ``drain_per_s``; a full bucket refuses."""

    def __init__(
        self,
        capacity: int,
        drain_per_s: float,
        response: Callable[[float], Response] | None = None,
    ) -> None:
        self.capacity = capacity
        self.drain_per_s = drain_per_s
        self.response = response
        self._level = 0.0
        self._at: float | None = None

    def refuse(self, now: float) -> Response | None:
        if self._at is not None:
            self._level = max(0.0, self._level - (now - self._at) * self.drain_per_s)
        self._at = now
        if self._level + 1 > self.capacity:
            wait_s = (self._level + 1 - self.capacity) / self.drain_per_s
            if self.response is not None:
                return self.response(wait_s)
            return error(429, {"error": "rate limited"}, **{"Retry-After": str(int(wait_s) + 1)})
        self._level += 1
        return None


@dataclass
class _Fault:
    path_contains: str
    remaining: int
    make: Callable[[], Response]
    # Answer normally this many matching requests first.
    skip: int = 0


class FakeApi(ABC):
    """A fake API on 127.0.0.1 and a free port; use as a context manager or start()/stop()."""

    name = "fake"

    def __init__(self) -> None:
        self.limit: WindowLimit | LeakyBucket | None = None
        self.served: list[Served] = []
        self._faults: list[_Fault] = []
        self._holds: list[tuple[str, int, threading.Event, threading.Event]] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- what a platform implements ------------------------------------------------------------

    @abstractmethod
    def route(self, request: Request) -> Response:
        """The platform's answer to one request (its paths, auth and formats)."""

    # -- faults a test switches on -------------------------------------------------------------

    def fail_next(
        self, n: int, status: int = 503, path_contains: str = "", *, skip: int = 0
    ) -> None:
        """The next ``n`` requests whose path contains ``path_contains`` get ``status``."""
        self._faults.append(
            _Fault(path_contains, n, lambda: error(status, {"error": "Service Unavailable"}), skip)
        )

    def malform_next(self, n: int, path_contains: str = "", *, skip: int = 0) -> None:
        """The next ``n`` matching requests get a 200 whose JSON is cut off midway."""
        self._faults.append(
            _Fault(path_contains, n, lambda: Response(200, raw=b'{"data": [{"id": "1", "at'), skip)
        )

    def hold(self, path_contains: str, nth: int = 1) -> tuple[threading.Event, threading.Event]:
        """Block the ``nth`` request matching ``path_contains`` until ``release`` is set.

        Returns ``(reached, release)``: ``reached`` is set when that request arrives."""
        reached, release = threading.Event(), threading.Event()
        self._holds.append((path_contains, nth, reached, release))
        return reached, release

    def release_all(self) -> None:
        for _, _, _, release in self._holds:
            release.set()

    def requests_to(self, path_contains: str) -> list[Served]:
        return [s for s in self.served if path_contains in s.path]

    # -- serving -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in one segment, sent at once: with the default unbuffered
            # writer and Nagle's algorithm every keep-alive answer waits ~40 ms for an ACK,
            # which would make the fake, not the client, the slow side.
            wbufsize = -1
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query_list = parse_qsl(parts.query, keep_blank_values=True)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=dict(query_list),
                    query_list=query_list,
                    headers=dict(self.headers.items()),
                    body=body,
                )
                response = fake._answer(request)
                payload = response.payload()
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in response.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (a killed sync)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, request: Request) -> Response:
        hold = None
        with self._lock:
            now = time.monotonic()
            response = self.limit.refuse(now) if self.limit is not None else None
            if response is None:
                response = self._fault_for(request.path)
            for path_contains, nth, reached, release in self._holds:
                if path_contains in request.path:
                    key = f"hold:{path_contains}"
                    self._counts[key] = self._counts.get(key, 0) + 1
                    if self._counts[key] == nth:
                        hold = (reached, release)
        if hold is not None:
            hold[0].set()
            hold[1].wait(timeout=60)
        if response is None:
            try:
                response = self.route(request)
            except Exception as exc:  # a bug in the fake shows as a 500 with its message
                response = error(500, {"error": f"fake {self.name} failed: {exc!r}"})
        with self._lock:
            self.served.append(
                Served(request.method, request.path, request.query, response.status, now)
            )
        return response

    def _fault_for(self, path: str) -> Response | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.path_contains in path:
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.remaining -= 1
                return fault.make()
        return None
