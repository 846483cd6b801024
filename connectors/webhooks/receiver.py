"""The webhook receiver: an ASGI app (Starlette) serving ``POST /webhooks/{platform}/{tenant}``.

What a request gets, in this order (each step answers before the next runs):

* 404: a platform without a webhook format or connector, an invalid tenant id, or a tenant whose
  ``tenants/<tenant>.yaml`` does not configure (or disables) the platform (503 when that file
  is invalid);
* 413: a body over ``max_body_bytes`` (1 MiB);
* 503: the tenant's webhook secret is missing from the secrets backend (the message names the
  secret, never a value) or cannot be read;
* 401: a missing or wrong signature (or HubSpot's timestamp older than five minutes);
* 400: a malformed request (Meta: an event older than seven days refuses the whole request);
* 200 ``ignored``: a topic the platform's connector does not list in ``webhook_topics``, or a
  ping. Answered 2xx on purpose: senders disable endpoints that keep failing, and a topic
  someone subscribed by mistake would otherwise cost the tenant every other topic;
* 200 ``duplicate``: a delivery whose key the inbox already holds;
* 200 ``stored``: written to the inbox (``inbox.py``) before this answer is sent;
* 503: the inbox could not be written: the sender retries.

Nothing here logs a payload, a signature or a secret; uvicorn's access log is off because
Meta's token travels in the query string.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.framework.errors import SettingsError
from connectors.framework.settings import load_tenant_connectors
from connectors.webhooks.deliveries import FORMATS, Delivery, Incoming, Parsed, Refused
from connectors.webhooks.inbox import Inbox
from connectors.webhooks.signatures import SignatureError
from warehouse.landing import LandingZone
from warehouse.secrets import InvalidSecret, SecretNotFound, SecretStoreError, tenant_credential
from warehouse.settings import InvalidTenantId, validate_tenant_id

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
PUBLIC_URL_VARIABLE = "EARSHOT_WEBHOOKS_PUBLIC_URL"
SECRET_ROLE = "webhook_secret"


@dataclass
class ReceiverConfig:
    zone: LandingZone
    # Where tenants/<tenant>.yaml files are (default: the configured tenants folder).
    tenants_folder: Path | None = None
    # The public address senders call (behind a proxy); HubSpot signs the URL it called.
    public_base_url: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES
    # Test hook: called after a delivery is durably stored, before the answer is sent.
    after_store: Callable[[Delivery], None] | None = None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def _answer(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status)


class _TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(config: ReceiverConfig) -> Starlette:
    from connectors.registry import CONNECTORS

    inbox = Inbox(config.zone)
    public = (config.public_base_url or os.environ.get(PUBLIC_URL_VARIABLE) or "").rstrip("/")

    async def healthz(request: Request) -> JSONResponse:
        return _answer(200, {"status": "ok"})

    async def receive(request: Request) -> JSONResponse:
        platform = request.path_params["platform"]
        tenant = request.path_params["tenant"]
        suffix = "/" + request.path_params["rest"] if "rest" in request.path_params else ""
        response = await _receive(request, platform, tenant, suffix)
        log.info("webhook %s/%s -> %s", platform, tenant, response.status_code)
        return response

    async def _receive(request: Request, platform: str, tenant: str, suffix: str) -> JSONResponse:
        fmt = FORMATS.get(platform)
        cls = CONNECTORS.get(platform)
        if fmt is None or cls is None or (suffix and platform != "meta_capi"):
            return _answer(404, {"error": f"no webhook receiver for platform {platform!r}"})
        try:
            validate_tenant_id(tenant)
        except InvalidTenantId:
            return _answer(404, {"error": "no such tenant"})
        try:
            settings = await run_in_threadpool(
                load_tenant_connectors, tenant, config.tenants_folder
            )
        except SettingsError:
            log.exception("settings of tenant %s are invalid", tenant)
            return _answer(503, {"error": f"the settings of tenant {tenant} are invalid"})
        if platform not in settings or not settings[platform].enabled:
            return _answer(404, {"error": f"tenant {tenant} does not receive {platform} webhooks"})
        try:
            body = await _body(request, config.max_body_bytes)
        except _TooLarge:
            return _answer(413, {"error": f"body over {config.max_body_bytes} bytes"})
        incoming = Incoming(
            method=request.method,
            url=(public or str(request.base_url).rstrip("/"))
            + request.url.path
            + (f"?{request.url.query}" if request.url.query else ""),
            suffix=suffix,
            headers={k.lower(): v for k, v in request.headers.items()},
            query=dict(request.query_params),
            body=body,
            received_at=config.now(),
        )
        ping = fmt.unsigned(incoming)
        if ping:
            return _answer(200, {"status": "ignored", "reason": ping})
        name = cls.secret_name(SECRET_ROLE, settings[platform])
        try:
            secret = await run_in_threadpool(tenant_credential, tenant, name)
        except (SecretNotFound, InvalidSecret, SecretStoreError):
            return _answer(
                503,
                {"error": f"webhook secret {name!r} of tenant {tenant} is not configured"},
            )
        try:
            fmt.verify(incoming, secret)
        except SignatureError as exc:
            return _answer(401, {"error": str(exc)})
        except ValueError as exc:  # a secret of the wrong form (Squarespace's is hex)
            return _answer(503, {"error": f"webhook secret {name!r} of tenant {tenant} {exc}"})
        try:
            parsed = fmt.parse(incoming, tenant)
        except Refused as exc:
            return JSONResponse(exc.body, status_code=exc.status)
        return await _store(parsed, cls.webhook_topics, platform)

    async def _store(parsed: Parsed, topics: tuple[str, ...], platform: str) -> JSONResponse:
        wanted = [d for d in parsed.deliveries if d.topic in topics]
        ignored = sorted({d.topic for d in parsed.deliveries if d.topic not in topics})
        stored = duplicates = 0
        for delivery in wanted:
            try:
                fresh = await run_in_threadpool(inbox.put, delivery)
            except Exception:
                log.exception("could not store a %s delivery", platform)
                return _answer(503, {"error": "could not store the delivery; retry later"})
            if fresh:
                stored += 1
                if config.after_store is not None:
                    config.after_store(delivery)
            else:
                duplicates += 1
        if platform == "meta_capi":
            return _answer(
                200,
                {
                    "events_received": stored + duplicates,
                    "messages": parsed.rejected,
                    "fbtrace_id": uuid.uuid4().hex[:20],
                },
            )
        if stored:
            status = "stored"
        elif duplicates:
            status = "duplicate"
        else:
            status = "ignored"
        body: dict[str, Any] = {"status": status, "stored": stored, "duplicates": duplicates}
        if ignored:
            body["ignored_topics"] = ignored
            body["reason"] = (
                f"Earshot's {platform} connector does not use these topics; answered 2xx so the "
                "sender keeps the endpoint enabled"
            )
        if parsed.rejected:
            body["rejected"] = parsed.rejected
        return _answer(200, body)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/webhooks/{platform}/{tenant}", receive, methods=["POST"]),
        Route("/webhooks/{platform}/{tenant}/{rest:path}", receive, methods=["POST"]),
    ]
    return Starlette(routes=routes)


class Drainer:
    """Drains the inbox in a background thread: once at start (deliveries a crash left
    pending), then every ``interval_s``."""

    def __init__(self, drain: Callable[[], None], interval_s: float) -> None:
        self._drain = drain
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-drain", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            try:
                self._drain()
            except Exception:
                log.exception("draining the webhook inbox failed; trying again later")
            if self._stop.wait(self.interval_s):
                return


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening socket (port 0: a free one), so the URL can be printed first."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def serve(
    config: ReceiverConfig,
    host: str,
    port: int,
    *,
    drain: Callable[[], None] | None = None,
    drain_interval_s: float = 5.0,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve until interrupted; prints ``listening on <url>`` once the socket is bound."""
    import uvicorn

    sock = listening_socket(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    announce(f"listening on http://{shown}:{bound}/webhooks/<platform>/<tenant>")
    drainer = Drainer(drain, drain_interval_s) if drain is not None else None
    if drainer is not None:
        drainer.start()
    server = uvicorn.Server(
        uvicorn.Config(build_app(config), log_level="warning", access_log=False, lifespan="off")
    )
    try:
        server.run(sockets=[sock])
    finally:
        if drainer is not None:
            drainer.stop()
        sock.close()
