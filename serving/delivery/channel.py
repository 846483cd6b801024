"""What every channel shares: a name, client-side pacing, and the retry loop."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable

from serving.delivery.http import ConnectionFailed
from serving.delivery.message import Message
from serving.delivery.redaction import scrub
from serving.delivery.retry import Outcome, Receipt, RetryPolicy, Sleep, deliver_with_retries

Clock = Callable[[], float]


class Channel(ABC):
    """A destination messages are sent to; ``send`` returns a :class:`Receipt` or raises
    :class:`~serving.delivery.retry.DeliveryError`.

    Pacing: a service that allows about one message per second per hook (Slack) throttles a
    burst of alerts; a channel therefore waits until ``min_interval_s`` has passed since its
    previous request (and until any time the service announced, see ``_hold_until``) before it
    sends again. One channel object should serve every message to its destination for the
    pacing to hold; it is thread-safe.
    """

    kind: str = "channel"
    default_min_interval_s: float = 0.0

    def __init__(
        self,
        name: str,
        *,
        target: str,
        secrets: Iterable[str] = (),
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        min_interval_s: float | None = None,
    ) -> None:
        if not name:
            raise ValueError(f"{self.kind} channel: a name is required")
        self.name = name
        self.target = target
        self.policy = policy or RetryPolicy()
        self.min_interval_s = (
            self.default_min_interval_s if min_interval_s is None else float(min_interval_s)
        )
        if self.min_interval_s < 0:
            raise ValueError(f"{self.kind} channel {name!r}: min_interval_s must not be negative")
        self._secrets = tuple(s for s in secrets if s)
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._last_request_at: float | None = None
        self._not_before: float | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, target={self.target!r})"

    @abstractmethod
    def send(self, message: Message) -> Receipt:
        """Deliver ``message`` (with retries) or raise DeliveryError."""

    def _deliver(self, attempt: Callable[[], Outcome]) -> Receipt:
        """Run ``attempt`` through the shared retry loop, paced, with scrubbed reasons."""

        def paced_attempt() -> Outcome:
            with self._lock:
                self._pace()
                try:
                    return attempt()
                except ConnectionFailed as error:
                    # No answer at all (refused, reset, timed out): worth another attempt.
                    return Outcome.transient_failure(str(error))
                finally:
                    self._last_request_at = self._clock()

        return deliver_with_retries(
            paced_attempt,
            self.policy,
            channel=self.name,
            kind=self.kind,
            target=self.target,
            sleep=self._sleep,
            describe=self._scrub,
        )

    def _pace(self) -> None:
        now = self._clock()
        ready_at = now
        if self._last_request_at is not None and self.min_interval_s > 0:
            ready_at = max(ready_at, self._last_request_at + self.min_interval_s)
        if self._not_before is not None:
            ready_at = max(ready_at, self._not_before)
            self._not_before = None
        if ready_at > now:
            self._sleep(ready_at - now)

    def _hold_until(self, seconds_from_now: float) -> None:
        """Send nothing more for ``seconds_from_now`` (a service said its bucket is empty)."""
        self._not_before = self._clock() + max(0.0, seconds_from_now)

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secrets)
