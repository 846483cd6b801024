"""Slack incoming webhooks and chat.postMessage against the sandbox's fake Slack."""

from __future__ import annotations

import re

import pytest

from serving.delivery import DeliveryError, Message, RetryPolicy, SlackApi, SlackWebhook
from serving.sandbox import FakeMessaging, RecordingClock

ALERT = Message(
    title="Downloads dropped 41% <!channel>",
    text="The Daily Grind: 1,204 downloads yesterday\nexpected 2,050 (1,800-2,300) & falling",
    event="alert",
    severity="high",
    fields=(("Show", "The Daily Grind"), ("Metric", "downloads")),
    link="https://earshot.example/anomalies/a-17",
    key="anomaly-a-17",
    tenant_id="acme",
)
CONTEXT = ":large_orange_circle: *high* · alert · tenant acme"


def webhook(fake: FakeMessaging, clock: RecordingClock, **kwargs) -> SlackWebhook:
    return SlackWebhook("ops", fake.slack_hook_url("ops"), sleep=clock.sleep, clock=clock, **kwargs)


def test_webhook_delivers_title_text_fields_link_and_context(fake, clock) -> None:
    receipt = webhook(fake, clock).send(ALERT)

    assert (receipt.channel, receipt.attempts, receipt.detail) == ("ops", 1, "HTTP 200 ok")
    assert fake.received("slack_webhook") == [
        {
            "text": "Downloads dropped 41% &lt;!channel&gt;\nThe Daily Grind: 1,204 downloads "
            "yesterday\nexpected 2,050 (1,800-2,300) &amp; falling\n"
            "https://earshot.example/anomalies/a-17",
            "blocks": [
                {
                    "type": "header",
                    "text": {"type": "plain_text", "text": "Downloads dropped 41% <!channel>"},
                },
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": "The Daily Grind: 1,204 downloads yesterday\n"
                        "expected 2,050 (1,800-2,300) &amp; falling",
                    },
                },
                {
                    "type": "section",
                    "fields": [
                        {"type": "mrkdwn", "text": "*Show*\nThe Daily Grind"},
                        {"type": "mrkdwn", "text": "*Metric*\ndownloads"},
                    ],
                },
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Open"},
                            "url": "https://earshot.example/anomalies/a-17",
                        }
                    ],
                },
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": CONTEXT}],
                },
            ],
        }
    ]
    assert clock.sleeps == []


def test_more_than_ten_fields_are_split_over_sections(fake, clock) -> None:
    fields = tuple((f"label {i}", str(i)) for i in range(13))
    webhook(fake, clock).send(Message(title="t", text="x", fields=fields))
    sections = [b for b in fake.received("slack_webhook")[0]["blocks"] if "fields" in b]
    assert [len(s["fields"]) for s in sections] == [10, 3]


def test_429_with_retry_after_waits_that_long_then_delivers(fake, clock) -> None:
    fake.throttle("/slack/hooks", times=1, retry_after=2)

    receipt = webhook(fake, clock).send(ALERT)

    assert receipt.attempts == 2
    assert clock.sleeps == [2.0]
    assert [r.status for r in fake.requests] == [429, 200]
    assert fake.requests[0].body == fake.requests[1].body  # the same message, sent again
    assert len(fake.received("slack_webhook")) == 1


def test_server_errors_are_retried_with_exponential_backoff(fake, clock) -> None:
    fake.fail("/slack/hooks", times=2, status=503)

    receipt = webhook(fake, clock, policy=RetryPolicy(backoff_s=1.5)).send(ALERT)

    assert receipt.attempts == 3
    assert clock.sleeps == [1.5, 3.0]
    assert [r.status for r in fake.requests] == [503, 503, 200]


def test_unknown_hook_is_permanent_and_the_token_never_shows(fake, clock) -> None:
    url = fake.slack_hook_url("ops").rsplit("/", 1)[0] + "/wrong-token-abcdef"
    channel = SlackWebhook("ops", url, sleep=clock.sleep, clock=clock)

    with pytest.raises(DeliveryError) as caught:
        channel.send(ALERT)

    error = caught.value
    assert (error.permanent, error.attempts, error.status) == (True, 1, 404)
    assert "no_service" in str(error)
    assert "wrong-token-abcdef" not in str(error) and "/services" not in str(error)
    assert "/slack/hooks" not in str(error) and "wrong-token-abcdef" not in repr(channel)
    assert str(error).startswith(f"slack_webhook channel 'ops' ({fake.base_url}): HTTP 404")
    assert len(fake.requests) == 1 and clock.sleeps == []


def test_a_retry_after_beyond_max_delay_fails_without_sleeping(fake, clock) -> None:
    fake.throttle("/slack/hooks", times=1, retry_after=90)

    with pytest.raises(DeliveryError) as caught:
        webhook(fake, clock, policy=RetryPolicy(max_delay_s=30)).send(ALERT)

    assert (caught.value.permanent, caught.value.attempts) == (False, 1)
    assert caught.value.retry_after_s == 90.0
    assert clock.sleeps == [] and len(fake.requests) == 1


def test_pacing_spaces_messages_by_the_minimum_interval(fake, clock) -> None:
    channel = webhook(fake, clock)
    assert channel.min_interval_s == 1.0

    channel.send(ALERT)
    clock.now += 0.25  # a quarter second of other work
    channel.send(ALERT)
    channel.send(ALERT)

    assert clock.sleeps == [0.75, 1.0]
    assert len(fake.received("slack_webhook")) == 3


def test_no_pacing_wait_after_a_retry_that_waited_long_enough(fake, clock) -> None:
    channel = webhook(fake, clock)
    channel.send(ALERT)
    fake.throttle("/slack/hooks", times=1, retry_after=3)
    clock.now += 5
    channel.send(ALERT)
    assert clock.sleeps == [3.0]


# -- chat.postMessage --------------------------------------------------------------------------


def api(fake: FakeMessaging, clock: RecordingClock, channel: str = "#alerts", **kwargs) -> SlackApi:
    return SlackApi(
        "bot",
        kwargs.pop("token", fake.slack_bot_token),
        channel,
        base_url=fake.slack_api_url,
        sleep=clock.sleep,
        clock=clock,
        **kwargs,
    )


def test_api_posts_with_the_bearer_token_and_returns_the_ts(fake, clock) -> None:
    fake.slack_channel("#alerts")

    receipt = api(fake, clock).send(ALERT)

    (request,) = fake.requests
    assert request.path == "/slack/api/chat.postMessage"
    assert request.headers["authorization"] == f"Bearer {fake.slack_bot_token}"
    (posted,) = fake.received("slack_api")
    assert posted["channel"] == "#alerts"
    assert posted["blocks"][0]["text"]["text"] == ALERT.title
    assert posted["unfurl_links"] is False
    assert re.fullmatch(r"ts=\d+\.\d{6} channel=C\d{8}", receipt.detail)


def test_api_channel_not_found_is_permanent_and_not_retried(fake, clock) -> None:
    with pytest.raises(DeliveryError) as caught:
        api(fake, clock, channel="#nowhere").send(ALERT)

    assert (caught.value.permanent, caught.value.attempts, caught.value.status) == (True, 1, 200)
    assert "channel_not_found" in str(caught.value)
    assert len(fake.requests) == 1


def test_api_invalid_auth_is_permanent_and_hides_the_token(fake, clock) -> None:
    fake.slack_channel("#alerts")
    token = "xoxb-111-222-notthetoken"

    with pytest.raises(DeliveryError) as caught:
        api(fake, clock, token=token).send(ALERT)

    assert caught.value.permanent and "invalid_auth" in str(caught.value)
    assert token not in str(caught.value)
    assert len(fake.requests) == 1


def test_api_ratelimited_in_an_http_200_honours_retry_after(fake, clock) -> None:
    fake.slack_channel("#alerts")
    fake.fail(
        "/slack/api",
        times=1,
        status=200,
        body={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": "4"},
    )

    receipt = api(fake, clock).send(ALERT)

    assert receipt.attempts == 2 and receipt.detail.startswith("ts=")
    assert clock.sleeps == [4.0]


def test_api_http_429_honours_retry_after(fake, clock) -> None:
    fake.slack_channel("#alerts")
    fake.throttle("/slack/api", times=2, retry_after=2)

    receipt = api(fake, clock).send(ALERT)

    assert receipt.attempts == 3
    assert clock.sleeps == [2.0, 2.0]
    assert [r.status for r in fake.requests] == [429, 429, 200]
