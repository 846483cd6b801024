"""OAuth2 helpers against a small local token server and resource."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from connectors.framework.errors import ApiChangedError, CredentialsError
from connectors.framework.http import ApiClient
from connectors.framework.oauth import (
    BearerTokenAuth,
    QueryTokenAuth,
    Token,
    client_credentials_token,
    refresh_token_grant,
)
from tests.fakes.server import FakeApi, Request, Response, error, json_response

CLIENT, SECRET, REFRESH = "client-1", "secret-1", "refresh-1"


class TokenServer(FakeApi):
    """``POST /token`` (either grant) and ``GET /thing`` that wants a valid token."""

    name = "oauth"

    def __init__(self, expires_in: int = 3600, refused_status: int = 401) -> None:
        super().__init__()
        self.expires_in = expires_in
        self.refused_status = refused_status
        self.valid: set[str] = set()
        self.grants: list[tuple[dict[str, str], str | None]] = []
        self.answer_without_token = False
        self.refuse_every_token = False

    def route(self, request: Request) -> Response:
        if request.path == "/token":
            form = request.form()
            self.grants.append((form, request.header("Authorization")))
            basic = "Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
            in_body = form.get("client_id") == CLIENT and form.get("client_secret") == SECRET
            if request.header("Authorization") != basic and not in_body:
                return error(401, {"error": "invalid_client", "error_description": "unknown"})
            if form.get("grant_type") == "refresh_token" and form.get("refresh_token") != REFRESH:
                return error(400, {"error": "invalid_grant", "error_description": "revoked"})
            if self.answer_without_token:
                return json_response({"token_type": "Bearer"})
            token = f"tok{len(self.grants)}"
            self.valid.add(token)
            return json_response(
                {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
            )
        header = request.header("Authorization") or ""
        token = header[7:] if header.startswith("Bearer ") else request.query.get("access_token")
        if self.refuse_every_token or token not in self.valid:
            return error(
                self.refused_status, {"error": "invalid_token", "error_description": "expired"}
            )
        return json_response({"ok": True, "query": request.query_list})

    def revoke(self) -> None:
        self.valid.clear()


@pytest.fixture
def server() -> Iterator[TokenServer]:
    with TokenServer() as fake:
        yield fake  # type: ignore[misc]


def client_for(server: TokenServer, auth) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient("demo", server.base_url, auth=auth, max_retry_delay_s=0.2)


def test_client_credentials_send_basic_auth_and_the_grant(server: TokenServer) -> None:
    client = ApiClient("demo", server.base_url)
    token = client_credentials_token(
        client.rest.session, f"{server.base_url}/token", CLIENT, SECRET, source="demo"
    )
    form, header = server.grants[0]
    assert form == {"grant_type": "client_credentials"}
    assert header == "Basic " + base64.b64encode(b"client-1:secret-1").decode()
    assert token.access_token == "tok1" and token.lifetime_s == 3600
    assert "tok1" not in repr(token)


def test_refresh_grant_sends_the_client_in_the_body(server: TokenServer) -> None:
    client = ApiClient("demo", server.base_url)
    token = refresh_token_grant(
        client.rest.session, f"{server.base_url}/token", CLIENT, SECRET, REFRESH, source="demo"
    )
    form, header = server.grants[0]
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": CLIENT,
        "client_secret": SECRET,
    }
    assert header is None and token.access_token == "tok1"


@pytest.mark.parametrize("refresh", [REFRESH, "wrong-refresh"])
def test_a_refused_client_or_grant_is_a_credentials_error_without_secrets(
    server: TokenServer, refresh: str
) -> None:
    client = ApiClient("demo", server.base_url)
    secret = "wrong-secret" if refresh == REFRESH else SECRET
    with pytest.raises(CredentialsError) as failure:
        refresh_token_grant(
            client.rest.session, f"{server.base_url}/token", CLIENT, secret, refresh, source="demo"
        )
    message = str(failure.value)
    assert message.startswith("demo:")
    assert ("invalid_client" if refresh == REFRESH else "invalid_grant") in message
    assert secret not in message and refresh not in message


def test_the_token_request_is_retried_through_the_clients_session(server: TokenServer) -> None:
    server.fail_next(2, 503, "/token")
    client = ApiClient("demo", server.base_url, max_retry_delay_s=0.1, backoff_factor=0.05)
    token = client_credentials_token(
        client.rest.session, f"{server.base_url}/token", CLIENT, SECRET, source="demo"
    )
    assert token.access_token == "tok1"
    assert [s.status for s in server.requests_to("/token")] == [503, 503, 200]


def test_a_token_answer_without_a_token_is_a_changed_api(server: TokenServer) -> None:
    server.answer_without_token = True
    client = ApiClient("demo", server.base_url)
    with pytest.raises(ApiChangedError, match="access_token"):
        client_credentials_token(
            client.rest.session, f"{server.base_url}/token", CLIENT, SECRET, source="demo"
        )


def _bearer(server: TokenServer, **options) -> tuple[ApiClient, BearerTokenAuth]:  # type: ignore[no-untyped-def]
    holder: dict[str, ApiClient] = {}
    auth = BearerTokenAuth(
        lambda: client_credentials_token(
            holder["client"].rest.session, f"{server.base_url}/token", CLIENT, SECRET, source="demo"
        ),
        **options,
    )
    holder["client"] = client_for(server, auth)
    return holder["client"], auth


def test_bearer_token_is_fetched_once_and_renewed_once_when_refused(server: TokenServer) -> None:
    client, auth = _bearer(server)
    for _ in range(3):
        client.get("/thing")
    assert auth.fetched == 1
    server.revoke()  # expired before its time: the server refuses it

    page = client.get("/thing")

    assert page.records[0]["ok"] is True
    assert auth.fetched == 2
    assert [s.status for s in server.requests_to("/thing")] == [200, 200, 200, 401, 200]


def test_a_refused_fresh_token_is_not_renewed_again(server: TokenServer) -> None:
    client, auth = _bearer(server)
    server.refuse_every_token = True
    with pytest.raises(CredentialsError, match="demo"):
        client.get("/thing")
    # One token to start with, one renewal, and no loop.
    assert auth.fetched == 2
    assert [s.status for s in server.requests_to("/thing")] == [401, 401]


def test_a_token_about_to_expire_is_renewed_before_the_request(server: TokenServer) -> None:
    now = [1000.0]
    server.expires_in = 100
    holder: dict[str, ApiClient] = {}
    clock = lambda: now[0]  # noqa: E731
    auth = BearerTokenAuth(
        lambda: client_credentials_token(
            holder["client"].rest.session,
            f"{server.base_url}/token",
            CLIENT,
            SECRET,
            source="demo",
            clock=clock,
        ),
        clock=clock,
    )
    holder["client"] = client = client_for(server, auth)
    client.get("/thing")
    now[0] += 85  # 15 s left: more than a tenth of the lifetime, kept
    client.get("/thing")
    assert auth.fetched == 1
    now[0] += 6  # 9 s left: renewed first
    client.get("/thing")
    assert auth.fetched == 2
    assert all(s.status == 200 for s in server.requests_to("/thing"))


def test_query_token_replaces_only_its_parameter_and_is_redacted() -> None:
    with TokenServer(refused_status=400) as server:
        holder: dict[str, ApiClient] = {}
        auth = QueryTokenAuth(
            lambda: client_credentials_token(
                holder["client"].rest.session,
                f"{server.base_url}/token",
                CLIENT,
                SECRET,
                source="demo",
            )
        )
        holder["client"] = client = client_for(server, auth)
        page = client.get("/thing", params={"ids": "channel==MINE", "access_token": "stale"})
        assert page.records[0]["query"] == [["ids", "channel==MINE"], ["access_token", "tok1"]]
        assert "tok1" not in page.url and "access_token=***" in page.url
        server.revoke()  # 400 invalid_token, as Podbean answers
        page = client.get("/thing")
        assert page.records[0]["query"] == [["access_token", "tok2"]]


def test_a_query_parameter_that_would_show_in_urls_is_refused() -> None:
    with pytest.raises(ValueError, match="redacted"):
        QueryTokenAuth(lambda: Token("x"), param="auth")
