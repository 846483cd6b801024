"""Webhook receiving: the inbox and a batched drain against landing each delivery on its own.

    python -m benchmarks.webhooks                        # both, each in its own process
    python -m benchmarks.webhooks --deliveries 500       # another size
    make bench BENCH_ARGS="--webhooks-only"              # the same from make

A Shopify tenant receives ``orders/create`` deliveries of fake orders (``make_shop`` orders
rendered as Shopify renders them, spread over two days), signed as Shopify signs them, over real
HTTP on loopback: four senders, each with a keep-alive ``requests`` session, against the
receiver served by uvicorn in a thread of the same process. Each 200 comes after the delivery
is durably in the inbox. Then ``processor.drain`` lands every pending delivery as one group.

The straightforward alternative, in its own process with the same deliveries: a receiver that
lands before it acknowledges, i.e. one ``land_records`` call (one landing transaction) per
delivery with the Shopify connector's ``webhook_records``. It is timed without HTTP and without
signature checks, so it is charged less than a real receiver doing it would be.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

DEFAULT_DELIVERIES = 2_000
TENANT = "bench"
PLATFORM = "shopify"
TOPIC = "orders/create"
SHOP = "acme-coffee"
FIRST_DAY = date(2026, 11, 20)
DAYS = 2
SENDERS = 4
WEBHOOK_SECRET = "shpss_bench_0123456789abcdef"
ACCESS_TOKEN = "shpat_bench_unused_by_webhooks"


# -- the tenant and its deliveries ----------------------------------------------------------------


def _environment(home: Path) -> None:
    """A tenant configuring Shopify under a fresh EARSHOT_HOME, its secrets in the environment."""
    import yaml

    from warehouse.secrets import clear_cache, env_variable

    for name in (
        "EARSHOT_TENANTS_DIR",
        "EARSHOT_LANDING_DIR",
        "EARSHOT_WEBHOOKS_PUBLIC_URL",
        "EARSHOT_DEPLOYMENT",
    ):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "EARSHOT_HOME": str(home),
            "EARSHOT_LANDING": "local",
            "EARSHOT_SECRETS_BACKEND": "env",
            env_variable(TENANT, f"{PLATFORM}_webhook_secret"): WEBHOOK_SECRET,
            env_variable(TENANT, f"{PLATFORM}_access_token"): ACCESS_TOKEN,
        }
    )
    clear_cache()
    tenants = home / "tenants"
    tenants.mkdir(parents=True, exist_ok=True)
    document = {"connectors": {PLATFORM: {"shop": SHOP}}}
    (tenants / f"{TENANT}.yaml").write_text(yaml.safe_dump(document))


def _zone(home: Path):  # type: ignore[no-untyped-def]
    from warehouse.landing import LandingZone

    return LandingZone(home / "landing")


def _signed(body: bytes, webhook_id: str) -> dict[str, str]:
    """Shopify's headers: a base64 HMAC-SHA256 of the raw body under the app's secret."""
    digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": TOPIC,
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Shop-Domain": f"{SHOP}.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-API-Version": "2024-10",
    }


def deliveries(count: int) -> list[tuple[str, bytes]]:
    """``count`` deliveries (webhook id, body), the same in every process: one new order each,
    created over ``DAYS`` days."""
    from tests.fakes.shop import make_shop
    from tests.fakes.shopify import FakeShopify

    per_day = 4  # make_shop's most orders a day
    shop = make_shop(FIRST_DAY, days=-(-count // per_day), per_day=per_day, seed=23)
    shop.orders = shop.orders[:count]
    start = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=UTC)
    step = timedelta(days=DAYS) / max(count, 1)
    for index, order in enumerate(shop.orders):
        order.created_at = start + index * step
        order.updated_at = order.created_at + timedelta(minutes=5)
    fake = FakeShopify(shop)  # not started: only its rendering is used
    return [
        (
            f"bench-{index:07d}",
            json.dumps(fake.render_order(order), separators=(",", ":")).encode(),
        )
        for index, order in enumerate(shop.orders)
    ]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -- the inbox and a batched drain --------------------------------------------------------------


class _Server:
    """The receiver app served by uvicorn in a thread, on a free loopback port."""

    def __init__(self, zone, tenants: Path) -> None:  # type: ignore[no-untyped-def]
        import uvicorn

        from connectors.webhooks.receiver import ReceiverConfig, build_app, listening_socket

        self.sock = listening_socket("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        app = build_app(ReceiverConfig(zone=zone, tenants_folder=tenants))
        self.server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def _send(url: str, batch: list[tuple[str, bytes]], latencies: list[float], errors: list[str]):  # type: ignore[no-untyped-def]
    import requests

    with requests.Session() as session:
        for webhook_id, body in batch:
            start = time.perf_counter()
            answer = session.post(url, data=body, headers=_signed(body, webhook_id), timeout=60)
            latencies.append(time.perf_counter() - start)
            if answer.status_code != 200 or answer.json().get("status") != "stored":
                errors.append(f"{webhook_id}: {answer.status_code} {answer.text[:200]}")


def inbox(home: Path, count: int) -> dict:
    """Receive every delivery over HTTP (each answered after its inbox write), then drain."""
    from connectors.webhooks.inbox import Inbox
    from connectors.webhooks.processor import drain

    _environment(home)
    zone = _zone(home)
    items = deliveries(count)
    latencies: list[list[float]] = [[] for _ in range(SENDERS)]
    errors: list[str] = []
    with _Server(zone, home / "tenants") as server:
        url = f"{server.url}/webhooks/{PLATFORM}/{TENANT}"
        senders = [
            threading.Thread(target=_send, args=(url, items[i::SENDERS], latencies[i], errors))
            for i in range(SENDERS)
        ]
        start = time.perf_counter()
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        receive_seconds = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{len(errors)} deliveries were not stored, e.g. {errors[0]}")
    receive_peak_kb = _peak_kb()
    pending = Inbox(zone).counts(TENANT).get(PLATFORM, {}).get("pending", 0)

    start = time.perf_counter()
    reports = drain(zone)
    drain_seconds = time.perf_counter() - start
    rows = sum(getattr(report, "rows_landed", 0) for report in reports)
    done = sum(getattr(report, "done", 0) for report in reports)
    counts = Inbox(zone).counts(TENANT).get(PLATFORM, {})
    every = [seconds for sender in latencies for seconds in sender]
    return {
        "deliveries": count,
        "receive_seconds": receive_seconds,
        "p50_ms": _percentile(every, 0.50) * 1000,
        "p99_ms": _percentile(every, 0.99) * 1000,
        "receive_peak_kb": receive_peak_kb,
        "pending": pending,
        "drain_seconds": drain_seconds,
        "rows": rows,
        "done": done,
        "inbox_documents": sum(counts.values()),
        "files": len(zone.files(TENANT, PLATFORM, "orders")),
        "quarantine_files": len(zone.quarantine_files(TENANT)),
        "rows_read": zone.read(TENANT, PLATFORM, "orders").num_rows,
    }


# -- the alternative: one landing batch per delivery ----------------------------------------------


def direct(home: Path, count: int) -> dict:
    """What a receiver that lands before acknowledging does: one landing batch per delivery."""
    from connectors.framework.runtime import build_connector
    from connectors.framework.sync import land_records

    _environment(home)
    zone = _zone(home)
    items = deliveries(count)
    connector = build_connector(TENANT, PLATFORM)
    latencies = []
    rows = 0
    start = time.perf_counter()
    for webhook_id, body in items:
        began = time.perf_counter()
        stream, records = connector.webhook_records(TOPIC, json.loads(body))
        landed = land_records(
            connector,
            zone,
            stream,
            records,
            label=f"webhook delivery {webhook_id}",
            cursor=f"webhook:{webhook_id}",
        )
        rows += landed[0]
        latencies.append(time.perf_counter() - began)
    seconds = time.perf_counter() - start
    return {
        "deliveries": count,
        "seconds": seconds,
        "rows": rows,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "files": len(zone.files(TENANT, PLATFORM, "orders")),
        "quarantine_files": len(zone.quarantine_files(TENANT)),
        "rows_read": zone.read(TENANT, PLATFORM, "orders").num_rows,
    }


# -- report -------------------------------------------------------------------------------------


def run(mode: str, count: int) -> dict:
    """One mode in its own process: its figures and its own peak RSS."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.webhooks", "--mode", mode, "--deliveries", str(count)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"webhook benchmark {mode} failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - start
    return result


def report(count: int = DEFAULT_DELIVERIES) -> str:
    results = {mode: run(mode, count) for mode in ("inbox", "direct")}
    for mode, r in results.items():
        if r["rows_read"] != count:
            raise SystemExit(f"webhook benchmark {mode}: {r['rows_read']:,} rows of {count:,}")
    box, alt = results["inbox"], results["direct"]
    receive, drained, alone = box["receive_seconds"], box["drain_seconds"], alt["seconds"]
    total = receive + drained
    lines = [
        f"Webhook receiver (Shopify, {count:,} {TOPIC} deliveries of {DAYS} days' orders, "
        f"{SENDERS} keep-alive senders over loopback HTTP, the receiver in the same process):",
        f"  {'receive (verify, inbox write, 200)':<36} {receive:7.1f} s {count:>7,} deliveries "
        f"{count / receive:>7,.0f} deliveries/s {box['receive_peak_kb'] / 1024:>5,.0f} MB peak",
        f"      acknowledgement latency p50 {box['p50_ms']:.1f} ms, p99 {box['p99_ms']:.1f} ms",
        f"  {'drain (one landing batch)':<36} {drained:7.1f} s {box['rows']:>7,} rows       "
        f"{box['rows'] / drained:>7,.0f} rows/s       {box['peak_kb'] / 1024:>5,.0f} MB peak",
        f"      {box['files']:,} landed files; {box['inbox_documents']:,} inbox documents kept",
        f"  {'land each delivery on its own':<36} {alone:7.1f} s {count:>7,} deliveries "
        f"{count / alone:>7,.0f} deliveries/s {alt['peak_kb'] / 1024:>5,.0f} MB peak",
        f"      {alt['files']:,} landed files; one landing p50 {alt['p50_ms']:.1f} ms, "
        f"p99 {alt['p99_ms']:.1f} ms (before each acknowledgement)",
        f"  inbox + drain / per-delivery landing: {total / alone:.2f}x the time ({total:.1f} s "
        f"against {alone:.1f} s without HTTP), {box['files'] / max(alt['files'], 1):.4f}x the "
        f"landed files ({box['files']:,} against {alt['files']:,})",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.webhooks")
    parser.add_argument("--deliveries", type=int, default=DEFAULT_DELIVERIES)
    parser.add_argument("--mode", choices=("inbox", "direct"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.mode:
        with tempfile.TemporaryDirectory() as folder:
            result = {"inbox": inbox, "direct": direct}[args.mode](Path(folder), args.deliveries)
        print(json.dumps({**result, "peak_kb": _peak_kb()}))
        return
    print(report(args.deliveries))


if __name__ == "__main__":
    main(sys.argv[1:])
