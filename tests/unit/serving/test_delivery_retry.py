"""The shared retry loop, its policy and errors, without any network."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from serving.delivery.http import HttpResponse, classify_failure, parse_retry_after, retry_after_of
from serving.delivery.message import Message, truncate
from serving.delivery.redaction import redact_url, scrub
from serving.delivery.retry import DeliveryError, Outcome, RetryPolicy, deliver_with_retries
from serving.sandbox import RecordingClock


def scripted(*outcomes: Outcome):
    """An attempt function answering ``outcomes`` in turn, counting its calls."""
    queue = list(outcomes)
    calls = []

    def attempt() -> Outcome:
        calls.append(1)
        return queue.pop(0)

    attempt.calls = calls  # type: ignore[attr-defined]
    return attempt


def test_backoff_doubles_up_to_max_delay() -> None:
    policy = RetryPolicy(max_attempts=6, backoff_s=1.5, max_delay_s=5.0)
    assert [policy.backoff(n) for n in range(1, 5)] == [1.5, 3.0, 5.0, 5.0]


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"backoff_s": -1.0}, {"max_delay_s": -0.1}]
)
def test_policy_rejects_nonsense(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_transient_failures_are_retried_with_exponential_waits() -> None:
    clock = RecordingClock()
    attempt = scripted(
        Outcome.transient_failure("HTTP 503", 503),
        Outcome.transient_failure("HTTP 502", 502),
        Outcome.ok("HTTP 200"),
    )
    receipt = deliver_with_retries(
        attempt, RetryPolicy(backoff_s=0.5), channel="ops", sleep=clock.sleep
    )
    assert (receipt.channel, receipt.attempts, receipt.detail) == ("ops", 3, "HTTP 200")
    assert clock.sleeps == [0.5, 1.0]


def test_a_requested_wait_replaces_the_backoff() -> None:
    clock = RecordingClock()
    attempt = scripted(Outcome.transient_failure("HTTP 429", 429, 7.0), Outcome.ok("ok"))
    deliver_with_retries(attempt, RetryPolicy(), channel="ops", sleep=clock.sleep)
    assert clock.sleeps == [7.0]


def test_permanent_failure_is_raised_at_once() -> None:
    clock = RecordingClock()
    attempt = scripted(Outcome.permanent_failure("HTTP 404: no_service", 404))
    with pytest.raises(DeliveryError) as caught:
        deliver_with_retries(
            attempt, RetryPolicy(), channel="ops", kind="slack_webhook", sleep=clock.sleep
        )
    error = caught.value
    assert (error.permanent, error.attempts, error.status) == (True, 1, 404)
    assert error.channel == "ops" and error.reason == "HTTP 404: no_service"
    assert str(error).startswith("slack_webhook channel 'ops': HTTP 404: no_service")
    assert len(attempt.calls) == 1 and clock.sleeps == []


def test_exhausted_attempts_fail_not_permanently() -> None:
    clock = RecordingClock()
    attempt = scripted(*[Outcome.transient_failure("HTTP 500", 500)] * 3)
    with pytest.raises(DeliveryError) as caught:
        deliver_with_retries(attempt, RetryPolicy(max_attempts=3), channel="ops", sleep=clock.sleep)
    assert (caught.value.permanent, caught.value.attempts, caught.value.status) == (False, 3, 500)
    assert "gave up after 3 attempts" in str(caught.value)
    assert clock.sleeps == [1.0, 2.0]  # no wait after the last attempt


def test_a_wait_beyond_max_delay_is_not_slept() -> None:
    clock = RecordingClock()
    attempt = scripted(Outcome.transient_failure("HTTP 429", 429, 120.0))
    with pytest.raises(DeliveryError) as caught:
        deliver_with_retries(attempt, RetryPolicy(max_delay_s=60), channel="ops", sleep=clock.sleep)
    error = caught.value
    assert (error.permanent, error.attempts, error.retry_after_s) == (False, 1, 120.0)
    assert "asked to wait 120 s" in str(error)
    assert clock.sleeps == []


def test_describe_scrubs_reasons() -> None:
    attempt = scripted(Outcome.permanent_failure("bad token abcd1234 refused"))
    with pytest.raises(DeliveryError) as caught:
        deliver_with_retries(
            attempt,
            RetryPolicy(),
            channel="ops",
            describe=lambda reason: scrub(reason, ["abcd1234"]),
        )
    assert "abcd1234" not in str(caught.value)
    assert caught.value.reason == "bad token *** refused"


def test_parse_retry_after_seconds_decimal_and_date() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(30.0)
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(earlier, now=now.timestamp()) == 0.0


def test_http_date_retry_after_counts_from_the_response_date() -> None:
    sent = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
    response = HttpResponse(
        429,
        {
            "date": format_datetime(sent, usegmt=True),
            "retry-after": format_datetime(sent + timedelta(seconds=45), usegmt=True),
        },
    )
    assert retry_after_of(response) == pytest.approx(45.0)


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(400, True), (401, True), (404, True), (302, True), (408, False), (429, False), (500, False)],
)
def test_classify_failure(status: int, permanent: bool) -> None:
    outcome = classify_failure(HttpResponse(status, {"retry-after": "3"}, b"nope"))
    assert outcome.permanent is permanent
    assert outcome.reason.startswith(f"HTTP {status}: nope")
    assert outcome.retry_after_s == (None if permanent else 3.0)


def test_redact_url_keeps_scheme_and_host_only() -> None:
    url = "https://user:pw@hooks.slack.com:8443/services/T1/B2/sekrit?token=x#frag"
    assert redact_url(url) == "https://hooks.slack.com:8443"
    assert redact_url("not a url") == "***"


def test_truncate_adds_an_ellipsis_within_the_limit() -> None:
    assert truncate("abc", 3) == "abc"
    cut = truncate("abcdef", 4)
    assert cut == "abc…" and len(cut) == 4


def test_message_validates_event_and_severity() -> None:
    with pytest.raises(ValueError, match="severity 'urgent'"):
        Message(title="t", text="x", severity="urgent")
    with pytest.raises(ValueError, match="event 'digest'"):
        Message(title="t", text="x", event="digest")


def test_delivery_error_survives_pickling() -> None:
    error = DeliveryError(
        "ops",
        "HTTP 429",
        permanent=False,
        attempts=2,
        status=429,
        kind="discord",
        target="https://discord.com",
        retry_after_s=90.0,
    )
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error)
    assert (copy.channel, copy.permanent, copy.attempts, copy.status, copy.retry_after_s) == (
        "ops",
        False,
        2,
        429,
        90.0,
    )
