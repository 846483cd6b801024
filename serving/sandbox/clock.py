"""A clock that moves only when something sleeps: retries and pacing without waiting.

Channels take ``sleep`` and ``clock`` arguments; given ``clock=fake`` and ``sleep=fake.sleep``
they run at full speed and ``fake.sleeps`` lists every wait they would have made, in order.
"""

from __future__ import annotations

import threading


class RecordingClock:
    """A monotonic clock whose ``sleep`` records the wait and advances the time at once."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)
