"""Per-tenant quotas, enforced when files land: landed bytes, and download requests per month.

The limits are the tenant's settings in ``earshot_meta.tenants`` (``max_landed_bytes``,
``max_download_requests_per_month``; unset means unlimited). Usage is read from the landing zone
itself, the source of truth, so it is current at every commit and the same on a local folder and
on S3:

* landed bytes: every file of the tenant, landed rows and quarantine alike (staging never counts);
* download requests: rows of the landed (not quarantined) ``download_requests`` files of every
  source, per calendar month of their ``dt=`` folder, counted from the Parquet footers.

A guard (:func:`quota_guard`) is asked by the landing zone before each commit. It refuses the whole
commit with :class:`QuotaExceeded` when landing it would take the tenant over a limit, so nothing
of a refused import lands. A batch id is a content hash: landing the same rows again replaces the
same keys with the same rows, so a replaced key adds nothing and a re-import does not count twice
(its bytes may differ by a few lineage bytes, which are not charged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from warehouse.connection import Warehouse, connect
from warehouse.landing import STAGING_DIR, LandingZone, StagedFile
from warehouse.settings import paths, validate_tenant_id, warehouse_target
from warehouse.tenants import get_tenant

REQUESTS_ENTITY = "download_requests"
LANDED_BYTES = "max_landed_bytes"
REQUESTS_PER_MONTH = "max_download_requests_per_month"
# The `earshot tenant update` option that sets each quota (pipelines/cli_tenants.py).
CLI_OPTIONS = {
    LANDED_BYTES: "--max-landed-bytes",
    REQUESTS_PER_MONTH: "--max-download-requests-per-month",
}


@dataclass(frozen=True)
class QuotaLimits:
    """A tenant's limits; ``None`` is unlimited."""

    max_landed_bytes: int | None = None
    max_download_requests_per_month: int | None = None

    @property
    def unlimited(self) -> bool:
        return self.max_landed_bytes is None and self.max_download_requests_per_month is None


UNLIMITED = QuotaLimits()


def limits_for(wh: Warehouse, tenant_id: str) -> QuotaLimits:
    """The tenant's limits from ``earshot_meta.tenants``; unlimited without a row or table."""
    tenant = get_tenant(wh, tenant_id)
    if tenant is None:
        return UNLIMITED
    return QuotaLimits(tenant.max_landed_bytes, tenant.max_download_requests_per_month)


def read_limits(tenant_id: str, target: str | None = None) -> QuotaLimits | None:
    """The tenant's limits, read over a short-lived read-only connection; None without a row.

    The connection is closed before anything lands: DuckDB lets one process write its file, and
    landing must not keep a lock the loaders wait for. A DuckDB warehouse that does not exist yet
    has no tenants, so nothing is opened (a read-only DuckDB connection cannot create the file).
    """
    validate_tenant_id(tenant_id)
    target = target or warehouse_target()
    if target == "duckdb" and not paths().duckdb_path.exists():
        return None
    with connect(target, read_only=True) as wh:
        tenant = get_tenant(wh, tenant_id)
    if tenant is None:
        return None
    return QuotaLimits(tenant.max_landed_bytes, tenant.max_download_requests_per_month)


@dataclass(frozen=True)
class LandingUsage:
    """What a tenant has in the landing zone now."""

    tenant_id: str
    files: int
    landed_bytes: int
    download_requests_by_month: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Scan:
    """One listing of a tenant's landing zone: every key's bytes, and its requests per key."""

    sizes: dict[str, int]
    # Landed download_requests files: key -> (month 'YYYY-MM', rows).
    requests: dict[str, tuple[str, int]]


def _request_month(tenant_id: str, key: str) -> str | None:
    """'YYYY-MM' when ``key`` is a landed (not quarantined) download_requests file."""
    parts = PurePosixPath(key).parts
    if (
        len(parts) == 5
        and parts[0] == tenant_id
        and not parts[1].startswith("_")
        and parts[2] == REQUESTS_ENTITY
        and parts[3].startswith("dt=")
        and parts[4].endswith(".parquet")
    ):
        return parts[3][3:10]
    return None


def _scan(
    zone: LandingZone, tenant_id: str, *, requests: bool, rows_cache: dict[str, int] | None = None
) -> _Scan:
    """List the tenant's files once; read footers of request files only when ``requests``.

    ``rows_cache`` may carry footer counts between scans: a key names a content hash and a day,
    so the rows under a key never change and a key's footer needs reading once.
    """
    validate_tenant_id(tenant_id)
    mine = f"{tenant_id}/"
    staging = f"{tenant_id}/{STAGING_DIR}/"
    sizes = {
        key: size
        for key, size in zone.storage.sizes(tenant_id).items()
        if key.startswith(mine) and not key.startswith(staging)
    }
    found: dict[str, tuple[str, int]] = {}
    if requests:
        cache = rows_cache if rows_cache is not None else {}
        for key in sizes:
            month = _request_month(tenant_id, key)
            if month is None:
                continue
            if key not in cache:
                cache[key] = zone.storage.parquet_rows(key)
            found[key] = (month, cache[key])
    return _Scan(sizes, found)


def _by_month(requests: dict[str, tuple[str, int]]) -> dict[str, int]:
    months: dict[str, int] = {}
    for month, rows in requests.values():
        months[month] = months.get(month, 0) + rows
    return dict(sorted(months.items()))


def landing_usage(zone: LandingZone, tenant_id: str) -> LandingUsage:
    """The tenant's files, bytes and download requests per month in ``zone`` now."""
    scan = _scan(zone, tenant_id, requests=True)
    return LandingUsage(
        tenant_id=tenant_id,
        files=len(scan.sizes),
        landed_bytes=sum(scan.sizes.values()),
        download_requests_by_month=_by_month(scan.requests),
    )


@dataclass(frozen=True)
class QuotaBreach:
    """One limit a commit would exceed: usage before, what the commit adds, the limit."""

    quota: str  # LANDED_BYTES or REQUESTS_PER_MONTH
    used: int
    adding: int
    limit: int
    month: str | None = None

    @property
    def after(self) -> int:
        return self.used + self.adding

    def describe(self) -> str:
        if self.quota == LANDED_BYTES:
            what, unit = "landed bytes", "bytes"
        else:
            what, unit = f"download requests in {self.month}", "requests"
        return (
            f"quota {self.quota} ({what}): {self.used:,} {unit} used + {self.adding:,} to land "
            f"now = {self.after:,}, over the limit of {self.limit:,}"
        )


class QuotaExceeded(ValueError):
    """Landing would take a tenant over a quota; nothing of what was staged landed."""

    def __init__(self, tenant_id: str, breaches: list[QuotaBreach]) -> None:
        if not breaches:
            raise ValueError("QuotaExceeded needs at least one breach")
        self.tenant_id = tenant_id
        self.breaches = list(breaches)
        super().__init__(self._message())

    def __reduce__(self) -> tuple[type[QuotaExceeded], tuple[str, list[QuotaBreach]]]:
        # Exceptions pickle as cls(*args) by default, and args here is only the message.
        return (type(self), (self.tenant_id, self.breaches))

    def _message(self) -> str:
        tenant = self.tenant_id
        # Enough to land this import: the largest total asked for, per quota.
        needed: dict[str, int] = {}
        for breach in self.breaches:
            needed[breach.quota] = max(needed.get(breach.quota, 0), breach.after)
        raise_with = " ".join(
            f"{CLI_OPTIONS[quota]} {amount}" for quota, amount in sorted(needed.items())
        )
        details = "; ".join(b.describe() for b in self.breaches)
        return (
            f"landing this would take tenant {tenant} over its quota: {details}. Nothing of it "
            f"landed. To land it, ask for a higher quota (an operator runs "
            f"`earshot tenant update --tenant {tenant} {raise_with}`, or more), then import "
            f"again; `earshot tenant usage --tenant {tenant}` shows the current usage"
        )


class LandingQuotaGuard:
    """The landing zone's quota guard for one set of limits (see :func:`quota_guard`)."""

    def __init__(self, limits: QuotaLimits, zone: LandingZone) -> None:
        self.limits = limits
        self.zone = zone
        # Footer row counts by key, kept across commits (a key's rows never change).
        self._rows: dict[str, int] = {}

    def __call__(self, tenant_id: str, staged: list[StagedFile]) -> None:
        """Raise QuotaExceeded when committing ``staged`` would take the tenant over a limit."""
        limits = self.limits
        if limits.unlimited or not staged:
            return
        per_month = limits.max_download_requests_per_month
        staged_requests = [
            s for s in staged if s.landed.entity == REQUESTS_ENTITY and not s.landed.quarantine
        ]
        count_requests = per_month is not None and bool(staged_requests)
        if limits.max_landed_bytes is None and not count_requests:
            return
        scan = _scan(self.zone, tenant_id, requests=count_requests, rows_cache=self._rows)
        breaches: list[QuotaBreach] = []

        if limits.max_landed_bytes is not None:
            used = sum(scan.sizes.values())
            # A staged key that exists already replaces that file with the same rows (the key is
            # a content hash): only lineage columns such as the cursor differ, so it adds nothing.
            adding = sum(s.size_bytes for s in staged if s.key not in scan.sizes)
            if adding > 0 and used + adding > limits.max_landed_bytes:
                breaches.append(QuotaBreach(LANDED_BYTES, used, adding, limits.max_landed_bytes))

        if count_requests and per_month is not None:
            used_by_month = _by_month(scan.requests)
            adding_by_month: dict[str, int] = {}
            for s in staged_requests:
                month = s.landed.dt.strftime("%Y-%m")
                # The same key holds the same rows: replacing it adds none.
                replaced = scan.requests.get(s.key, (month, 0))[1]
                adding_by_month[month] = adding_by_month.get(month, 0) + s.landed.rows - replaced
            for month, adding in sorted(adding_by_month.items()):
                used = used_by_month.get(month, 0)
                if adding > 0 and used + adding > per_month:
                    breaches.append(QuotaBreach(REQUESTS_PER_MONTH, used, adding, per_month, month))

        if breaches:
            raise QuotaExceeded(tenant_id, breaches)


def quota_guard(limits: QuotaLimits, zone: LandingZone) -> LandingQuotaGuard:
    """A guard for ``zone`` that refuses commits over ``limits``.

    The guard reads usage from ``zone`` because the landing zone calls it with the tenant and the
    staged files only; :func:`enforce_quotas` builds and installs it in one step.
    """
    return LandingQuotaGuard(limits, zone)


def enforce_quotas(zone: LandingZone, limits: QuotaLimits) -> LandingZone:
    """``zone`` with a guard for ``limits`` installed (none when unlimited); returns ``zone``."""
    zone.quota_guard = None if limits.unlimited else quota_guard(limits, zone)
    return zone


@dataclass(frozen=True)
class UsageLine:
    """One line of the usage table: a quota, its period, used, limit."""

    quota: str
    period: str  # 'total' or 'YYYY-MM'
    used: int
    limit: int | None

    @property
    def percent(self) -> float | None:
        """Share of the limit used; None when unlimited (or any use of a zero limit)."""
        if self.limit is None or (self.limit == 0 and self.used):
            return None
        return 100.0 * self.used / self.limit if self.limit else 0.0

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used > self.limit


def usage_lines(usage: LandingUsage, limits: QuotaLimits) -> list[UsageLine]:
    """The usage table: landed bytes, then download requests for each month with any."""
    lines = [UsageLine(LANDED_BYTES, "total", usage.landed_bytes, limits.max_landed_bytes)]
    months = usage.download_requests_by_month or {"-": 0}
    lines += [
        UsageLine(REQUESTS_PER_MONTH, month, count, limits.max_download_requests_per_month)
        for month, count in months.items()
    ]
    return lines


def format_usage(usage: LandingUsage, limits: QuotaLimits) -> str:
    """The usage table for people: one line per quota and period, over-quota lines marked."""
    header = ("quota", "period", "used", "limit", "used %", "")
    rows = []
    for line in usage_lines(usage, limits):
        pct = line.percent
        rows.append(
            (
                line.quota,
                line.period,
                f"{line.used:,}",
                "unlimited" if line.limit is None else f"{line.limit:,}",
                "-" if pct is None else f"{pct:.1f}%",
                "OVER" if line.over else "",
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {2, 3, 4}  # numbers line up on the right
    out = [
        f"Quota usage of tenant {usage.tenant_id}: {usage.files:,} files in the landing zone",
        "",
    ]
    for row in [header, *rows]:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def usage_breaches(usage: LandingUsage, limits: QuotaLimits) -> list[str]:
    """One sentence per quota the tenant is over now (quotas may be lowered below use)."""
    found = []
    for line in usage_lines(usage, limits):
        if not line.over:
            continue
        if line.quota == LANDED_BYTES:
            what = f"{line.used:,} landed bytes"
        else:
            what = f"{line.used:,} download requests in {line.period}"
        found.append(
            f"tenant {usage.tenant_id}: {what} exceed the quota {line.quota} of {line.limit:,}"
        )
    return found
