"""The retry loop every channel shares, its policy, and what it returns or raises.

A channel turns one try into an :class:`Outcome` (delivered; failed for good; or failed for now,
perhaps with the wait the service asked for) and :func:`deliver_with_retries` decides what
happens next:

* delivered: a :class:`Receipt`;
* permanent (a 4xx other than 429, a Slack ``channel_not_found``, an SMTP 5xx): raised at once,
  since sending the same request again cannot succeed;
* transient (429, 5xx, a dropped connection, an SMTP 4xx): tried again after the wait the
  service asked for (``Retry-After``, Discord's ``retry_after``) or else an exponential backoff,
  until ``max_attempts``;
* a requested wait longer than ``max_delay_s`` is not slept: the delivery fails (not
  permanently) at once and the error carries the wait, so the caller (the outbox) can try
  again later instead of blocking a worker for minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a channel tries one message.

    The n-th retry waits ``backoff_s * 2**(n-1)`` seconds, at most ``max_delay_s``, unless the
    service said how long to wait.
    """

    max_attempts: int = 4
    backoff_s: float = 1.0
    max_delay_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.backoff_s < 0 or self.max_delay_s < 0:
            raise ValueError(
                f"backoff_s and max_delay_s must not be negative, got {self.backoff_s} "
                f"and {self.max_delay_s}"
            )

    def backoff(self, failed_attempts: int) -> float:
        """Seconds to wait after the ``failed_attempts``-th failed try."""
        return min(self.backoff_s * 2 ** (failed_attempts - 1), self.max_delay_s)


@dataclass(frozen=True)
class Receipt:
    """A delivered message: which channel, after how many tries, and what the service said
    (a Slack ``ts``, a Discord message id, the SMTP recipients)."""

    channel: str
    attempts: int
    detail: str


class DeliveryError(Exception):
    """A message that was not delivered.

    ``permanent`` says whether trying the same message again later can help (False: a
    throttle, an outage, exhausted retries). ``retry_after_s`` is the wait the service asked
    for when that wait was longer than the policy allows. The message names the channel and
    the reason and never a secret: targets are shown by scheme and host only.
    """

    def __init__(
        self,
        channel: str,
        reason: str,
        *,
        permanent: bool,
        attempts: int,
        status: int | None = None,
        kind: str = "",
        target: str = "",
        retry_after_s: float | None = None,
    ) -> None:
        self.channel = channel
        self.reason = reason
        self.permanent = permanent
        self.attempts = attempts
        self.status = status
        self.kind = kind
        self.target = target
        self.retry_after_s = retry_after_s
        where = f"{kind} channel {channel!r}" if kind else f"channel {channel!r}"
        if target:
            where += f" ({target})"
        verdict = "permanent, not retried" if permanent else "may be retried later"
        tries = f"{attempts} attempt" + ("" if attempts == 1 else "s")
        super().__init__(f"{where}: {reason} [{verdict}; {tries}]")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes: the default reduce would call cls(message) and fail, and a
        # run's worker process may need to pickle the error.
        return (
            _rebuild_delivery_error,
            (
                self.channel,
                self.reason,
                self.permanent,
                self.attempts,
                self.status,
                self.kind,
                self.target,
                self.retry_after_s,
            ),
        )


def _rebuild_delivery_error(
    channel: str,
    reason: str,
    permanent: bool,
    attempts: int,
    status: int | None,
    kind: str,
    target: str,
    retry_after_s: float | None,
) -> DeliveryError:
    return DeliveryError(
        channel,
        reason,
        permanent=permanent,
        attempts=attempts,
        status=status,
        kind=kind,
        target=target,
        retry_after_s=retry_after_s,
    )


@dataclass(frozen=True)
class Outcome:
    """The result of one try, as a channel classifies it."""

    delivered: bool
    detail: str = ""
    permanent: bool = False
    status: int | None = None
    reason: str = ""
    retry_after_s: float | None = None

    @classmethod
    def ok(cls, detail: str, status: int | None = None) -> Outcome:
        return cls(delivered=True, detail=detail, status=status)

    @classmethod
    def permanent_failure(cls, reason: str, status: int | None = None) -> Outcome:
        return cls(delivered=False, permanent=True, status=status, reason=reason)

    @classmethod
    def transient_failure(
        cls, reason: str, status: int | None = None, retry_after_s: float | None = None
    ) -> Outcome:
        return cls(delivered=False, status=status, reason=reason, retry_after_s=retry_after_s)


def deliver_with_retries(
    attempt: Callable[[], Outcome],
    policy: RetryPolicy,
    *,
    channel: str,
    kind: str = "",
    target: str = "",
    sleep: Sleep = time.sleep,
    describe: Callable[[str], str] = lambda reason: reason,
) -> Receipt:
    """Call ``attempt`` until it delivers, fails for good, or the policy gives up.

    ``describe`` post-processes every reason before it goes into an error (channels pass their
    secret scrubber).
    """

    def failure(
        outcome: Outcome, number: int, reason: str, retry_after_s: float | None = None
    ) -> DeliveryError:
        return DeliveryError(
            channel,
            describe(reason),
            permanent=outcome.permanent,
            attempts=number,
            status=outcome.status,
            kind=kind,
            target=target,
            retry_after_s=retry_after_s,
        )

    for number in range(1, policy.max_attempts + 1):
        outcome = attempt()
        if outcome.delivered:
            return Receipt(channel=channel, attempts=number, detail=outcome.detail)
        if outcome.permanent:
            raise failure(outcome, number, outcome.reason)
        if number == policy.max_attempts:
            raise failure(outcome, number, f"{outcome.reason}; gave up after {number} attempts")
        requested = outcome.retry_after_s
        if requested is not None and requested > policy.max_delay_s:
            raise failure(
                outcome,
                number,
                f"{outcome.reason}; the service asked to wait {requested:g} s, longer than "
                f"max_delay_s={policy.max_delay_s:g}: try again later",
                retry_after_s=requested,
            )
        sleep(max(0.0, requested) if requested is not None else policy.backoff(number))
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
