"""The HTTP layer every API connector shares: retries, pacing, errors, redaction."""

from __future__ import annotations

import pytest
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

from connectors.framework.errors import ApiChangedError, ConnectorError, CredentialsError
from connectors.framework.http import ApiClient, Pacer, Pacing, redact_url
from tests.fakes.server import FakeApi, Request, Response, WindowLimit, error, json_response


class Pages(FakeApi):
    """Three pages of two items, behind a bearer token."""

    def route(self, request: Request) -> Response:
        if request.header("Authorization") != "Bearer good":
            return error(401, {"error": "unauthorized"})
        page = int(request.query.get("page", "1"))
        items = [{"id": f"{page}-{i}"} for i in range(2)]
        return json_response({"items": items, "total_pages": 3})


def client(fake: FakeApi, token: str = "good", **options) -> ApiClient:
    from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

    return ApiClient(
        "pages",
        fake.base_url,
        auth=BearerTokenAuth(token),
        max_retry_delay_s=2,
        backoff_factor=0.1,
        **options,
    )


def all_items(api: ApiClient) -> list[str]:
    paginator = PageNumberPaginator(base_page=1, total_path="total_pages")
    return [
        item["id"]
        for page in api.pages("/items", paginator=paginator, data_selector="items")
        for item in page.records
    ]


EXPECTED = ["1-0", "1-1", "2-0", "2-1", "3-0", "3-1"]


def test_paging_retries_server_errors_and_malformed_pages_midway() -> None:
    with Pages() as fake:
        fake.fail_next(2, 503, "/items", skip=1)
        fake.malform_next(1, "/items", skip=2)
        api = client(fake)
        assert all_items(api) == EXPECTED
        assert [s.status for s in fake.served].count(503) == 2
        assert api.counter.server_errors == 2


def test_throttling_with_retry_after_is_waited_out() -> None:
    with Pages() as fake:
        fake.limit = WindowLimit(2, 1.0)
        api = client(fake)
        assert all_items(api) == EXPECTED
        assert api.counter.throttled > 0


def test_pacing_keeps_a_client_under_the_limit() -> None:
    with Pages() as fake:
        fake.limit = WindowLimit(2, 1.0)
        api = client(fake, pacing=Pacing(2, 1.0))
        assert all_items(api) == EXPECTED
        assert api.counter.throttled == 0 and api.pacer is not None and api.pacer.waited_s > 0


def test_refused_credentials_are_not_retried() -> None:
    with Pages() as fake:
        api = client(fake, token="bad")
        with pytest.raises(CredentialsError, match="pages: the credentials were refused"):
            all_items(api)
        assert len(fake.served) == 1


def test_a_server_that_stays_down_stops_with_the_request_named() -> None:
    with Pages() as fake:
        fake.fail_next(10, 502, "/items")
        api = client(fake, max_attempts=3)
        with pytest.raises(ConnectorError, match=r"server error 502 at .*/items.*after 3"):
            all_items(api)
        assert len(fake.served) == 3


def test_a_page_that_never_parses_is_a_changed_api() -> None:
    with Pages() as fake:
        fake.malform_next(10, "/items")
        with pytest.raises(ApiChangedError, match="not JSON after 2 attempts"):
            all_items(client(fake, max_attempts=2))


def test_redaction_hides_every_credential_parameter() -> None:
    url = "https://api.example/x?token=abc&access_token=def&api_token=ghi&key=jkl&page=2"
    redacted = redact_url(url)
    for secret in ("abc", "def", "ghi", "jkl"):
        assert secret not in redacted
    assert "page=2" in redacted and redact_url("https://a/b") == "https://a/b"


def test_the_pacer_waits_for_the_window_to_move() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(Pacing(2, 10.0), clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        pacer.wait()
    # 2 at t=0, 2 once the window (10 s and the 5% margin) moved on, then 1 more
    assert slept == pytest.approx([10.5, 10.5]) and pacer.waited_s == pytest.approx(21.0)
