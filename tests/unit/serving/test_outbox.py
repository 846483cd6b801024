"""The outbox (serving.deliveries): each message sent once per channel, failures recorded with
their reason and sent again by a later run, never silently dropped. Real channels talk to the
sandbox's fake Slack and Discord over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.channels import UnusableChannel, build_sender
from serving.delivery import DiscordWebhook, Message, RetryPolicy, SlackWebhook
from serving.outbox import MAX_RUNS, deliver, retry_failed, undelivered
from serving.sandbox import FakeMessaging, RecordingClock
from serving.settings import SlackWebhookChannel
from warehouse.connection import DuckDBWarehouse

ALERT = Message(
    title="Budget pacing: Spring (under)",
    text="Spring is pacing at 40% of plan.",
    severity="medium",
    fields=(("Booked spend", "USD 20.00"),),
    key="budget_pacing:spring:under:2026-W47",
    tenant_id="acme",
)


@pytest.fixture
def wh(tmp_path: Path):
    warehouse = DuckDBWarehouse(tmp_path / "outbox.duckdb")
    yield warehouse
    warehouse.close()


def _senders(fake: FakeMessaging, clock: RecordingClock, attempts: int = 3):
    policy = RetryPolicy(max_attempts=attempts, backoff_s=0.5, max_delay_s=30)
    return {
        "team": SlackWebhook(
            "team", fake.slack_hook_url("team"), policy=policy, sleep=clock.sleep, clock=clock
        ),
        "alerts": DiscordWebhook(
            "alerts",
            fake.discord_webhook_url("alerts"),
            policy=policy,
            sleep=clock.sleep,
            clock=clock,
        ),
    }


def _rows(wh) -> list[tuple]:
    return wh.fetch(
        "select channel, status, attempts, runs, permanent, last_error is not null"
        " from serving.deliveries order by channel"
    )


def test_a_message_is_sent_once_per_channel_however_often_it_is_raised(wh, fake) -> None:
    senders = _senders(fake, RecordingClock())
    first = deliver(wh, "acme", ALERT, senders)
    assert [(o.channel, o.status) for o in first] == [
        ("team", "delivered"),
        ("alerts", "delivered"),
    ]
    again = deliver(wh, "acme", ALERT, senders)
    assert [o.status for o in again] == ["skipped", "skipped"]
    assert len(fake.received("slack_webhook")) == 1 and len(fake.received("discord")) == 1
    assert _rows(wh) == [
        ("alerts", "delivered", 1, 1, False, False),
        ("team", "delivered", 1, 1, False, False),
    ]
    # The same alert of another tenant is another message.
    deliver(wh, "globex", ALERT, {"team": senders["team"]})
    assert len(fake.received("slack_webhook")) == 2


def test_a_failed_delivery_is_recorded_then_sent_by_a_later_run(wh, fake) -> None:
    clock = RecordingClock()
    senders = _senders(fake, clock, attempts=3)
    fake.fail("/slack/hooks/", times=3, status=503)
    outcomes = deliver(wh, "acme", ALERT, senders)
    assert [(o.channel, o.status) for o in outcomes] == [
        ("team", "failed"),
        ("alerts", "delivered"),
    ]
    assert outcomes[0].attempts == 3 and not outcomes[0].permanent
    assert "503" in outcomes[0].detail
    (failed,) = undelivered(wh, "acme")
    assert failed[0] == "team" and failed[1] == ALERT.key and "503" in failed[3]
    assert fake.received("slack_webhook") == []

    # The next run: the fake answers again; only the failed channel is sent, from the record.
    later = retry_failed(wh, "acme", senders)
    assert [(o.channel, o.status) for o in later] == [("team", "delivered")]
    (body,) = fake.received("slack_webhook")
    assert "Spring is pacing at 40% of plan." in body["text"]
    assert len(fake.received("discord")) == 1
    assert undelivered(wh, "acme") == []
    assert _rows(wh)[1] == ("team", "delivered", 4, 2, False, False)
    assert retry_failed(wh, "acme", senders) == []


def test_a_permanent_failure_waits_for_a_person(wh, fake) -> None:
    senders = _senders(fake, RecordingClock())
    fake.fail("/slack/hooks/", times=1, status=404, body="no_service")
    (outcome,) = deliver(wh, "acme", ALERT, {"team": senders["team"]})
    assert outcome.status == "failed" and outcome.permanent and outcome.attempts == 1
    assert retry_failed(wh, "acme", senders) == []
    assert [r[0] for r in undelivered(wh, "acme")] == ["team"]


def test_retries_stop_after_max_runs(wh, fake) -> None:
    senders = _senders(fake, RecordingClock(), attempts=1)
    fake.fail("/discord/", times=MAX_RUNS + 5, status=500)
    deliver(wh, "acme", ALERT, {"alerts": senders["alerts"]})
    tries = [len(retry_failed(wh, "acme", senders)) for _ in range(MAX_RUNS + 1)]
    assert tries == [1] * (MAX_RUNS - 1) + [0, 0]
    assert wh.fetch("select runs, attempts from serving.deliveries") == [(MAX_RUNS, MAX_RUNS)]


def test_a_message_without_a_key_is_refused(wh, fake) -> None:
    keyless = Message(title="t", text="x")
    with pytest.raises(ValueError, match="no key"):
        deliver(wh, "acme", keyless, _senders(fake, RecordingClock()))


def test_a_channel_without_its_secret_records_failures_not_values(
    wh, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "env")
    monkeypatch.delenv("EARSHOT_SECRET_SLACK_URL__ACME", raising=False)
    sender = build_sender(
        "acme", "team", SlackWebhookChannel(type="slack_webhook", secret="slack_url")
    )
    assert isinstance(sender, UnusableChannel)
    (outcome,) = deliver(wh, "acme", ALERT, {"team": sender})
    assert outcome.status == "failed" and not outcome.permanent
    assert "EARSHOT_SECRET_SLACK_URL__ACME is not set" in outcome.detail
    # Once the secret is there, the next run delivers it.
    with FakeMessaging() as fake:
        url = fake.slack_hook_url("team")
        monkeypatch.setenv("EARSHOT_SECRET_SLACK_URL__ACME", url)
        sender = build_sender(
            "acme", "team", SlackWebhookChannel(type="slack_webhook", secret="slack_url")
        )
        (later,) = retry_failed(wh, "acme", {"team": sender})
        assert later.status == "delivered"
        assert len(fake.received("slack_webhook")) == 1
        stored = wh.fetch("select payload, coalesce(last_error, '') from serving.deliveries")
        assert url not in repr(stored)
