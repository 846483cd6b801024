"""Google's OAuth2 token endpoint as the Google API fakes (YouTube, GA4) play it: a refresh-token
grant with the client's credentials in the form or by HTTP Basic, Google's error bodies, and
access tokens ("ya29....") that expire."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from tests.fakes.server import Request, Response, basic_credentials, error, json_response

TOKEN_LIFETIME_S = 3599


def refresh_token_answer(
    request: Request,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    tokens: dict[str, datetime],
    scope: str,
) -> Response:
    """Answer one token request; a token granted is recorded in ``tokens`` with its expiry."""
    form = request.form()
    sent_id, sent_secret = form.get("client_id"), form.get("client_secret")
    basic = basic_credentials(request)
    if basic is not None:
        sent_id, sent_secret = basic
    if sent_id != client_id or sent_secret != client_secret:
        return error(
            401,
            {"error": "invalid_client", "error_description": "The OAuth client was not found."},
        )
    if form.get("grant_type") != "refresh_token":
        return error(
            400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
        )
    if form.get("refresh_token") != refresh_token:
        return error(
            400,
            {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
        )
    token = "ya29." + secrets.token_urlsafe(24)
    tokens[token] = datetime.now(UTC) + timedelta(seconds=TOKEN_LIFETIME_S)
    return json_response(
        {
            "access_token": token,
            "expires_in": TOKEN_LIFETIME_S,
            "scope": scope,
            "token_type": "Bearer",
        }
    )
