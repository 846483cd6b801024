"""Data-subject requests by IP address: what is held about an address, and its erasure.

A data subject is identified by the address they connect from, and Earshot's unit of a person is
the *household*: the address's network (an IPv4 address, or an IPv6 /64 prefix, see
``dbt_project/macros/network.sql``). Both operations therefore match by network: erasing
``2001:db8::1`` erases every address of ``2001:db8::/64``.

Where rows about a network are held, for one tenant:

* landed files (``<tenant>/<source>/<entity>/...``): rows whose ``ip`` is of the network;
* quarantine files (``<tenant>/_quarantine/...``): rows whose ``raw_record`` JSON has an ``ip``
  of the network;
* ``raw.<entity>`` (by ``ip``) and ``raw.quarantine`` (by ``raw_record``);
* derived tables (staging, intermediate, marts): rows whose ``network_key`` is the network's
  pseudonym ``HMAC-SHA256(tenant key, network)`` or whose ``household_id`` is
  ``md5(network_key)``.

Addresses are compared in Python after normalisation (:func:`network_of`, the twin of the SQL
macros), never by SQL text comparison, so every notation of an address is found. Neither the
address nor the network is written to the audit log or printed: only the ``network_key``.

An erasure also appends the network's key to the tenant's erasure list
(``<tenant>/_erasures/erasures.json`` in the landing zone), because a landed batch id is a
digest of the original rows and re-importing the original export would otherwise bring the
rows back. The file importer drops rows of listed networks (:class:`ErasureFilter`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from warehouse import audit
from warehouse.connection import Warehouse
from warehouse.landing import LandingZone, parquet_options
from warehouse.pseudonymisation import pseudonymise, tenant_key
from warehouse.settings import validate_tenant_id
from warehouse.tenants import tenant_tables

ACCESS_ACTION = "subject.access"
ERASE_ACTION = "subject.erase"
ERASURES_DIR = "_erasures"
ERASURES_FILE = "erasures.json"
ERASURES_FORMAT = 1
# Entities whose landed rows carry a client address (warehouse/entities.py).
IP_ENTITIES = ("download_requests", "orders", "site_events")
IP_COLUMN = "ip"
NETWORK_KEY_COLUMN = "network_key"
HOUSEHOLD_COLUMN = "household_id"
# Place names in the counts: landed files and quarantine files of the landing zone.
LANDING_PLACE = "landing/{source}/{entity}"
LANDING_QUARANTINE_PLACE = "landing/_quarantine"
# Values per IN (...) list: well under both engines' parameter limits.
_IN_CHUNK = 500

# -- the network of an address: Python twin of dbt_project/macros/network.sql ------------------

_OCTET = r"0*(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(\.{_OCTET}){{3}}", re.ASCII)
_IPV6_SHAPE = re.compile(
    r"(([0-9a-f]{1,4})?:)+([0-9a-f]{1,4}|[0-9]{1,3}(\.[0-9]{1,3}){3})?", re.ASCII
)
_IPV4_TAIL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}$", re.ASCII)


class MalformedAddress(ValueError):
    """Not a well-formed IPv4 or IPv6 address (the message does not repeat the value)."""


def _normalised(address: str) -> str:
    """``normalise_ip``: trimmed of spaces, lower case, zone id dropped, IPv4-mapped unwrapped."""
    cleaned = address.strip(" ").lower().split("%", 1)[0]
    if cleaned.startswith("::ffff:") and "." in cleaned[7:]:
        return cleaned[7:]
    return cleaned


def _ipv6_groups(groups: str) -> int:
    """``_ipv6_group_count``: 16-bit groups written; a dotted IPv4 tail fills two."""
    if groups == "":
        return 0
    return groups.count(":") + 1 + (1 if "." in groups else 0)


def _is_ipv6(ip: str) -> bool:
    """``ip_version(...) = 6`` of the SQL, condition for condition."""
    if not _IPV6_SHAPE.fullmatch(ip) or ":::" in ip or ip.count("::") > 1:
        return False
    if ip.startswith(":") and not ip.startswith("::"):
        return False
    if ip.endswith(":") and not ip.endswith("::"):
        return False
    if "::" in ip:
        head, tail = ip.split("::")
        return _ipv6_groups(head) + _ipv6_groups(tail) <= 7
    return _ipv6_groups(ip) == 8


def network_or_none(address: str | None) -> str | None:
    """The network of ``address`` as staging computes it, or None when it has none.

    IPv4: the canonical dotted quad (leading zeros dropped). IPv6: the /64 prefix as four full
    lower-case groups (``2001:0db8:0000:0001``). Malformed or missing: None, as in SQL.
    """
    if address is None:
        return None
    ip = _normalised(address)
    if _IPV4.fullmatch(ip):
        return ".".join(str(int(part)) for part in ip.split("."))
    if not _is_ipv6(ip):
        return None
    # An IPv4 tail is always the last 32 bits, outside the /64: the SQL only counts it as two
    # groups, so it is replaced by two zero groups here (ipaddress would also check its octets,
    # which the SQL does not).
    hexed = _IPV4_TAIL.sub("0:0", ip)
    try:
        exploded = ipaddress.IPv6Address(hexed).exploded
    except ValueError:
        return None
    return exploded[:19]


def network_of(address: str) -> str:
    """The network (household) of ``address``: see :func:`network_or_none`.

    Raises :class:`MalformedAddress` (a ValueError) for anything that is not a well-formed
    IPv4 or IPv6 address; the message does not repeat the value.
    """
    if not isinstance(address, str):
        raise MalformedAddress("an IP address must be text")
    network = network_or_none(address)
    if network is None:
        raise MalformedAddress(
            "not a well-formed IPv4 or IPv6 address (expected e.g. 192.0.2.1 or 2001:db8::1)"
        )
    return network


def household_id(network_key: str) -> str:
    """``household_id_for_network`` (dbt.hash = md5, lower-case hex) of a network key."""
    return hashlib.md5(network_key.encode()).hexdigest()


def _key_fingerprint(key: bytes) -> str:
    """Tells which tenant key an erasure-list entry was made with, without revealing the key."""
    return hmac.new(key, b"earshot erasure list key id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class Subject:
    """One data subject of one tenant: the network's pseudonyms (never the network)."""

    tenant_id: str
    network_key: str
    household_id: str
    ip_version: int
    # The address's network, for matching only: never printed, logged or audited.
    network: str = field(repr=False)
    key_fingerprint: str = field(repr=False)


def subject_for(tenant_id: str, address: str, key: bytes | None = None) -> Subject:
    """The pseudonyms of ``address``'s network for ``tenant_id`` (key from the secret store)."""
    validate_tenant_id(tenant_id)
    network = network_of(address)
    key = tenant_key(tenant_id) if key is None else key
    network_key = pseudonymise(key, network)
    return Subject(
        tenant_id=tenant_id,
        network_key=network_key,
        household_id=household_id(network_key),
        ip_version=6 if ":" in network else 4,
        network=network,
        key_fingerprint=_key_fingerprint(key),
    )


# -- reports -----------------------------------------------------------------------------------


@dataclass
class SubjectReport:
    """Rows held about one network, by place (``landing/...``, ``schema.table``)."""

    tenant_id: str
    network_key: str
    household_id: str
    ip_version: int
    counts: dict[str, int]
    # Landed and quarantine files holding at least one of the rows.
    files: int
    # Whether the network is on the tenant's erasure list already.
    on_erasure_list: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def format(self) -> str:
        lines = _header(self, "data held about")
        lines += _count_lines(self.counts)
        lines.append(f"total: {self.total} rows in {self.files} landed file(s) and the warehouse")
        if self.on_erasure_list:
            lines.append("this network is on the tenant's erasure list: imports drop its rows")
        return "\n".join(lines)


def _header(report: SubjectReport | ErasureReport, verb: str) -> list[str]:
    """The first lines of both reports: whose household, how it was matched, its pseudonyms."""
    return [
        f"tenant {report.tenant_id}: {verb} the household (network) of the address",
        _MATCHING_NOTE[report.ip_version],
        f"network_key:  {report.network_key}",
        f"household_id: {report.household_id}",
        "",
    ]


@dataclass(frozen=True)
class RewrittenFile:
    """A landed or quarantine file the erasure rewrote (``new_size`` None: deleted, empty).

    Sizes let the landing checks' ledger, which fingerprints a validated file by its size, carry
    the validation over: the rows left are a subset of rows that were validated.
    """

    key: str
    place: str
    old_size: int
    new_size: int | None


@dataclass
class ErasureReport:
    """What :func:`erase_subject` removed, by place, and what it rewrote in the landing zone."""

    tenant_id: str
    network_key: str
    household_id: str
    ip_version: int
    counts: dict[str, int]
    files_rewritten: int
    files_deleted: int
    # False when the network was on the erasure list before this erasure.
    newly_listed: bool
    reason: str | None = None
    rewritten: list[RewrittenFile] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def found_nothing(self) -> bool:
        return self.total == 0

    def format(self) -> str:
        lines = _header(self, "erased")
        if self.found_nothing:
            lines.append("nothing held about this network: nothing to erase (already erased?)")
        else:
            lines += _count_lines(self.counts)
            lines.append(
                f"total: {self.total} rows removed; landed files rewritten: "
                f"{self.files_rewritten}, deleted (left empty): {self.files_deleted}"
            )
        lines.append(
            "erasure list: network "
            + ("added; " if self.newly_listed else "already listed; ")
            + "re-imported exports drop its rows"
        )
        lines.append(
            "aggregates (campaign totals in marts) keep their sums until the next "
            f"`earshot run --tenant {self.tenant_id}` rebuilds them from the erased sources"
        )
        return "\n".join(lines)


_MATCHING_NOTE = {
    4: "matched by network: this IPv4 address",
    6: "matched by network: every address of the address's IPv6 /64 (one household)",
}


_PLACE_ORDER = ("landing/", "raw.", "staging.", "intermediate.", "marts.")


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    """Places in the order data flows: landing zone, raw, staging, intermediate, marts."""

    def rank(place: str) -> tuple[int, str]:
        found = [i for i, prefix in enumerate(_PLACE_ORDER) if place.startswith(prefix)]
        return (found[0] if found else len(_PLACE_ORDER), place)

    return {place: counts[place] for place in sorted(counts, key=rank)}


def _count_lines(counts: dict[str, int]) -> list[str]:
    width = max((len(place) for place in counts), default=0) + 1
    return [
        f"{place + ':':{width + 1}} {n} row{'' if n == 1 else 's'}" for place, n in counts.items()
    ]


# -- landing zone ------------------------------------------------------------------------------


class _NetworkMatcher:
    """Which address values (as written) belong to a network, each distinct value parsed once."""

    def __init__(self, network: str) -> None:
        self.network = network
        self._seen: dict[str, bool] = {}

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        hit = self._seen.get(value)
        if hit is None:
            hit = self._seen[value] = network_or_none(value) == self.network
        return hit

    def matching_values(self, values: Iterable[str | None]) -> list[str]:
        return [v for v in values if v is not None and self.matches(v)]

    def record_matches(self, raw_record: str | None) -> bool:
        """Whether a quarantined row's JSON holds an address of the network (key ``ip``)."""
        return any(self.matches(value) for value in record_addresses(raw_record))


def record_addresses(raw_record: str | None) -> list[str]:
    """The ``ip`` values of a quarantined row's ``raw_record`` (JSON of the row as it arrived)."""
    if raw_record is None:
        return []
    try:
        record = json.loads(raw_record)
    except ValueError:
        return []
    if not isinstance(record, dict):
        return []
    return [
        value
        for name, value in record.items()
        if isinstance(name, str) and name.strip().lower() == IP_COLUMN and isinstance(value, str)
    ]


def _all_false(n: int) -> pa.Array:
    return pa.repeat(pa.scalar(False, pa.bool_()), n)


def _mask_where(
    column: pa.ChunkedArray | pa.Array, predicate: Callable[[str | None], bool]
) -> pa.Array:
    """True for the rows whose value satisfies ``predicate`` (nulls: False).

    The predicate runs once per distinct value: a log has far fewer addresses than rows.
    """
    hits = [v for v in pc.unique(column).to_pylist() if v is not None and predicate(v)]
    if not hits:
        return _all_false(len(column))
    return pc.fill_null(pc.is_in(column, value_set=pa.array(hits, pa.string())), False)


@dataclass(frozen=True)
class _LandedMatch:
    key: str
    place: str
    rows: int


def _ip_files(zone: LandingZone, tenant_id: str) -> list[tuple[str, str]]:
    """(key, place) of every landed file of an entity with an address column."""
    found = []
    for source, entity in zone.entities(tenant_id):
        if entity in IP_ENTITIES:
            place = LANDING_PLACE.format(source=source, entity=entity)
            found += [(key, place) for key in zone.files(tenant_id, source, entity)]
    return found


def _read(zone: LandingZone, key: str, columns: list[str] | None = None) -> pa.Table:
    with zone.storage.open_read(key) as handle:
        return pq.read_table(handle, columns=columns)


def _landing_matches(
    zone: LandingZone, tenant_id: str, matcher: _NetworkMatcher
) -> list[_LandedMatch]:
    """Landed and quarantine files holding rows of the network, with how many."""
    found = []
    for key, place in _ip_files(zone, tenant_id):
        table = _read(zone, key, [IP_COLUMN])
        rows = pc.sum(_mask_where(table.column(IP_COLUMN), matcher.matches)).as_py() or 0
        if rows:
            found.append(_LandedMatch(key, place, rows))
    for key in zone.quarantine_files(tenant_id):
        table = _read(zone, key, ["raw_record"])
        rows = pc.sum(_mask_where(table.column("raw_record"), matcher.record_matches)).as_py() or 0
        if rows:
            found.append(_LandedMatch(key, LANDING_QUARANTINE_PLACE, rows))
    return found


def _size(zone: LandingZone, key: str) -> int | None:
    """Bytes of ``key`` (storages list sizes per folder), None when it does not exist."""
    folder = key.rsplit("/", 1)[0]
    return zone.storage.sizes(folder).get(key)


def _rewrite_without(
    zone: LandingZone, match: _LandedMatch, matcher: _NetworkMatcher
) -> tuple[int, RewrittenFile | None]:
    """Rewrite one file without the network's rows, at the same key; (rows removed, the file).

    The file keeps its key (its batch id is the digest of the rows as first landed, which a
    re-import recomputes), its schema and the landing zone's Parquet options. A file left
    without rows is deleted instead.
    """
    old_size = _size(zone, match.key) or 0
    table = _read(zone, match.key)
    if match.place == LANDING_QUARANTINE_PLACE:
        mask = _mask_where(table.column("raw_record"), matcher.record_matches)
    else:
        mask = _mask_where(table.column(IP_COLUMN), matcher.matches)
    removed = pc.sum(mask).as_py() or 0
    if not removed:
        return 0, None
    kept = table.filter(pc.invert(mask))
    if kept.num_rows == 0:
        zone.storage.delete_prefix(match.key)
        return removed, RewrittenFile(match.key, match.place, old_size, None)
    with zone.storage.open_write(match.key) as handle:
        pq.write_table(kept, handle, **parquet_options(kept.schema))
    return removed, RewrittenFile(match.key, match.place, old_size, _size(zone, match.key))


# -- the erasure list --------------------------------------------------------------------------


def erasures_key(tenant_id: str) -> str:
    """Where the tenant's erasure list lives in the landing zone."""
    return f"{validate_tenant_id(tenant_id)}/{ERASURES_DIR}/{ERASURES_FILE}"


def _read_erasures(zone: LandingZone, tenant_id: str) -> list[dict[str, str]]:
    key = erasures_key(tenant_id)
    if not zone.storage.exists(key):
        return []
    with zone.storage.open_read(key) as handle:
        document = json.loads(handle.read().decode("utf-8"))
    if document.get("format") != ERASURES_FORMAT:
        raise ValueError(
            f"{zone.storage.describe(key)}: unknown erasure list format {document.get('format')!r}"
        )
    return list(document["entries"])


def _add_erasure(zone: LandingZone, subject: Subject) -> bool:
    """Put the subject's network on the list (atomic write); False when it was there already."""
    entries = _read_erasures(zone, subject.tenant_id)
    if any(e["network_key"] == subject.network_key for e in entries):
        return False
    entries.append(
        {
            "network_key": subject.network_key,
            "key_fingerprint": subject.key_fingerprint,
            "erased_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    document = {"format": ERASURES_FORMAT, "entries": entries}
    with zone.storage.open_write(erasures_key(subject.tenant_id)) as handle:
        handle.write(json.dumps(document, indent=1, sort_keys=True).encode("utf-8"))
    return True


def erased_networks(zone: LandingZone, tenant_id: str) -> set[str]:
    """The ``network_key`` of every network erased for ``tenant_id`` (empty when none)."""
    return {entry["network_key"] for entry in _read_erasures(zone, tenant_id)}


class ErasureFilter:
    """Drops rows of erased networks from rows about to land (the file importer's side).

    Load it once per import (:meth:`load`); it reads the tenant key only when the list is not
    empty. Each distinct address is pseudonymised once. Entries made with another tenant key
    (before a key rotation) cannot be matched any more: :attr:`stale_entries` counts them, so
    the importer can warn.
    """

    def __init__(self, network_keys: set[str], key: bytes | None, stale_entries: int = 0) -> None:
        self.network_keys = network_keys
        self._key = key
        self.stale_entries = stale_entries
        self._seen: dict[str, bool] = {}

    @classmethod
    def load(
        cls, zone: LandingZone, tenant_id: str, key_of: Callable[[str], bytes] = tenant_key
    ) -> ErasureFilter:
        entries = _read_erasures(zone, tenant_id)
        if not entries:
            return cls(set(), None)
        key = key_of(tenant_id)
        fingerprint = _key_fingerprint(key)
        current = {e["network_key"] for e in entries if e.get("key_fingerprint") == fingerprint}
        return cls(current, key, stale_entries=len(entries) - len(current))

    @property
    def empty(self) -> bool:
        return not self.network_keys

    def is_erased(self, address: str | None) -> bool:
        """Whether ``address`` (as written in an export) belongs to an erased network."""
        if self.empty or self._key is None or address is None:
            return False
        hit = self._seen.get(address)
        if hit is None:
            network = network_or_none(address)
            hit = network is not None and pseudonymise(self._key, network) in self.network_keys
            self._seen[address] = hit
        return hit

    def erased_mask(self, addresses: pa.Array | pa.ChunkedArray) -> pa.Array:
        """True for the rows whose address belongs to an erased network (nulls: False)."""
        if self.empty:
            return _all_false(len(addresses))
        return _mask_where(addresses, self.is_erased)

    def record_erased_mask(self, raw_records: pa.Array | pa.ChunkedArray) -> pa.Array:
        """The same for quarantine rows: True where the ``raw_record`` JSON's ``ip`` is erased."""
        if self.empty:
            return _all_false(len(raw_records))
        return _mask_where(
            raw_records, lambda record: any(self.is_erased(ip) for ip in record_addresses(record))
        )


# -- warehouse ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    schema: str
    table: str
    tenant_column: str
    columns: frozenset[str]

    @property
    def place(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def sql_name(self) -> str:
        return f'"{self.schema}"."{self.table}"'


def _tables(wh: Warehouse) -> list[_Table]:
    """Every tenant table, with its columns (both engines' information_schema)."""
    tables = []
    for schema, table, tenant_column in tenant_tables(wh):
        rows = wh.fetch(
            "select column_name from information_schema.columns"
            " where table_schema = ? and table_name = ?",
            [schema, table],
        )
        tables.append(_Table(schema, table, tenant_column, frozenset(r[0] for r in rows)))
    return tables


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


class _WarehouseMatch:
    """The network's rows in one table: how to count them and how to delete them."""

    def __init__(self, table: _Table, column: str, values: list[str], extra: str = "") -> None:
        self.table = table
        self.column = column
        self.values = values
        self.extra = extra

    def _where(self, chunk: list[str]) -> str:
        placeholders = ", ".join("?" for _ in chunk)
        tenant = f'"{self.table.tenant_column}" = ?'
        return f'{tenant} and ("{self.column}" in ({placeholders}){self.extra})'

    def count(self, wh: Warehouse, tenant_id: str, params: list[str]) -> int:
        total = 0
        for chunk in _chunks(self.values):
            rows = wh.fetch(
                f"select count(*) from {self.table.sql_name} where {self._where(chunk)}",
                [tenant_id, *chunk, *params],
            )
            total += int(rows[0][0])
        return total

    def delete(self, wh: Warehouse, tenant_id: str, params: list[str]) -> None:
        for chunk in _chunks(self.values):
            wh.execute(
                f"delete from {self.table.sql_name} where {self._where(chunk)}",
                [tenant_id, *chunk, *params],
            )


def _warehouse_matches(wh: Warehouse, subject: Subject) -> list[tuple[_WarehouseMatch, list[str]]]:
    """The places in the warehouse that can hold rows of the subject's network."""
    matcher = _NetworkMatcher(subject.network)
    found = []
    for table in _tables(wh):
        tenant = f'"{table.tenant_column}" = ?'
        if table.schema == "raw" and IP_COLUMN in table.columns:
            # Every notation of the address is found: distinct values normalised in Python.
            values = [
                r[0]
                for r in wh.fetch(
                    f'select distinct "{IP_COLUMN}" from {table.sql_name} where {tenant}',
                    [subject.tenant_id],
                )
            ]
            hits = matcher.matching_values(values)
            if hits:
                found.append((_WarehouseMatch(table, IP_COLUMN, hits), []))
        elif table.schema == "raw" and "raw_record" in table.columns:
            values = [
                r[0]
                for r in wh.fetch(
                    f"select distinct raw_record from {table.sql_name} where {tenant}",
                    [subject.tenant_id],
                )
            ]
            hits = [v for v in values if matcher.record_matches(v)]
            if hits:
                found.append((_WarehouseMatch(table, "raw_record", hits), []))
        elif NETWORK_KEY_COLUMN in table.columns and HOUSEHOLD_COLUMN in table.columns:
            match = _WarehouseMatch(
                table, NETWORK_KEY_COLUMN, [subject.network_key], f' or "{HOUSEHOLD_COLUMN}" = ?'
            )
            found.append((match, [subject.household_id]))
        elif NETWORK_KEY_COLUMN in table.columns:
            found.append((_WarehouseMatch(table, NETWORK_KEY_COLUMN, [subject.network_key]), []))
        elif HOUSEHOLD_COLUMN in table.columns:
            found.append((_WarehouseMatch(table, HOUSEHOLD_COLUMN, [subject.household_id]), []))
    return found


# -- the operations ----------------------------------------------------------------------------


def subject_report(
    wh: Warehouse,
    zone: LandingZone,
    tenant_id: str,
    address: str,
    *,
    key: bytes | None = None,
) -> SubjectReport:
    """Rows held about ``address``'s network for ``tenant_id``, by place; audited.

    Read-only apart from the audit row (``subject.access`` with the network key and counts).
    ``key`` overrides the tenant key of the secret store (tests).
    """
    subject = subject_for(tenant_id, address, key)
    matcher = _NetworkMatcher(subject.network)
    counts: dict[str, int] = {}
    landed = _landing_matches(zone, tenant_id, matcher)
    for match in landed:
        counts[match.place] = counts.get(match.place, 0) + match.rows
    with wh.transaction():
        for match, params in _warehouse_matches(wh, subject):
            rows = match.count(wh, tenant_id, params)
            if rows:
                counts[match.table.place] = rows
        counts = _ordered(counts)
        audit.record(
            wh, ACCESS_ACTION, tenant_id, {"network_key": subject.network_key, "counts": counts}
        )
    return SubjectReport(
        tenant_id=tenant_id,
        network_key=subject.network_key,
        household_id=subject.household_id,
        ip_version=subject.ip_version,
        counts=counts,
        files=len(landed),
        on_erasure_list=subject.network_key in erased_networks(zone, tenant_id),
    )


def erase_subject(
    wh: Warehouse,
    zone: LandingZone,
    tenant_id: str,
    address: str,
    reason: str | None = None,
    *,
    key: bytes | None = None,
) -> ErasureReport:
    """Erase ``address``'s network (household) from everything held for ``tenant_id``.

    Order, so that an interruption never lets the rows come back unnoticed: the network goes
    on the erasure list first (re-imports drop it), then the landing zone is rewritten (it is
    the source the warehouse is rebuilt from), then one warehouse transaction deletes the rows
    of every table and writes the ``subject.erase`` audit row. Running it again after a
    failure finishes the job; running it after success finds nothing.
    """
    subject = subject_for(tenant_id, address, key)
    zone.check_scope(tenant_id)
    matcher = _NetworkMatcher(subject.network)
    newly_listed = _add_erasure(zone, subject)

    counts: dict[str, int] = {}
    files: list[RewrittenFile] = []
    for match in _landing_matches(zone, tenant_id, matcher):
        removed, file = _rewrite_without(zone, match, matcher)
        if file is not None:
            counts[match.place] = counts.get(match.place, 0) + removed
            files.append(file)
    deleted = sum(f.new_size is None for f in files)
    rewritten = len(files) - deleted

    with wh.transaction():
        for match, params in _warehouse_matches(wh, subject):
            rows = match.count(wh, tenant_id, params)
            if rows:
                match.delete(wh, tenant_id, params)
                counts[match.table.place] = rows
        counts = _ordered(counts)
        audit.record(
            wh,
            ERASE_ACTION,
            tenant_id,
            {
                "network_key": subject.network_key,
                "reason": reason,
                "counts": counts,
                "files_rewritten": rewritten,
                "files_deleted": deleted,
                "newly_listed": newly_listed,
            },
        )
    return ErasureReport(
        tenant_id=tenant_id,
        network_key=subject.network_key,
        household_id=subject.household_id,
        ip_version=subject.ip_version,
        counts=counts,
        files_rewritten=rewritten,
        files_deleted=deleted,
        newly_listed=newly_listed,
        reason=reason,
        rewritten=files,
    )


__all__ = [
    "ACCESS_ACTION",
    "ERASE_ACTION",
    "ErasureFilter",
    "ErasureReport",
    "MalformedAddress",
    "RewrittenFile",
    "Subject",
    "SubjectReport",
    "erase_subject",
    "erased_networks",
    "erasures_key",
    "household_id",
    "network_of",
    "network_or_none",
    "record_addresses",
    "subject_for",
    "subject_report",
]
