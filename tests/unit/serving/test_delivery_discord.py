"""Discord webhooks against the sandbox's fake Discord."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from serving.delivery import DeliveryError, DiscordWebhook, Message, RetryPolicy
from serving.delivery.discord import CONTENT_CHARS, EMBED_MAX_FIELDS, SEVERITY_COLOURS
from serving.sandbox import FakeMessaging, RecordingClock

ALERT = Message(
    title="Conversions spiked",
    text="Acme Socks: 312 orders yesterday, expected 120. @everyone look!",
    severity="critical",
    fields=(("Campaign", "Spring socks"), ("Model", "linear")),
    link="https://earshot.example/anomalies/a-18",
    key="anomaly-a-18",
    tenant_id="acme",
)


def discord(fake: FakeMessaging, clock: RecordingClock, **kwargs) -> DiscordWebhook:
    return DiscordWebhook(
        "community", fake.discord_webhook_url("community"), sleep=clock.sleep, clock=clock, **kwargs
    )


def test_delivers_content_embed_and_no_mentions(fake, clock) -> None:
    receipt = discord(fake, clock).send(ALERT)

    (request,) = fake.requests
    assert urlsplit(request.path).query == "wait=true"
    assert receipt.attempts == 1
    assert receipt.detail.startswith("message id=1200000000000000")
    assert fake.received("discord") == [
        {
            "content": "**Conversions spiked**\n"
            "Acme Socks: 312 orders yesterday, expected 120. @everyone look!",
            "embeds": [
                {
                    "title": "Conversions spiked",
                    "url": "https://earshot.example/anomalies/a-18",
                    "color": SEVERITY_COLOURS["critical"],
                    "fields": [
                        {"name": "Campaign", "value": "Spring socks", "inline": True},
                        {"name": "Model", "value": "linear", "inline": True},
                    ],
                    "footer": {"text": "Earshot · alert · critical · acme"},
                }
            ],
            "allowed_mentions": {"parse": []},
        }
    ]


def test_content_over_2000_characters_is_truncated_with_an_ellipsis(fake, clock) -> None:
    long = Message(title="Weekly report", text="x" * 5000, event="report")

    discord(fake, clock).send(long)

    (posted,) = fake.received("discord")
    assert len(posted["content"]) == CONTENT_CHARS
    assert posted["content"].startswith("**Weekly report**\nxxx")
    assert posted["content"].endswith("x…")
    assert posted["allowed_mentions"] == {"parse": []}


def test_embed_fields_stay_within_discord_limits(fake, clock) -> None:
    fields = tuple((f"f{i}", "v" * 2000) for i in range(30))
    discord(fake, clock).send(Message(title="t", text="x", fields=fields))
    embed = fake.received("discord")[0]["embeds"][0]
    assert len(embed["fields"]) <= EMBED_MAX_FIELDS
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    total = len(embed["title"]) + len(embed["footer"]["text"])
    total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6000
    assert embed["footer"]["text"].endswith(f"{30 - len(embed['fields'])} more field(s) not shown")


def test_429_retry_after_from_the_json_body_is_honoured(fake, clock) -> None:
    fake.throttle("/discord", times=1, retry_after=0.25)

    receipt = discord(fake, clock, min_interval_s=0).send(ALERT)

    assert receipt.attempts == 2
    # the body's precise 0.25 s, not the header's whole second
    assert clock.sleeps == [0.25]
    assert [r.status for r in fake.requests] == [429, 200]
    assert fake.requests[0].headers  # the throttled request was a real one
    assert len(fake.received("discord")) == 1


def test_pacing_tops_up_a_short_throttle_to_the_minimum_interval(fake, clock) -> None:
    fake.throttle("/discord", times=1, retry_after=0.25)
    discord(fake, clock).send(ALERT)  # min_interval_s 0.5
    assert clock.sleeps == [0.25, 0.25]


def test_an_empty_bucket_holds_the_next_message(fake, clock) -> None:
    fake.fail(
        "/discord",
        times=1,
        status=200,
        body={"id": "1"},
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "1.75"},
    )
    channel = discord(fake, clock, min_interval_s=0)

    channel.send(ALERT)
    channel.send(ALERT)

    assert clock.sleeps == [1.75]
    assert len(fake.requests) == 2


def test_400_is_permanent_and_the_webhook_token_never_shows(fake, clock) -> None:
    url = fake.discord_webhook_url("community")
    token = url.rsplit("/", 1)[1]
    fake.fail("/discord", times=1, status=400, body={"message": "Invalid Form Body", "code": 50035})

    with pytest.raises(DeliveryError) as caught:
        DiscordWebhook("community", url, sleep=clock.sleep, clock=clock).send(ALERT)

    error = caught.value
    assert (error.permanent, error.attempts, error.status) == (True, 1, 400)
    assert "Invalid Form Body" in str(error)
    assert token not in str(error) and "/webhooks/" not in str(error)
    assert len(fake.requests) == 1 and clock.sleeps == []


def test_unknown_webhook_is_permanent(fake, clock) -> None:
    url = fake.discord_webhook_url("community").rsplit("/", 1)[0] + "/not-the-token"
    with pytest.raises(DeliveryError) as caught:
        DiscordWebhook("community", url, sleep=clock.sleep, clock=clock).send(ALERT)
    assert (caught.value.permanent, caught.value.status) == (True, 404)
    assert "Unknown Webhook" in str(caught.value)


def test_server_errors_are_retried_until_the_attempts_run_out(fake, clock) -> None:
    fake.fail("/discord", times=10, status=502)
    channel = discord(fake, clock, min_interval_s=0, policy=RetryPolicy(max_attempts=3))

    with pytest.raises(DeliveryError) as caught:
        channel.send(ALERT)

    assert (caught.value.permanent, caught.value.attempts, caught.value.status) == (False, 3, 502)
    assert clock.sleeps == [1.0, 2.0]
    assert len(fake.requests) == 3


def test_a_url_that_is_not_a_discord_webhook_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Discord webhook URL") as caught:
        DiscordWebhook("community", "https://discord.com/channels/123/secret-ish")
    assert "secret-ish" not in str(caught.value)
