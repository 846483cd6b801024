"""Generic webhooks (and the Zapier/Make/n8n flavours) against the sandbox's fake receiver."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from serving.delivery import DeliveryError, Message, RetryPolicy, WebhookChannel
from serving.sandbox import FakeMessaging, RecordingClock

SENT_AT = datetime(2026, 3, 2, 7, 30, 5, tzinfo=UTC)
REPORT = Message(
    title="Weekly report: Acme",
    text="Attributed revenue $12,400 (+8%).",
    event="report",
    severity="info",
    fields=(("Week", "2026-W09"), ("Revenue", "$12,400")),
    link="https://s3.example/reports/acme/2026-W09.pdf?X-Amz-Signature=abc",
    key="report-acme-2026-W09",
    tenant_id="acme",
)
DOCUMENT = {
    "event": "report",
    "key": "report-acme-2026-W09",
    "tenant_id": "acme",
    "title": "Weekly report: Acme",
    "text": "Attributed revenue $12,400 (+8%).",
    "severity": "info",
    "fields": {"Week": "2026-W09", "Revenue": "$12,400"},
    "link": "https://s3.example/reports/acme/2026-W09.pdf?X-Amz-Signature=abc",
    "sent_at": "2026-03-02T07:30:05Z",
}


def channel(url: str, clock: RecordingClock, **kwargs) -> WebhookChannel:
    return WebhookChannel(
        "automation", url, sleep=clock.sleep, clock=clock, now=lambda: SENT_AT, **kwargs
    )


def test_posts_the_flat_document(fake, clock) -> None:
    receipt = channel(fake.webhook_url("zap"), clock, flavor="zapier").send(REPORT)

    assert (receipt.attempts, receipt.detail) == (1, "HTTP 200")
    assert fake.received("webhook") == [DOCUMENT]
    assert "authorization" not in fake.requests[0].headers


@pytest.mark.parametrize(
    ("auth", "extra"),
    [
        ("basic", {"username": "earshot"}),
        ("bearer", {}),
        ("header", {"header_name": "X-N8N-Key"}),
    ],
)
def test_each_auth_mode_is_accepted_by_a_receiver_checking_it(fake, clock, auth, extra) -> None:
    url = fake.webhook_url("n8n", auth=auth, secret="s3cr3t-value", **extra)

    channel(url, clock, auth=auth, secret="s3cr3t-value", flavor="n8n", **extra).send(REPORT)

    assert fake.received("webhook") == [DOCUMENT]
    headers = fake.requests[0].headers
    if auth == "basic":
        expected = base64.b64encode(b"earshot:s3cr3t-value").decode()
        assert headers["authorization"] == f"Basic {expected}"
    elif auth == "bearer":
        assert headers["authorization"] == "Bearer s3cr3t-value"
    else:
        assert headers["x-n8n-key"] == "s3cr3t-value"


def test_a_wrong_secret_is_permanent_and_never_shown(fake, clock) -> None:
    url = fake.webhook_url("n8n", auth="bearer", secret="right-secret")

    with pytest.raises(DeliveryError) as caught:
        channel(url, clock, auth="bearer", secret="wrong-secret").send(REPORT)

    error = caught.value
    assert (error.permanent, error.attempts, error.status) == (True, 1, 401)
    assert "wrong-secret" not in str(error) and "/hooks/n8n" not in str(error)
    assert fake.received("webhook") == []


def test_429_is_retried_after_retry_after(fake, clock) -> None:
    fake.throttle("/hooks/make", times=1, retry_after=1.5)

    receipt = channel(fake.webhook_url("make"), clock, flavor="make").send(REPORT)

    assert receipt.attempts == 2 and clock.sleeps == [1.5]
    assert [r.status for r in fake.requests] == [429, 200]


def test_exhausted_attempts_raise_a_non_permanent_error(fake, clock) -> None:
    fake.fail("/hooks/", times=10, status=500)

    with pytest.raises(DeliveryError) as caught:
        channel(fake.webhook_url("zap"), clock, policy=RetryPolicy(max_attempts=4)).send(REPORT)

    error = caught.value
    assert (error.permanent, error.attempts, error.status) == (False, 4, 500)
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert len(fake.requests) == 4


def test_a_refused_connection_is_retried_then_reported(clock) -> None:
    with FakeMessaging() as gone:
        url = gone.webhook_url("zap")
    # the server is stopped: nothing listens on its port any more

    with pytest.raises(DeliveryError) as caught:
        channel(url, clock, policy=RetryPolicy(max_attempts=2)).send(REPORT)

    assert (caught.value.permanent, caught.value.attempts, caught.value.status) == (False, 2, None)
    assert "connection failed" in str(caught.value)
    assert clock.sleeps == [1.0]


def test_redirects_are_not_followed(fake, clock) -> None:
    fake.fail("/hooks/zap", times=1, status=301, headers={"Location": "https://elsewhere.test/"})

    with pytest.raises(DeliveryError) as caught:
        channel(fake.webhook_url("zap"), clock).send(REPORT)

    assert caught.value.permanent and "redirects are not followed" in str(caught.value)
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"auth": "basic", "secret": "x"}, "basic auth needs a username"),
        ({"auth": "header", "secret": "x"}, "header auth needs header_name"),
        ({"auth": "bearer"}, "needs a secret"),
        ({"auth": "oauth", "secret": "x"}, "auth 'oauth' is not one of"),
        ({"flavor": "ifttt"}, "flavor 'ifttt' is not one of"),
        ({"flavor": "zapier", "auth": "bearer", "secret": "x"}, "Zapier catch hooks"),
    ],
)
def test_configuration_mistakes_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WebhookChannel("automation", "https://hooks.zapier.com/hooks/catch/1/abc/", **kwargs)
