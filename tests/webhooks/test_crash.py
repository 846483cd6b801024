"""Crashes with real processes: the receiver killed after storing a delivery but before
answering (the sender redelivers to a restarted ``earshot webhooks serve``), a drain killed
between landing and done, and the serve command's own background drain."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.webhooks.support import (
    TENANT,
    dumps,
    inbox_files,
    shopify_headers,
    shopify_order,
    write_tenant,
)

ROOT = Path(__file__).resolve().parents[2]
STARTUP_S = 60


@contextmanager
def process(env: dict[str, str], *args: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """A server process and the base URL it printed."""
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"listening on (http://[\d.]+:\d+)/", line)
        if not match:
            proc.kill()
            raise AssertionError(f"no address printed: {line!r} {proc.stderr.read()}")
        url = match[1]
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                requests.get(url + "/healthz", timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stderr.read()) from None
                time.sleep(0.05)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def _earshot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _orders(world) -> Counter:
    return Counter(r["order_id"] for r in world.zone.read(TENANT, "shopify", "orders").to_pylist())


@pytest.fixture
def shop(world):
    write_tenant(world.tenants, {"shopify": {"shop": "acme-coffee"}})
    return world


def test_killed_before_answering_then_redelivered_lands_once(shop):
    world = shop
    body = dumps(shopify_order(5550001, datetime(2026, 11, 22, 12, 0, tzinfo=UTC)))
    headers = shopify_headers(body, "orders/create", "wh-crash-1")
    path = f"/webhooks/shopify/{TENANT}"
    with process(world.env, "-m", "tests.webhooks.crash_server", "serve") as (proc, url):
        with pytest.raises(requests.ConnectionError):
            requests.post(url + path, data=body, headers=headers, timeout=30)
        assert proc.wait(timeout=30) == 137
    # Durable before the (never sent) answer.
    assert len(inbox_files(world.home, "shopify", "pending")) == 1

    # The sender saw no acknowledgement and delivers again, to the restarted receiver.
    serve = ("-m", "pipelines.cli", "webhooks", "serve", "--port", "0", "--no-drain")
    with process(world.env, *serve) as (_, url):
        again = requests.post(url + path, data=body, headers=headers, timeout=30)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert len(inbox_files(world.home, "shopify", "pending")) == 1

    # A drain killed after landing, before the delivery moves to done/.
    killed = subprocess.run(
        [sys.executable, "-m", "tests.webhooks.crash_server", "drain"],
        cwd=ROOT,
        env=world.env,
        capture_output=True,
        timeout=300,
    )
    assert killed.returncode == 137, killed.stderr
    assert _orders(world) == {"5550001": 1}
    assert len(inbox_files(world.home, "shopify", "pending")) == 1

    status = _earshot(world.env, "webhooks", "status", "--tenant", TENANT)
    assert "shopify: 1 pending, 0 failed, 0 done" in status.stdout, status.stderr
    drained = _earshot(world.env, "webhooks", "drain", "--tenant", TENANT)
    assert drained.returncode == 0, drained.stdout + drained.stderr
    assert "1 done" in drained.stdout
    status = _earshot(world.env, "webhooks", "status", "--tenant", TENANT)
    assert "shopify: 0 pending, 0 failed, 1 done" in status.stdout
    # Landed exactly once: the re-landed batch replaced the file the killed drain wrote.
    assert _orders(world) == {"5550001": 1}
    assert len(world.zone.files(TENANT, "shopify", "orders")) == 1


def test_serve_drains_in_the_background(shop):
    world = shop
    body = dumps(shopify_order(5550002, datetime(2026, 11, 22, 13, 0, tzinfo=UTC)))
    headers = shopify_headers(body, "orders/create", "wh-bg-1")
    serve = ("-m", "pipelines.cli", "webhooks", "serve", "--port", "0", "--drain-interval", "0.2")
    with process(world.env, *serve) as (_, url):
        answer = requests.post(
            url + f"/webhooks/shopify/{TENANT}", data=body, headers=headers, timeout=30
        )
        assert answer.json()["status"] == "stored"
        deadline = time.monotonic() + 60
        while not inbox_files(world.home, "shopify", "done"):
            assert time.monotonic() < deadline, "the background drain never ran"
            time.sleep(0.1)
    assert _orders(world) == {"5550002": 1}
