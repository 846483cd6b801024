"""The fake Slack/Discord/webhook server answers as the services do, spoken to with plain HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from serving.sandbox import FakeMessaging


def post(url: str, body: object, headers: dict[str, str] | None = None):
    """(status, headers, body text) of a JSON POST."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read().decode()


def test_slack_hook_urls_are_stable_per_name_and_unknown_hooks_are_404(fake) -> None:
    url = fake.slack_hook_url("ops")
    assert fake.slack_hook_url("ops") == url
    assert fake.slack_hook_url("sales") != url

    assert post(url, {"text": "hi"})[::2] == (200, "ok")
    assert post(url + "x", {"text": "hi"})[::2] == (404, "no_service")
    assert post(url, {"blocks": []})[::2] == (400, "no_text")
    assert post(url, b"not json")[::2] == (400, "invalid_payload")
    assert fake.received("slack_webhook") == [{"text": "hi"}]
    assert fake.received("slack_webhook", name="sales") == []
    assert [r.status for r in fake.requests] == [200, 404, 400, 400]


def test_slack_api_checks_token_and_channel(fake) -> None:
    url = fake.slack_api_url + "/chat.postMessage"
    fake.slack_channel("#alerts")
    auth = {"Authorization": f"Bearer {fake.slack_bot_token}"}

    def error_of(body, headers):
        status, _, text = post(url, body, headers)
        assert status == 200  # Slack reports failures in an HTTP 200
        return json.loads(text).get("error")

    assert error_of({"channel": "#alerts", "text": "x"}, {}) == "not_authed"
    assert error_of({"channel": "#alerts", "text": "x"}, {"Authorization": "Bearer no"}) == (
        "invalid_auth"
    )
    assert error_of({"channel": "#other", "text": "x"}, auth) == "channel_not_found"
    assert error_of({"channel": "#alerts"}, auth) == "no_text"
    status, _, text = post(url, {"channel": "#alerts", "text": "x"}, auth)
    answer = json.loads(text)
    assert answer["ok"] is True and answer["channel"].startswith("C") and answer["ts"]
    assert fake.received("slack_api") == [{"channel": "#alerts", "text": "x"}]


def test_discord_limits_and_wait(fake) -> None:
    url = fake.discord_webhook_url("community")

    status, _, text = post(url, {"content": "x" * 2001})
    assert status == 400 and json.loads(text)["code"] == 50035
    status, _, text = post(url, {"content": ""})
    assert status == 400 and json.loads(text)["code"] == 50006
    assert post(url, {"content": "hello"})[0] == 204
    status, headers, text = post(url + "?wait=true", {"content": "hello"})
    assert status == 200 and json.loads(text)["content"] == "hello"
    assert headers["X-RateLimit-Limit"] == "5"
    status, _, text = post(url.rsplit("/", 1)[0] + "/bad", {"content": "x"})
    assert status == 404 and json.loads(text)["code"] == 10015
    assert len(fake.received("discord")) == 2


def test_throttles_look_like_each_service(fake) -> None:
    slack = fake.slack_hook_url("ops")
    discord = fake.discord_webhook_url("community")
    hook = fake.webhook_url("zap")
    fake.throttle("/slack/hooks", times=1, retry_after=1.5)
    fake.throttle("/discord", times=1, retry_after=0.25)
    fake.throttle("/hooks/", times=1, retry_after=2.5)

    status, headers, text = post(slack, {"text": "x"})
    assert (status, headers["Retry-After"], text) == (429, "2", "rate_limited")

    status, headers, text = post(discord, {"content": "x"})
    body = json.loads(text)
    assert status == 429
    assert body == {"message": "You are being rate limited.", "retry_after": 0.25, "global": False}
    assert headers["X-RateLimit-Remaining"] == "0"
    assert headers["X-RateLimit-Reset-After"] == "0.250"
    assert headers["Retry-After"] == "1"

    status, headers, _ = post(hook, {"a": 1})
    assert (status, headers["Retry-After"]) == (429, "2.5")

    # each fault was used once: the next requests are accepted
    assert post(slack, {"text": "x"})[0] == 200
    assert post(discord, {"content": "x"})[0] == 204
    assert post(hook, {"a": 1})[0] == 200


def test_fail_answers_the_given_status_and_reset_forgets(fake) -> None:
    hook = fake.webhook_url("zap")
    fake.fail("/hooks/zap", times=2, status=503, body="down")
    assert post(hook, {})[::2] == (503, "down")
    fake.reset()
    assert fake.requests == []
    assert post(hook, {})[0] == 200  # the second fault was forgotten


def test_webhook_auth_modes(fake) -> None:
    basic = fake.webhook_url("b", auth="basic", username="u", secret="p")
    header = fake.webhook_url("h", auth="header", header_name="X-Key", secret="k")
    assert post(basic, {})[0] == 401
    assert post(basic, {}, {"Authorization": "Basic dTpw"})[0] == 200  # u:p
    assert post(header, {}, {"X-Key": "wrong"})[0] == 401
    assert post(header, {}, {"X-Key": "k"})[0] == 200
    assert len(fake.received("webhook")) == 2


def test_record_dir_gets_one_json_line_per_accepted_message_without_credentials(
    tmp_path: Path,
) -> None:
    with FakeMessaging(record_dir=tmp_path) as fake:
        fake.slack_channel("#alerts")
        api = fake.slack_api_url + "/chat.postMessage"
        token = fake.slack_bot_token
        post(api, {"channel": "#alerts", "text": "one"}, {"Authorization": f"Bearer {token}"})
        hook = fake.webhook_url("n8n", auth="header", header_name="X-N8N-Key", secret="hush")
        post(hook, {"title": "two"}, {"X-N8N-Key": "hush"})
        post(hook, {"title": "refused"}, {"X-N8N-Key": "wrong"})

    slack_lines = (tmp_path / "slack_api.jsonl").read_text().splitlines()
    webhook_lines = (tmp_path / "webhook.jsonl").read_text().splitlines()
    assert len(slack_lines) == 1 and len(webhook_lines) == 1
    slack, webhook = json.loads(slack_lines[0]), json.loads(webhook_lines[0])
    assert slack["body"] == {"channel": "#alerts", "text": "one"}
    assert webhook["body"] == {"title": "two"} and webhook["name"] == "n8n"
    assert "authorization" not in slack["headers"] and "x-n8n-key" not in webhook["headers"]
    everything = "\n".join(slack_lines + webhook_lines)
    assert token not in everything and "hush" not in everything


def test_the_server_is_gone_after_the_context(fake) -> None:
    with FakeMessaging() as other:
        url = other.webhook_url("zap")
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(urllib.request.Request(url, data=b"{}"), timeout=2)
