"""HTTP for every API connector: dlt's REST client, paced, retried, and with clear errors.

dlt's ``RESTClient`` brings the paginators (page number, offset, JSON link, header link, cursor)
and its ``requests`` client the retries: exponential backoff on 429, 5xx and dropped
connections, and on 429/503 the server's ``Retry-After`` (seconds or an HTTP date) instead of the
backoff. On top of that this module adds what every source here needs as well:

* **pacing**: a client-side limit (``Pacing``: at most N requests in any window of S seconds), so
  a sync stays under a documented limit (Transistor's 10 per 10 s, Podbean's leaky bucket)
  instead of relying on being throttled; every attempt, retries included, is paced;
* **Retry-After in whole seconds**: a decimal ``Retry-After`` (Shopify's ``2.0``) is rounded
  up, and a source announcing its reset elsewhere (BigCommerce's milliseconds header) can have
  it copied there (``retry_after``), since the retry reads integers or HTTP dates only;
* **throttling the status does not show** (Marketo's 606 in an HTTP 200) is counted with the
  429s when the source says how to recognise it (``throttled``);
* **malformed pages are retried**: a 200 whose body is not JSON is what a proxy or an overloaded
  server sends now and then; after the last attempt it is an :class:`ApiChangedError`;
* **errors that say what happened**: 401/403 are :class:`CredentialsError` (never retried), a
  429 or 5xx that outlives the retries is a :class:`ConnectorError` naming the request;
* **no secret in any message**: URLs are redacted (``redact_url``) before they are logged,
  landed as lineage or put into an error.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator, SinglePagePaginator
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from connectors.framework.errors import ApiChangedError, ConnectorError, CredentialsError

USER_AGENT = "Earshot/0.1 (+https://github.com/earshot-analytics/earshot)"
# Query parameters whose values are credentials: replaced by *** wherever a URL is shown.
SECRET_PARAMS = frozenset(
    {
        "token",
        "api_token",
        "access_token",
        "refresh_token",
        "api_key",
        "key",
        "client_secret",
        "code",
        "password",
        "signature",
        # WooCommerce's keys when sent as query parameters
        "consumer_key",
        "consumer_secret",
    }
)
RETRY_STATUSES = (429, 500, 502, 503, 504)
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def redact_url(url: str) -> str:
    """``url`` with the value of every credential-like query parameter replaced by ***."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (name, "***" if name.lower() in SECRET_PARAMS else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*:,")))


@dataclass(frozen=True)
class Pacing:
    """At most ``requests`` requests in any window of ``per_seconds`` seconds."""

    requests: int
    per_seconds: float


class Pacer:
    """A sliding-window limiter shared by every request of one client (thread-safe).

    The window is taken 5% longer than the limit's: the server counts from when requests
    arrive, not from when they were sent, and a request that arrives a few milliseconds early
    would be throttled.
    """

    MARGIN = 1.05

    def __init__(
        self,
        pacing: Pacing,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if pacing.requests < 1 or pacing.per_seconds <= 0:
            raise ValueError(f"invalid pacing {pacing}")
        self.pacing = pacing
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def wait(self) -> None:
        with self._lock:
            while True:
                now = self._clock()
                window = self.pacing.per_seconds * self.MARGIN
                while self._sent and now - self._sent[0] >= window:
                    self._sent.popleft()
                if len(self._sent) < self.pacing.requests:
                    self._sent.append(now)
                    return
                pause = window - (now - self._sent[0])
                self.waited_s += pause
                self._sleep(pause)


# Whether an answer is a throttle its status does not say (Marketo's 606 in an HTTP 200).
ThrottleSignal = Callable[[Response], bool]
# Seconds to wait that a source announces outside ``Retry-After``; None when it says nothing.
RetryAfterSource = Callable[[Response], float | None]
_DECIMAL_SECONDS = re.compile(r"\s*\d+\.\d+\s*")


class _PacedAdapter(HTTPAdapter):
    """Waits for the pacer before every attempt (the retry wrapper calls send per attempt)."""

    def __init__(
        self,
        pacer: Pacer | None,
        counter: RequestCounter,
        throttled: ThrottleSignal | None = None,
    ) -> None:
        super().__init__(pool_maxsize=4)
        self._pacer = pacer
        self._counter = counter
        self._throttled = throttled

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        if self._pacer is not None:
            self._pacer.wait()
        response = super().send(request, *args, **kwargs)
        self._counter.record(
            response.status_code,
            throttled=self._throttled is not None and self._throttled(response),
        )
        return response


@dataclass
class RequestCounter:
    """What a sync asked and what it got: requests sent, throttled (429, or what the source's
    ``throttled`` signal recognises) and failed (5xx)."""

    requests: int = 0
    throttled: int = 0
    server_errors: int = 0

    def record(self, status: int, throttled: bool = False) -> None:
        self.requests += 1
        if status == 429 or throttled:
            self.throttled += 1
        elif status >= 500:
            self.server_errors += 1


def whole_retry_after(response: Response, *args: Any, **kwargs: Any) -> Response:
    """A decimal ``Retry-After`` (``2.0``) as whole seconds, rounded up: the retry reads
    integers or HTTP dates only and would otherwise fall back to its own backoff."""
    value = response.headers.get("Retry-After")
    if value and _DECIMAL_SECONDS.fullmatch(value):
        response.headers["Retry-After"] = str(max(1, math.ceil(float(value))))
    return response


class RetryAfterHook:
    """The response hook every ApiClient installs. Hooks run inside the retried send, on every
    attempt, before the retry reads ``Retry-After``: the header is filled from ``source`` when
    the answer has none, then made whole seconds."""

    def __init__(self, source: RetryAfterSource | None = None) -> None:
        self.source = source

    def __call__(self, response: Response, *args: Any, **kwargs: Any) -> Response:
        if self.source is not None and "Retry-After" not in response.headers:
            seconds = self.source(response)
            if seconds is not None:
                response.headers["Retry-After"] = str(max(1, math.ceil(seconds)))
        return whole_retry_after(response)


@dataclass(frozen=True)
class Page:
    """One page of records and where it came from (a redacted URL)."""

    records: list[Any]
    url: str
    response: Response


def _body_is_malformed(response: Response | None, exception: BaseException | None) -> bool:
    """A 2xx answer that should be JSON but does not parse: retried like a 5xx."""
    if response is None or not response.ok or response.status_code == 204:
        return False
    if "json" not in response.headers.get("Content-Type", "json"):
        return False
    try:
        json.loads(response.content or b"null")
    except ValueError:
        return True
    return False


ResponseCheck = Callable[[Response, str], None]


class ApiClient:
    """A paced, retrying REST client for one source and one tenant's credentials.

    ``check`` (optional) is called with every final response (after retries) and the redacted
    URL before the generic status handling: a source whose errors look special (YouTube's
    ``quotaExceeded`` 403, Podbean's ``invalid_token`` 400) raises its own error there.
    ``throttled`` and ``retry_after`` (optional) are asked about every attempt's answer: whether
    it is a throttle its status hides, and how long the source says to wait when it does not
    say so in ``Retry-After``.
    """

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        auth: AuthBase | None = None,
        headers: dict[str, str] | None = None,
        pacing: Pacing | None = None,
        max_attempts: int = 6,
        backoff_factor: float = 1.0,
        max_retry_delay_s: float = 120.0,
        timeout_s: float = 60.0,
        retry_condition: Callable[[Response | None, BaseException | None], bool] | None = None,
        check: ResponseCheck | None = None,
        expect_json: bool = True,
        throttled: ThrottleSignal | None = None,
        retry_after: RetryAfterSource | None = None,
    ) -> None:
        self.source = source
        self.counter = RequestCounter()
        self.pacer = Pacer(pacing) if pacing else None
        conditions = [_body_is_malformed] if expect_json else []
        if retry_condition is not None:
            conditions.append(retry_condition)
        retrying = Client(
            request_timeout=timeout_s,
            raise_for_status=False,
            status_codes=RETRY_STATUSES,
            request_max_attempts=max_attempts,
            request_backoff_factor=backoff_factor,
            request_max_retry_delay=max_retry_delay_s,
            respect_retry_after_header=True,
            retry_condition=conditions,
        )
        session = retrying.session
        adapter = _PacedAdapter(self.pacer, self.counter, throttled)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.hooks["response"].append(RetryAfterHook(retry_after))
        self._check = check
        self._expect_json = expect_json
        self.rest = RESTClient(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            auth=auth,
            session=session,
        )
        self.max_attempts = max_attempts

    # -- requests ------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> Page:
        """One GET; the page's ``records`` hold the whole parsed body as its only item."""
        response = self.rest.get(path, params=params)
        url = redact_url(response.url)
        self.raise_for_problem(response, url)
        return Page([self.parse(response, url)], url, response)

    def pages(
        self,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        paginator: BasePaginator | None = None,
        data_selector: str | None = None,
    ) -> Iterator[Page]:
        """Every page of ``path``; ``data_selector`` (a JSONPath) picks the records of a page.

        This is dlt's ``RESTClient.paginate`` loop with the error handling moved out of the
        response hook: requests dispatches hooks inside ``Session.send``, which dlt's retry
        wraps, so a hook that raised would turn the first 503 or 429 into an error instead of a
        retry. Here each page's *final* response (after the retries) is checked. The request
        helpers are dlt's own (pinned in the lock file).
        """
        paginator = paginator or SinglePagePaginator()
        request = self.rest._create_request(path, "GET", params=dict(params or {}))
        paginator.init_request(request)
        while True:
            response = self.rest._send_request(request)
            url = redact_url(response.url)
            self.raise_for_problem(response, url)
            self.parse(response, url)
            records = self._select(response, data_selector)
            paginator.update_state(response, records)
            paginator.update_request(request)
            yield Page(records, url, response)
            if not paginator.has_next_page:
                return

    def _select(self, response: Response, data_selector: str | None) -> list[Any]:
        """The records of a page. A plain dotted path (``collection``, ``data.items``) is walked
        directly: dlt compiles a JSONPath for every page, which costs more than the request on
        a fast API. Anything else goes through dlt's JSONPath selection."""
        if data_selector and not _DOTTED.fullmatch(data_selector):
            return self.rest.extract_response(response, data_selector)
        data: Any = response.json()
        for part in (data_selector or "").split(".") if data_selector else ():
            data = data.get(part) if isinstance(data, dict) else None
        if data is None:
            return []
        return data if isinstance(data, list) else [data]

    # -- checks --------------------------------------------------------------------------------

    def parse(self, response: Response, url: str) -> Any:
        try:
            return response.json()
        except ValueError:
            snippet = response.text[:80].replace("\n", " ")
            raise ApiChangedError(
                f"{self.source}: {url} answered {response.status_code} with a body that is not "
                f"JSON after {self.max_attempts} attempts (starts {snippet!r})"
            ) from None

    def raise_for_problem(self, response: Response, url: str) -> None:
        """Turn a final error status into an error that names the source, request and reason."""
        if self._check is not None:
            self._check(response, url)
        status = response.status_code
        if status < 400:
            return
        detail = response.text[:200].replace("\n", " ")
        if status in (401, 403):
            raise CredentialsError(
                f"{self.source}: the credentials were refused ({status}) at {url}: {detail}; "
                "check the tenant's secret and its permissions (earshot connectors check)"
            )
        if status == 429:
            raise ConnectorError(
                f"{self.source}: still throttled (429) at {url} after {self.max_attempts} "
                "attempts; the sync stopped at its last checkpoint and resumes from there"
            )
        if status >= 500:
            raise ConnectorError(
                f"{self.source}: server error {status} at {url} after {self.max_attempts} "
                "attempts; the sync stopped at its last checkpoint and resumes from there"
            )
        raise ConnectorError(f"{self.source}: {status} at {url}: {detail}")
