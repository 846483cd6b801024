"""IP addresses as numbers: the reference ranges, drawing inside and outside them, and text.

An address is (version, hi, lo) in uint64 arrays: IPv4 in ``lo`` (``hi`` = 0), IPv6 as its upper
and lower 64 bits. The text form is what a web server logs: dotted quad, or RFC 5952 compressed
IPv6 (lower case, no leading zeros, the first longest run of two or more zero groups as '::').
"""

from __future__ import annotations

import csv
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

IP_CLASSES = ("household", "cellular", "commercial", "data_centre", "relay")
IP_CLASS_CODE = {name: code for code, name in enumerate(IP_CLASSES)}

DEFAULT_RANGES_PATH = Path(__file__).resolve().parents[2] / "dbt_project/seeds/ip_class_ranges.csv"

# Residential (cable/DSL/fibre) space that households draw from; anything that overlaps the
# reference ranges is redrawn, so this list only has to be mostly right.
RESIDENTIAL_V4 = (
    "24.0.0.0/8",
    "50.128.0.0/9",
    "67.160.0.0/11",
    "68.32.0.0/11",
    "71.0.0.0/8",
    "73.0.0.0/8",
    "75.0.0.0/8",
    "76.0.0.0/8",
    "98.0.0.0/8",
    "99.0.0.0/8",
)
RESIDENTIAL_V6 = ("2601::/20", "2603:8000::/20", "2003::/19", "2a02:c7c::/32")

_OCTETS = pa.array([str(i) for i in range(256)])
_HEXTETS = pa.array([format(i, "x") for i in range(65536)])
_U64 = np.uint64


@dataclass(frozen=True)
class IpRange:
    version: int
    first: int  # IPv4: the address; IPv6: the /64 prefix as an integer
    last: int
    ip_class: str


@dataclass(frozen=True)
class IpRanges:
    """The reference ranges of non-household networks, by class."""

    ranges: tuple[IpRange, ...]
    source: Path

    def of(self, ip_class: str, version: int) -> list[IpRange]:
        return [r for r in self.ranges if r.ip_class == ip_class and r.version == version]


def _v6_prefix(text: str) -> int:
    groups = text.split(":")
    if len(groups) != 4 or not all(1 <= len(g) <= 4 for g in groups):
        raise ValueError("expected a /64 prefix of four groups like 2600:1f00:0000:0000")
    return int("".join(g.rjust(4, "0") for g in groups), 16)


def load_ip_ranges(path: Path | None = None) -> IpRanges:
    """Read the reference ranges (dbt seed ip_class_ranges.csv), naming any bad row."""
    source = path or DEFAULT_RANGES_PATH
    ranges: list[IpRange] = []
    try:
        handle = source.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise FileNotFoundError(f"{source}: cannot read the IP class ranges: {exc}") from exc
    with handle:
        for line_no, row in enumerate(csv.DictReader(handle), start=2):
            try:
                version = int(row["ip_version"])
                ip_class = row["ip_class"].strip()
                if ip_class not in IP_CLASSES or ip_class == "household":
                    raise ValueError(f"unknown ip_class {ip_class!r}")
                if version == 4:
                    first = int(ipaddress.IPv4Address(row["first_address"].strip()))
                    last = int(ipaddress.IPv4Address(row["last_address"].strip()))
                elif version == 6:
                    first = _v6_prefix(row["first_address"].strip())
                    last = _v6_prefix(row["last_address"].strip())
                else:
                    raise ValueError(f"ip_version must be 4 or 6, got {version}")
                if last < first:
                    raise ValueError("last_address is before first_address")
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{source}, line {line_no}: {exc} (row {row})") from exc
            ranges.append(IpRange(version, first, last, ip_class))
    if not ranges:
        raise ValueError(f"{source}: no IP class ranges")
    return IpRanges(tuple(ranges), source)


@dataclass
class Addresses:
    """A column of IP addresses in numeric form."""

    version: np.ndarray  # int8: 4 or 6
    hi: np.ndarray  # uint64
    lo: np.ndarray  # uint64

    def __len__(self) -> int:
        return len(self.version)

    def take(self, index: np.ndarray) -> Addresses:
        return Addresses(self.version[index], self.hi[index], self.lo[index])

    @staticmethod
    def concat(parts: list[Addresses]) -> Addresses:
        return Addresses(
            np.concatenate([p.version for p in parts]).astype(np.int8),
            np.concatenate([p.hi for p in parts]).astype(_U64),
            np.concatenate([p.lo for p in parts]).astype(_U64),
        )

    @staticmethod
    def where(mask: np.ndarray, a: Addresses, b: Addresses) -> Addresses:
        return Addresses(
            np.where(mask, a.version, b.version).astype(np.int8),
            np.where(mask, a.hi, b.hi).astype(_U64),
            np.where(mask, a.lo, b.lo).astype(_U64),
        )

    def text(self) -> pa.Array:
        return format_addresses(self)


def _draw_from_ranges(
    rng: np.random.Generator, bounds: list[tuple[int, int]], n: int
) -> np.ndarray:
    """n values uniform within the union of inclusive [first, last] integer bounds (< 2**64).
    Small ranges are weighted up (square root of size) so that each one shows up."""
    sizes = np.array([last - first + 1 for first, last in bounds], dtype=np.float64)
    weights = np.sqrt(sizes)
    which = rng.choice(len(bounds), size=n, p=weights / weights.sum())
    out = np.empty(n, dtype=_U64)
    for i, (first, last) in enumerate(bounds):
        sel = np.flatnonzero(which == i)
        if sel.size:
            out[sel] = _U64(first) + rng.integers(
                0, last - first, size=sel.size, dtype=_U64, endpoint=True
            )
    return out


def _cidr_bounds(cidrs: tuple[str, ...], version: int) -> list[tuple[int, int]]:
    bounds = []
    for cidr in cidrs:
        net = ipaddress.ip_network(cidr)
        if version == 4:
            bounds.append((int(net.network_address), int(net.broadcast_address)))
        else:  # as /64 prefixes
            bounds.append((int(net.network_address) >> 64, int(net.broadcast_address) >> 64))
    return bounds


def random_interface_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Lower 64 bits of IPv6 addresses: mostly random (privacy addresses), some small numbers
    handed out by DHCPv6 (which print with '::')."""
    iid = rng.integers(0, np.iinfo(_U64).max, size=n, dtype=_U64, endpoint=True)
    small = rng.random(n) < 0.15
    iid[small] = rng.integers(1, 0xFFFF, size=int(small.sum()), dtype=_U64)
    return iid


def draw_in_class(
    rng: np.random.Generator, ranges: IpRanges, ip_class: str, n: int, v6_share: float
) -> Addresses:
    """n addresses inside the reference ranges of ``ip_class`` (IPv6 for about v6_share)."""
    v4 = ranges.of(ip_class, 4)
    v6 = ranges.of(ip_class, 6)
    if not v4 and not v6:
        raise ValueError(f"{ranges.source}: no ranges of class {ip_class!r}")
    is_v6 = rng.random(n) < (v6_share if v6 else 0.0)
    if not v4:
        is_v6[:] = True
    version = np.where(is_v6, 6, 4).astype(np.int8)
    hi = np.zeros(n, dtype=_U64)
    lo = np.zeros(n, dtype=_U64)
    n6 = int(is_v6.sum())
    if n - n6:
        lo[~is_v6] = _draw_from_ranges(rng, [(r.first, r.last) for r in v4], n - n6)
    if n6:
        hi[is_v6] = _draw_from_ranges(rng, [(r.first, r.last) for r in v6], n6)
        lo[is_v6] = random_interface_ids(rng, n6)
    return Addresses(version, hi, lo)


def in_reference_ranges(addresses: Addresses, ranges: IpRanges) -> np.ndarray:
    """True where an address falls inside any reference range (IPv6 compared by /64)."""
    hit = np.zeros(len(addresses), dtype=bool)
    for r in ranges.ranges:
        if r.version == 4:
            key = addresses.lo
            sel = addresses.version == 4
        else:
            key = addresses.hi
            sel = addresses.version == 6
        hit |= sel & (key >= _U64(r.first)) & (key <= _U64(r.last))
    return hit


def draw_residential(
    rng: np.random.Generator, ranges: IpRanges, n: int, version: int
) -> np.ndarray:
    """n residential IPv4 addresses (``lo``) or IPv6 /64 prefixes (``hi``) outside every
    reference range; IPv4 host parts avoid .0 and .255."""
    cidrs = RESIDENTIAL_V4 if version == 4 else RESIDENTIAL_V6
    bounds = _cidr_bounds(cidrs, version)
    out = _draw_from_ranges(rng, bounds, n)
    for _ in range(100):
        if version == 4:
            out = (out & ~_U64(0xFF)) | rng.integers(1, 255, size=n, dtype=_U64)
            probe = Addresses(np.full(n, 4, np.int8), np.zeros(n, _U64), out)
        else:
            probe = Addresses(np.full(n, 6, np.int8), out, np.zeros(n, _U64))
        bad = in_reference_ranges(probe, ranges)
        if not bad.any():
            return out
        fresh = _draw_from_ranges(rng, bounds, int(bad.sum()))
        out[bad] = fresh
    raise ValueError(f"{ranges.source}: the reference ranges cover the residential space")


def format_ipv4(lo: np.ndarray) -> pa.Array:
    octets = [
        _OCTETS.take(pa.array(((lo >> _U64(shift)) & _U64(255)).astype(np.int64)))
        for shift in (24, 16, 8, 0)
    ]
    return pc.binary_join_element_wise(*octets, ".")


def format_ipv6(hi: np.ndarray, lo: np.ndarray) -> pa.Array:
    """RFC 5952 text of IPv6 addresses, built column-wise."""
    n = len(hi)
    groups = np.empty((n, 8), dtype=np.int64)
    for g in range(4):
        shift = _U64(48 - 16 * g)
        groups[:, g] = ((hi >> shift) & _U64(0xFFFF)).astype(np.int64)
        groups[:, g + 4] = ((lo >> shift) & _U64(0xFFFF)).astype(np.int64)
    zero = groups == 0
    # Length of the run of zero groups starting at each position.
    run = np.zeros((n, 9), dtype=np.int8)
    for g in range(7, -1, -1):
        run[:, g] = np.where(zero[:, g], run[:, g + 1] + 1, 0)
    run = run[:, :8]
    start = run.argmax(axis=1)  # the first of the longest runs
    length = run[np.arange(n), start]
    compress = length >= 2
    # Ten token slots per row: an extra empty token before and after the groups gives '::' when
    # the run touches either end; inside the run only its first slot stays, as an empty token.
    pos = np.arange(8)[None, :]
    in_run = compress[:, None] & (pos >= start[:, None]) & (pos < (start + length)[:, None])
    run_head = in_run & (pos == start[:, None])
    emit = np.zeros((n, 10), dtype=bool)
    emit[:, 1:9] = ~in_run | run_head
    emit[:, 0] = compress & (start == 0)
    emit[:, 9] = compress & (start + length == 8)
    token = np.full((n, 10), -1, dtype=np.int64)  # -1 = empty token
    token[:, 1:9] = np.where(run_head, -1, groups)
    flat_token = token[emit]
    counts = emit.sum(axis=1)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    values = _HEXTETS.take(pa.array(np.where(flat_token < 0, 0, flat_token)))
    values = pc.if_else(pa.array(flat_token < 0), pa.scalar(""), values)
    lists = pa.ListArray.from_arrays(pa.array(offsets), values)
    return pc.binary_join(lists, ":")


def format_addresses(addresses: Addresses) -> pa.Array:
    """Text of a mixed IPv4/IPv6 column, in the original order."""
    n = len(addresses)
    is_v6 = addresses.version == 6
    if not is_v6.any():
        return format_ipv4(addresses.lo)
    if is_v6.all():
        return format_ipv6(addresses.hi, addresses.lo)
    i4 = np.flatnonzero(~is_v6)
    i6 = np.flatnonzero(is_v6)
    text = pa.concat_arrays(
        [format_ipv4(addresses.lo[i4]), format_ipv6(addresses.hi[i6], addresses.lo[i6])]
    )
    # Position k of the concatenation holds row order[k]; invert that to restore row order.
    order = np.concatenate([i4, i6])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    return text.take(pa.array(inverse))


def format_prefix64(hi: np.ndarray) -> pa.Array:
    """The /64 network of IPv6 prefixes, e.g. 2601:1a:b::/64."""
    text = format_ipv6(hi, np.zeros(len(hi), dtype=_U64))
    return pc.binary_join_element_wise(text, pa.scalar("/64"), "")
