"""OAuth2 for API connectors: fetching access tokens and sending them, refreshed on expiry.

Two grants cover the sources here:

* **client credentials** (RFC 6749 4.4): ``POST token_url`` with ``grant_type=client_credentials``
  and the client authenticated with HTTP Basic ``client_id:client_secret`` (Podbean) or with
  the two in the form body;
* **refresh token** (RFC 6749 6): ``grant_type=refresh_token`` with a long-lived refresh token
  the tenant obtained once in a consent flow (Google, Libsyn).

Both answer ``{"access_token", "token_type", "expires_in", "scope"}``. A refused client or grant
(``invalid_client``, ``invalid_grant``, 400/401) is a :class:`CredentialsError` whose message
names the source and the OAuth error code, never a secret.

The token goes out as a header (:class:`BearerTokenAuth`) or a query parameter
(:class:`QueryTokenAuth`, whose parameter must be one of ``http.SECRET_PARAMS`` so URLs shown
anywhere are redacted). Both are ``requests`` auth objects that fetch the token lazily, renew it
shortly before ``expires_in`` runs out, and, when the source still answers that the token is
expired or invalid, fetch a new token and send the request again **once**: a token revoked early
costs one extra request, while a refused fresh token comes back as the source's answer (the
connector's check turns it into a :class:`CredentialsError`) instead of a loop.

Token requests should go through the connector's own session (``ApiClient.rest.session``) so
they are paced and retried on 429/5xx like every other request.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import requests
from pydantic import field_validator
from requests import PreparedRequest, Response
from requests.auth import AuthBase, HTTPBasicAuth

from connectors.framework.errors import ApiChangedError, ConnectorError, CredentialsError
from connectors.framework.http import SECRET_PARAMS, USER_AGENT, redact_url
from connectors.framework.settings import ConnectorSettings

# Renew a token this long before it expires (at most a tenth of its lifetime), so a request
# does not leave with a token that expires on the way.
DEFAULT_LEEWAY_S = 60.0


@dataclass(frozen=True)
class Token:
    """An access token and when it expires on the ``clock`` it was fetched with."""

    access_token: str
    token_type: str = "Bearer"
    # Deadline on the fetcher's clock (monotonic seconds); None when the server gave no lifetime.
    expires_at: float | None = None
    scope: str | None = None
    # Seconds the token was issued for (``expires_in``).
    lifetime_s: float | None = None
    # A new refresh token, when the server rotates them (Libsyn may): the caller stores it.
    refresh_token: str | None = None

    def __repr__(self) -> str:  # never print the token itself
        return f"Token(type={self.token_type!r}, expires_at={self.expires_at!r})"


TokenFetcher = Callable[[], Token]
ExpiryCheck = Callable[[Response], bool]


def request_token(
    session: requests.Session,
    token_url: str,
    form: Mapping[str, str],
    *,
    source: str,
    basic: tuple[str, str] | None = None,
    timeout_s: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
    as_json: bool = False,
    hint: str | None = None,
) -> Token:
    """POST ``form`` to ``token_url`` and read the token answer; errors name ``source``.

    ``as_json`` sends the form as a JSON body (Libsyn) instead of form-encoded; ``hint`` is
    what a refusal's message tells the operator to do (default: check the three secrets)."""
    where = redact_url(token_url)
    body_field = "json" if as_json else "data"
    response = session.post(
        token_url,
        **{body_field: dict(form)},
        auth=HTTPBasicAuth(*basic) if basic else None,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        timeout=timeout_s,
    )
    body = _json_or_none(response)
    if response.status_code in (400, 401, 403):
        code, description = _oauth_error(body)
        raise CredentialsError(
            f"{source}: the token endpoint {where} refused the credentials "
            f"({response.status_code} {code}{': ' + description if description else ''}); "
            + (
                hint
                or "check the tenant's client id, client secret and refresh token "
                "(earshot connectors set-secret)"
            )
        )
    if response.status_code >= 400:
        raise ConnectorError(
            f"{source}: the token endpoint {where} answered {response.status_code}; "
            "the sync stopped at its last checkpoint and resumes from there"
        )
    if not isinstance(body, dict):
        raise ApiChangedError(f"{source}: the token endpoint {where} did not answer a JSON object")
    access_token = body.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise ApiChangedError(f"{source}: the token answer of {where} has no access_token")
    lifetime = body.get("expires_in")
    expires_at = None
    if isinstance(lifetime, int | float | str) and str(lifetime).strip().isdigit():
        expires_at = clock() + float(lifetime)
    scope = body.get("scope")
    rotated = body.get("refresh_token")
    return Token(
        access_token=access_token,
        token_type=str(body.get("token_type") or "Bearer"),
        expires_at=expires_at,
        scope=scope if isinstance(scope, str) else None,
        lifetime_s=float(lifetime) if expires_at is not None else None,
        refresh_token=rotated if isinstance(rotated, str) and rotated else None,
    )


def client_credentials_token(
    session: requests.Session,
    token_url: str,
    client_id: str,
    client_secret: str,
    *,
    source: str,
    scope: str | None = None,
    client_auth: str = "basic",
    clock: Callable[[], float] = time.monotonic,
) -> Token:
    """A token for the client itself; the client authenticates with Basic or in the body."""
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    basic = _client_auth(form, client_id, client_secret, client_auth)
    return request_token(session, token_url, form, source=source, basic=basic, clock=clock)


def refresh_token_grant(
    session: requests.Session,
    token_url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    *,
    source: str,
    client_auth: str = "body",
    clock: Callable[[], float] = time.monotonic,
    as_json: bool = False,
    hint: str | None = None,
) -> Token:
    """A new access token from a refresh token (Google wants the client in the body)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    basic = _client_auth(form, client_id, client_secret, client_auth)
    return request_token(
        session,
        token_url,
        form,
        source=source,
        basic=basic,
        clock=clock,
        as_json=as_json,
        hint=hint,
    )


def _client_auth(
    form: dict[str, str], client_id: str, client_secret: str, how: str
) -> tuple[str, str] | None:
    if how == "basic":
        return (client_id, client_secret)
    if how == "body":
        form["client_id"] = client_id
        form["client_secret"] = client_secret
        return None
    raise ValueError(f"client_auth must be 'basic' or 'body', not {how!r}")


def _json_or_none(response: Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _oauth_error(body: Any) -> tuple[str, str]:
    """The OAuth error code and description of an error body (RFC 6749 5.2, or Google's)."""
    if not isinstance(body, dict):
        return "error", ""
    error = body.get("error")
    if isinstance(error, dict):  # Google APIs: {"error": {"code", "message", "status"}}
        return str(error.get("status") or error.get("code") or "error"), str(
            error.get("message") or ""
        )[:120]
    if error is None and isinstance(body.get("title"), str):  # API Problem (RFC 7807)
        return body["title"], str(body.get("detail") or "")[:120]
    return str(error or "error"), str(body.get("error_description") or "")[:120]


def token_refused(response: Response) -> bool:
    """The usual "this token is expired or invalid" answers: 401, or 400 ``invalid_token``."""
    if response.status_code == 401:
        return True
    if response.status_code == 400:
        code, _ = _oauth_error(_json_or_none(response))
        return code == "invalid_token"
    return False


class OAuth2Auth(AuthBase, ABC):
    """Adds a fetched access token to every request; renews it on expiry, resends once.

    ``fetch`` returns a new :class:`Token` (a grant above, bound to the connector's session);
    ``is_expired`` says whether an answer means the token was refused (default
    :func:`token_refused`). Thread-safe: concurrent requests share one renewal.
    """

    def __init__(
        self,
        fetch: TokenFetcher,
        *,
        is_expired: ExpiryCheck = token_refused,
        leeway_s: float = DEFAULT_LEEWAY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._is_expired = is_expired
        self._leeway_s = leeway_s
        self._clock = clock
        self._token: Token | None = None
        self._lock = threading.Lock()
        self.fetched = 0

    # -- what a subclass implements ------------------------------------------------------------

    @abstractmethod
    def apply(self, request: PreparedRequest, token: str) -> None:
        """Put ``token`` on the request (a header, a query parameter)."""

    @abstractmethod
    def sent_token(self, request: PreparedRequest) -> str | None:
        """The token a sent request carried (to tell a refused stale token from a fresh one)."""

    # -- tokens --------------------------------------------------------------------------------

    def token(self) -> str:
        """The current access token, fetched first when there is none or it is about to expire."""
        with self._lock:
            if self._token is None or self._expiring(self._token):
                self._renew()
            assert self._token is not None
            return self._token.access_token

    def renew(self, stale: str | None) -> str:
        """A new token unless someone already replaced ``stale``; returns the current one."""
        with self._lock:
            if self._token is None or self._token.access_token == stale:
                self._renew()
            assert self._token is not None
            return self._token.access_token

    def _renew(self) -> None:
        self._token = self._fetch()
        self.fetched += 1

    def _expiring(self, token: Token) -> bool:
        if token.expires_at is None:
            return False
        # A token living an hour is renewed a minute early, one living 30 s only 3 s early.
        leeway = min(self._leeway_s, (token.lifetime_s or 0.0) / 10)
        return token.expires_at - self._clock() <= leeway

    # -- requests ------------------------------------------------------------------------------

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        self.apply(request, self.token())
        request.register_hook("response", self._on_response)
        return request

    def _on_response(self, response: Response, **kwargs: Any) -> Response:
        if not self._is_expired(response):
            return response
        sent = self.sent_token(response.request)
        current = self.renew(sent)
        if current == sent:
            return response
        # Like requests' digest auth: release the refused answer, send a copy with the new
        # token through the same adapter (paced and counted, no hooks, so no second renewal).
        _ = response.content
        response.close()
        again = response.request.copy()
        self.apply(again, current)
        fresh = response.connection.send(again, **kwargs)
        fresh.history.append(response)
        fresh.request = again
        return fresh


class BearerTokenAuth(OAuth2Auth):
    """``Authorization: Bearer <token>``."""

    def apply(self, request: PreparedRequest, token: str) -> None:
        request.headers["Authorization"] = f"Bearer {token}"

    def sent_token(self, request: PreparedRequest) -> str | None:
        value = request.headers.get("Authorization") or ""
        return value[7:] if value.startswith("Bearer ") else None


class QueryTokenAuth(OAuth2Auth):
    """The token as a query parameter (``?access_token=``); the name must be redacted."""

    def __init__(self, fetch: TokenFetcher, *, param: str = "access_token", **options: Any) -> None:
        if param.lower() not in SECRET_PARAMS:
            raise ValueError(f"query parameter {param!r} would not be redacted from URLs")
        super().__init__(fetch, **options)
        self.param = param

    def apply(self, request: PreparedRequest, token: str) -> None:
        # Only our parameter is replaced; the rest of the query keeps its exact encoding.
        parts = urlsplit(request.url or "")
        kept = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] != self.param]
        kept.append(f"{self.param}={quote(token, safe='')}")
        request.url = urlunsplit(parts._replace(query="&".join(kept)))

    def sent_token(self, request: PreparedRequest) -> str | None:
        query = urlsplit(request.url or "").query
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name == self.param:
                return value
        return None


# -- Google ----------------------------------------------------------------------------------------

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
# Stands for the connector's base_url in a URL setting: one proxy serving every API of a test
# or a locked-down network.
BASE_URL_PLACEHOLDER = "{base_url}"


def url_setting(value: str) -> str:
    """A URL setting's value checked (an absolute URL, or one on ``{base_url}``), without its
    trailing slash; ValueError otherwise."""
    if not value.startswith(("http://", "https://", BASE_URL_PLACEHOLDER)):
        raise ValueError("must start with http://, https:// or {base_url}")
    return value.rstrip("/")


def on_base_url(value: str, base_url: str) -> str:
    """A URL setting with ``{base_url}`` replaced by the connector's base URL."""
    return value.replace(BASE_URL_PLACEHOLDER, base_url)


class GoogleTokenSettings(ConnectorSettings):
    """Settings of a connector reading a Google API with a tenant's refresh token."""

    # The OAuth token endpoint; "{base_url}" stands for base_url (a proxy serving every API).
    token_url: str = GOOGLE_TOKEN_URL

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, value: str) -> str:
        return url_setting(value)


def google_token(
    session: requests.Session,
    settings: GoogleTokenSettings,
    base_url: str,
    secrets: Mapping[str, str],
    *,
    source: str,
) -> Token:
    """A new Google access token from the tenant's ``client_id``, ``client_secret`` and
    ``refresh_token`` (the client goes in the form body, as Google wants it)."""
    return refresh_token_grant(
        session,
        on_base_url(settings.token_url, base_url),
        secrets["client_id"],
        secrets["client_secret"],
        secrets["refresh_token"],
        source=source,
        client_auth="body",
    )
