"""Fixtures the serving tests share: the sandbox's fake Slack/Discord/webhook server and a clock
whose sleeps are recorded instead of waited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from serving.sandbox import FakeMessaging, RecordingClock


@pytest.fixture
def fake() -> Iterator[FakeMessaging]:
    with FakeMessaging() as server:
        yield server


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock()
