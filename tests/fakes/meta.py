"""A fake Meta Graph API: the one read Earshot makes of Meta, ``GET /{version}/{pixel_id}``.

Faithful to: ``Authorization: Bearer <token>`` (or ``?access_token=``); a wrong or missing token
is HTTP 400 with ``{"error": {"message", "type": "OAuthException", "code": 190,
"fbtrace_id"}}`` (Meta answers 400 for most OAuth errors; some clients report 401, which the
connector treats the same); an unknown pixel is 400 with code 100 and error_subcode 33;
``fields=id,name`` picks the fields of the answer; the version segment looks like ``v21.0``.
"""

from __future__ import annotations

import re

from tests.fakes.server import FakeApi, Request, Response, bearer_token, error, json_response


def _graph_error(message: str, code: int, subcode: int | None = None) -> dict:
    body = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if subcode is not None:
        body["error_subcode"] = subcode
    return {"error": body}


class FakeMetaGraph(FakeApi):
    name = "meta"

    def __init__(self, pixels: dict[str, str], token: str = "meta-token-1") -> None:
        super().__init__()
        self.pixels = pixels
        self.token = token

    def route(self, request: Request) -> Response:
        given = bearer_token(request) or request.query.get("access_token")
        if given != self.token:
            return error(400, _graph_error("Invalid OAuth access token - Cannot parse", 190))
        match = re.fullmatch(r"/v\d+\.\d+/([^/]+)", request.path)
        if not match:
            return error(400, _graph_error("Unknown path components", 2500))
        pixel = match[1]
        if pixel not in self.pixels:
            return error(
                400,
                _graph_error(
                    f"Unsupported get request. Object with ID '{pixel}' does not exist", 100, 33
                ),
            )
        fields = (request.query.get("fields") or "id").split(",")
        full = {"id": pixel, "name": self.pixels[pixel]}
        return json_response({k: v for k, v in full.items() if k in fields})
