"""Quotas enforced when landing: usage from the landing zone, the guard, the importer's refusal."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.files import import_directory
from connectors.files.report import LANDED, REFUSED
from tests.unit.file_import.exports import (
    download_requests,
    landing_snapshot,
    order_line,
    orders_csv,
    write_export_parquet,
    write_text,
)
from warehouse.connection import DuckDBWarehouse
from warehouse.entities import ENTITIES
from warehouse.landing import LandingZone
from warehouse.quotas import (
    UNLIMITED,
    LandingQuotaGuard,
    QuotaExceeded,
    QuotaLimits,
    enforce_quotas,
    format_usage,
    landing_usage,
    limits_for,
    read_limits,
    usage_breaches,
    usage_lines,
)
from warehouse.tenants import Tenant, create_tenant

TENANT = "acme"
EXTRACTED = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)


def requests_on(*days: tuple[str, int]) -> pa.Table:
    """Download requests: ``count`` rows on each ``YYYY-MM-DD`` day, distinct per row."""
    ts: list[datetime] = []
    for day, count in days:
        start = datetime.fromisoformat(day)
        ts += [start + timedelta(seconds=i) for i in range(count)]
    n = len(ts)
    schema = ENTITIES["download_requests"].schema
    return pa.table(
        {
            "ts": pa.array(ts, pa.timestamp("us")),
            "ip": [f"203.0.113.{i % 250}" for i in range(n)],
            "user_agent": ["AppleCoreMedia/1.0"] * n,
            "episode_id": [f"ep-{i}" for i in range(n)],
            "method": ["GET"] * n,
            "status": pa.array([206] * n, pa.int32()),
            "bytes_sent": pa.array([1_000_000 + i for i in range(n)], pa.int64()),
            "range": ["bytes=0-"] * n,
            "seconds_downloaded": [None] * n,
        },
        schema=schema,
    )


def bad_requests(n: int) -> pa.Table:
    return pa.table(
        {
            "_source_file": ["download_requests.csv"] * n,
            "_source_row": pa.array(range(1, n + 1), pa.int64()),
            "reason": ["column ts: not a timestamp"] * n,
            "raw_record": ['{"ts": "yesterday"}'] * n,
        }
    )


def land(zone: LandingZone, table: pa.Table, source: str = "files") -> None:
    zone.write_batch(TENANT, source, "download_requests", table, cursor="c", extracted_at=EXTRACTED)


def guarded(root: Path, limits: QuotaLimits) -> LandingZone:
    return enforce_quotas(LandingZone(root), limits)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# -- usage -------------------------------------------------------------------------------------


def test_usage_counts_bytes_of_everything_and_requests_of_landed_rows_per_month(
    tmp_path: Path,
) -> None:
    zone = LandingZone(tmp_path / "landing")
    land(zone, requests_on(("2026-03-30", 4), ("2026-04-02", 3)))
    land(zone, requests_on(("2026-04-05", 2)), source="megaphone")
    zone.write_quarantine(TENANT, "files", "download_requests", bad_requests(5))
    # Another tenant's files and a crashed import's staging do not count.
    zone.write_batch("other", "files", "download_requests", requests_on(("2026-04-01", 9)),
                     cursor="c")  # fmt: skip
    staging = zone.storage.path(f"{TENANT}/_staging/crashed/000000.parquet")
    staging.parent.mkdir(parents=True)
    staging.write_bytes(b"x" * 10_000)

    usage = landing_usage(zone, TENANT)

    assert usage.download_requests_by_month == {"2026-03": 4, "2026-04": 5}
    mine = [p for p in files_under(zone.root / TENANT) if "_staging" not in p.parts]
    assert usage.files == len(mine) == 4  # two days + another source, and the quarantine
    assert usage.landed_bytes == sum(p.stat().st_size for p in mine)
    quarantine = zone.quarantine_files(TENANT)
    assert quarantine and all(zone.storage.path(k) in mine for k in quarantine)


def test_usage_of_an_empty_tenant_is_zero(tmp_path: Path) -> None:
    usage = landing_usage(LandingZone(tmp_path / "landing"), TENANT)
    assert (usage.files, usage.landed_bytes, usage.download_requests_by_month) == (0, 0, {})


# -- refusing bytes ----------------------------------------------------------------------------


def test_over_the_byte_quota_nothing_lands_and_the_message_says_what_to_do(
    tmp_path: Path,
) -> None:
    root = tmp_path / "landing"
    land(LandingZone(root), requests_on(("2026-03-01", 50)))
    used = landing_usage(LandingZone(root), TENANT).landed_bytes
    before = landing_snapshot(LandingZone(root))
    zone = guarded(root, QuotaLimits(max_landed_bytes=used + 10))

    with pytest.raises(QuotaExceeded) as caught:
        land(zone, requests_on(("2026-03-02", 50)))

    assert landing_snapshot(zone) == before
    assert not any("_staging" in p.parts for p in files_under(root))
    error = caught.value
    assert error.tenant_id == TENANT
    [breach] = error.breaches
    assert (breach.quota, breach.used, breach.limit) == ("max_landed_bytes", used, used + 10)
    assert breach.adding > 10
    message = str(error)
    for part in (
        f"tenant {TENANT}",
        "max_landed_bytes",
        f"{used:,} bytes used",
        f"+ {breach.adding:,} to land now",
        f"over the limit of {used + 10:,}",
        "Nothing of it landed",
        f"earshot tenant update --tenant {TENANT} --max-landed-bytes {used + breach.adding}",
        f"earshot tenant usage --tenant {TENANT}",
    ):
        assert part in message, part


def test_a_batch_that_fits_lands(tmp_path: Path) -> None:
    zone = guarded(tmp_path / "landing", QuotaLimits(max_landed_bytes=1_000_000))
    land(zone, requests_on(("2026-03-01", 50)))
    assert landing_usage(zone, TENANT).download_requests_by_month == {"2026-03": 50}


def test_quarantine_counts_against_the_byte_quota(tmp_path: Path) -> None:
    zone = guarded(tmp_path / "landing", QuotaLimits(max_landed_bytes=100))
    with pytest.raises(QuotaExceeded, match="max_landed_bytes"):
        zone.write_quarantine(TENANT, "files", "orders", bad_requests(3))
    assert files_under(tmp_path / "landing") == []


def test_relanding_the_same_rows_does_not_count_twice(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    rows = requests_on(("2026-03-01", 40), ("2026-03-02", 40))
    land(LandingZone(root), rows)
    usage = landing_usage(LandingZone(root), TENANT)
    # Exactly at the limits: anything new would be refused, the same rows again are not new.
    zone = guarded(root, QuotaLimits(usage.landed_bytes, max_download_requests_per_month=80))

    land(zone, rows)
    zone.write_batch(
        TENANT, "files", "download_requests", rows, cursor="again", extracted_at=EXTRACTED
    )

    again = landing_usage(zone, TENANT)
    # Replaced in place: only the lineage (here the cursor) differs, by a few bytes.
    assert again.files == usage.files
    assert abs(again.landed_bytes - usage.landed_bytes) < usage.landed_bytes // 10
    assert again.download_requests_by_month == {"2026-03": 80}
    with pytest.raises(QuotaExceeded):
        land(zone, requests_on(("2026-03-03", 1)))


def test_over_quota_already_refuses_new_bytes_but_not_a_replacement(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    rows = requests_on(("2026-03-01", 20))
    land(LandingZone(root), rows)
    # The quota was lowered below what is landed.
    zone = guarded(root, QuotaLimits(max_landed_bytes=1))
    land(zone, rows)
    with pytest.raises(QuotaExceeded):
        land(zone, requests_on(("2026-03-05", 1)))


# -- refusing requests -------------------------------------------------------------------------


def test_requests_are_counted_per_calendar_month_of_their_date(tmp_path: Path) -> None:
    zone = guarded(tmp_path / "landing", QuotaLimits(max_download_requests_per_month=10))
    land(zone, requests_on(("2026-03-31", 10), ("2026-04-01", 6)))
    land(zone, requests_on(("2026-05-01", 10)))  # a new month starts from zero
    land(zone, requests_on(("2026-04-30", 4)))
    snapshot = landing_snapshot(zone)

    with pytest.raises(QuotaExceeded) as caught:
        land(zone, requests_on(("2026-04-15", 1), ("2026-06-01", 3)))

    assert landing_snapshot(zone) == snapshot  # June fits, but nothing of the batch lands
    [breach] = caught.value.breaches
    assert (breach.quota, breach.month, breach.used, breach.adding, breach.limit) == (
        "max_download_requests_per_month",
        "2026-04",
        10,
        1,
        10,
    )
    message = str(caught.value)
    assert "download requests in 2026-04" in message
    assert "10 requests used + 1 to land now = 11, over the limit of 10" in message
    assert f"--tenant {TENANT} --max-download-requests-per-month 11" in message
    assert landing_usage(zone, TENANT).download_requests_by_month == {
        "2026-03": 10,
        "2026-04": 10,
        "2026-05": 10,
    }


def test_requests_of_every_source_share_the_monthly_quota(tmp_path: Path) -> None:
    zone = guarded(tmp_path / "landing", QuotaLimits(max_download_requests_per_month=10))
    land(zone, requests_on(("2026-03-01", 6)))
    with pytest.raises(QuotaExceeded, match="2026-03"):
        land(zone, requests_on(("2026-03-02", 5)), source="megaphone")


def test_quarantined_requests_count_as_bytes_not_requests(tmp_path: Path) -> None:
    zone = guarded(tmp_path / "landing", QuotaLimits(max_download_requests_per_month=0))
    zone.write_quarantine(TENANT, "files", "download_requests", bad_requests(50))
    usage = landing_usage(zone, TENANT)
    assert usage.download_requests_by_month == {}
    assert usage.files == 1 and usage.landed_bytes > 0
    # Other entities do not use the request quota either.
    zone.write_batch(TENANT, "files", "orders", _orders(), cursor="c")
    with pytest.raises(QuotaExceeded):
        land(zone, requests_on(("2026-03-01", 1)))


def _orders() -> pa.Table:
    schema = ENTITIES["orders"].schema
    row = {f.name: None for f in schema}
    row.update(order_id="o1", ts=datetime(2026, 3, 1, 10), revenue=19.99)
    return pa.Table.from_pylist([row], schema=schema)


def test_both_quotas_breached_are_both_named(tmp_path: Path) -> None:
    zone = guarded(tmp_path / "landing", QuotaLimits(100, 5))
    with pytest.raises(QuotaExceeded) as caught:
        land(zone, requests_on(("2026-03-01", 6)))
    assert [b.quota for b in caught.value.breaches] == [
        "max_landed_bytes",
        "max_download_requests_per_month",
    ]
    assert "--max-download-requests-per-month 6 --max-landed-bytes" in str(caught.value)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value) and copy.breaches == caught.value.breaches


# -- unlimited ---------------------------------------------------------------------------------


class _NoListing:
    """A storage for a guard that must not look at the zone at all."""

    def sizes(self, prefix: str) -> dict[str, int]:
        raise AssertionError("an unlimited or irrelevant quota must not list the landing zone")


def test_unlimited_tenants_have_no_guard_and_skip_the_work(tmp_path: Path) -> None:
    zone = enforce_quotas(LandingZone(tmp_path / "landing"), UNLIMITED)
    assert zone.quota_guard is None
    land(zone, requests_on(("2026-03-01", 100)))
    assert landing_usage(zone, TENANT).download_requests_by_month == {"2026-03": 100}

    listing_free = LandingZone(tmp_path / "other")
    listing_free.storage = _NoListing()  # type: ignore[assignment]
    staged = LandingZone(tmp_path / "x")
    with staged.transaction(TENANT) as tx:
        tx.write_batch("files", "orders", _orders(), cursor="c")
        files = tx.staged()
        LandingQuotaGuard(UNLIMITED, listing_free)(TENANT, files)
        # Only a request quota, and no download requests staged: nothing to count either.
        only_requests = QuotaLimits(max_download_requests_per_month=1)
        LandingQuotaGuard(only_requests, listing_free)(TENANT, files)


# -- limits ------------------------------------------------------------------------------------


def test_limits_come_from_the_tenants_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EARSHOT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EARSHOT_DUCKDB_PATH", raising=False)
    monkeypatch.setenv("EARSHOT_WAREHOUSE", "duckdb")
    path = tmp_path / "home" / "warehouse.duckdb"
    assert read_limits(TENANT) is None  # no warehouse yet: nothing opened, nothing created
    assert not path.exists()

    wh = DuckDBWarehouse(path)
    try:
        assert limits_for(wh, TENANT) == UNLIMITED  # no tenants table
        create_tenant(wh, Tenant(TENANT, "Acme", max_landed_bytes=5000))
        create_tenant(wh, Tenant("globex", "Globex", max_download_requests_per_month=7))
        assert limits_for(wh, TENANT) == QuotaLimits(5000, None)
        assert limits_for(wh, "initech") == UNLIMITED
    finally:
        wh.close()
    assert read_limits(TENANT) == QuotaLimits(5000, None)
    assert read_limits("globex") == QuotaLimits(None, 7)
    assert read_limits("initech") is None


# -- the usage table ---------------------------------------------------------------------------


def test_usage_table_shows_each_quota_and_marks_the_ones_over(tmp_path: Path) -> None:
    zone = LandingZone(tmp_path / "landing")
    land(zone, requests_on(("2026-03-01", 8), ("2026-04-01", 2)))
    usage = landing_usage(zone, TENANT)
    limits = QuotaLimits(max_landed_bytes=usage.landed_bytes * 2, max_download_requests_per_month=4)

    text = format_usage(usage, limits)
    lines = text.splitlines()
    assert lines[0] == f"Quota usage of tenant {TENANT}: {usage.files} files in the landing zone"
    table = {line.split()[1]: line.split() for line in lines[3:]}
    assert table["total"][:5] == [
        "max_landed_bytes",
        "total",
        f"{usage.landed_bytes:,}",
        f"{usage.landed_bytes * 2:,}",
        "50.0%",
    ]
    assert table["2026-03"][2:] == ["8", "4", "200.0%", "OVER"]
    assert table["2026-04"][2:] == ["2", "4", "50.0%"]
    assert usage_breaches(usage, limits) == [
        f"tenant {TENANT}: 8 download requests in 2026-03 exceed the quota "
        "max_download_requests_per_month of 4"
    ]
    assert usage_breaches(usage, UNLIMITED) == []
    unlimited = format_usage(usage, UNLIMITED)
    assert "unlimited" in unlimited and "OVER" not in unlimited


def test_usage_lines_without_requests_still_show_the_request_quota(tmp_path: Path) -> None:
    usage = landing_usage(LandingZone(tmp_path / "landing"), TENANT)
    lines = usage_lines(usage, QuotaLimits(0, 0))
    assert [(x.quota, x.period, x.used, x.over, x.percent) for x in lines] == [
        ("max_landed_bytes", "total", 0, False, 0.0),
        ("max_download_requests_per_month", "-", 0, False, 0.0),
    ]


# -- the file importer -------------------------------------------------------------------------


def test_a_file_over_quota_is_refused_and_the_others_still_land(tmp_path: Path) -> None:
    export = tmp_path / "export"
    write_export_parquet(download_requests(3_000), export / "download_requests.parquet")
    same_day = "2026-03-01T10:00:00Z"
    write_text(export / "orders.csv", orders_csv([order_line(i, same_day) for i in range(5)]))
    root = tmp_path / "landing"
    zone = guarded(root, QuotaLimits(max_landed_bytes=20_000))

    report = import_directory(TENANT, export, zone)

    by_name = {f.path.name: f for f in report.files}
    refused = by_name["download_requests.parquet"]
    assert refused.status == REFUSED and refused.quota_exceeded is not None
    assert refused.landed == [] and refused.rows_landed == 0
    assert by_name["orders.csv"].status == LANDED
    assert [f.path.name for f in report.refused_by_quota] == ["download_requests.parquet"]
    # The refused file stays to be imported again once the quota is raised.
    assert report.handled_files() == [export / "orders.csv"]
    assert not report.ok
    landed = landing_snapshot(zone)
    assert landed and all("/orders/" in key for key in landed)
    assert not any("_staging" in p.parts for p in files_under(root))
    text = report.format()
    assert "download_requests.parquet: download_requests: REFUSED by quota: landing this" in text
    assert "--max-landed-bytes" in text

    # Raised: the same folder lands the refused file; the orders are replaced, not doubled.
    enforce_quotas(zone, QuotaLimits(max_landed_bytes=10_000_000))
    again = import_directory(TENANT, export, zone)
    assert again.ok
    usage = landing_usage(zone, TENANT)
    assert sum(usage.download_requests_by_month.values()) == 3_000
    assert len(zone.files(TENANT, "files", "orders")) == len(landed)
