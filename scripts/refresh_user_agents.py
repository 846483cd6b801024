"""Refresh dbt_project/seeds/user_agents.csv from the OPAWG user-agents list.

Usage (no network access: download the files first, e.g. from
https://github.com/opawg/user-agents-v2/tree/master/src)::

    python scripts/refresh_user_agents.py bots.json apps.json libraries.json browsers.json

Accepted shapes:

* user-agents-v2 ``src/<kind>.json``: ``{"entries": [{"name", "pattern", "category"?}]}``; the
  kind comes from the file name (bots, apps, libraries, browsers) or ``--kind``. A library
  without ``"category": "bot"`` (AppleCoreMedia, ExoPlayer, ...) is embedded in listening apps
  and becomes kind ``app``; the others stay ``library`` and are excluded from counts.
* the combined list (``user-agents.json``): a list of entries, or ``{"entries": [...]}``, each
  with a ``user_agents`` regex list and ``bot: true``, ``app``, ``browser``, ``device``, ``os``.

The project's own rows (``source = project``) are kept as they are; every ``opawg`` row is
replaced. Patterns are rewritten to the regex syntax every warehouse engine shares (``\\d`` ->
``[0-9]``, ``\\s``, ``\\w`` to POSIX classes); patterns that cannot be (look-around, inline flags,
back-references, negated shorthand classes) are skipped and reported.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "user_agents.csv"
COLUMNS = ("position", "kind", "name", "pattern", "source")
# Match order (OPAWG: bots, apps, libraries, browsers; the IAB Apple Watch rule first). Each
# kind owns a block of positions; the project's rows come before imported ones in a block.
KIND_BASE = {"watch": 0, "bot": 100_000, "app": 200_000, "library": 300_000, "browser": 400_000}
FILE_KINDS = {"bots": "bot", "apps": "app", "libraries": "library", "browsers": "browser"}
_UNSUPPORTED = re.compile(r"\(\?|\\[1-9]|\\[DSWbB]")


@dataclass(frozen=True)
class Row:
    kind: str
    name: str
    pattern: str
    source: str


def portable_pattern(pattern: str) -> str | None:
    """The pattern in the syntax DuckDB (RE2) and PostgreSQL (ARE) share, or None."""
    if _UNSUPPORTED.search(pattern):
        return None
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            shorthand = {"d": "0-9", "s": "[:space:]", "w": "[:alnum:]_"}.get(nxt)
            if shorthand is not None:
                out.append(shorthand if in_class else f"[{shorthand}]")
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class and out and out[-1] != "[":
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


def _v2_rows(entries: list[dict[str, Any]], kind: str) -> list[Row]:
    rows = []
    for entry in entries:
        pattern = entry.get("pattern")
        if not pattern:
            continue
        entry_kind = kind
        if kind == "library" and entry.get("category") != "bot":
            entry_kind = "app"  # a player library inside listening apps
        rows.append(Row(entry_kind, str(entry.get("name", pattern)), pattern, "opawg"))
    return rows


def _v1_rows(entries: list[dict[str, Any]]) -> list[Row]:
    rows = []
    for entry in entries:
        if entry.get("bot"):
            kind = "bot"
        elif entry.get("browser") and not entry.get("app"):
            kind = "browser"
        else:
            kind = "app"
        name = str(entry.get("app") or entry.get("browser") or entry.get("description") or "")
        for pattern in entry.get("user_agents", []):
            rows.append(Row(kind, name or pattern, pattern, "opawg"))
    return rows


def parse_opawg(path: Path, kind: str | None = None) -> list[Row]:
    """Seed rows from one OPAWG JSON file, in the file's order."""
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = data.get("entries", []) if isinstance(data, dict) else data
    if any("user_agents" in e for e in entries):
        return _v1_rows(entries)
    kind = kind or FILE_KINDS.get(path.stem.split(".")[0])
    if kind not in KIND_BASE:
        raise ValueError(f"{path}: cannot tell the kind from the file name; pass --kind")
    return _v2_rows(entries, kind)


def read_seed(path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8") as f:
        ordered = sorted(csv.DictReader(f), key=lambda r: int(r["position"]))
    return [Row(r["kind"], r["name"], r["pattern"], r["source"]) for r in ordered]


def merge(existing: list[Row], imported: list[Row]) -> tuple[list[dict[str, str]], list[Row]]:
    """Project rows kept, imported rows made portable; returns the CSV rows and the skipped."""
    kept = [r for r in existing if r.source != "opawg"]
    skipped: list[Row] = []
    fresh: list[Row] = []
    seen: set[tuple[str, str]] = {(r.kind, r.pattern) for r in kept}
    for row in imported:
        pattern = portable_pattern(row.pattern)
        if pattern is None:
            skipped.append(row)
            continue
        if (row.kind, pattern) in seen:
            continue
        seen.add((row.kind, pattern))
        fresh.append(Row(row.kind, row.name, pattern, "opawg"))
    out: list[dict[str, str]] = []
    for kind, base in KIND_BASE.items():
        block = [r for r in kept if r.kind == kind] + [r for r in fresh if r.kind == kind]
        for i, row in enumerate(block, start=1):
            out.append(
                {
                    "position": str(base + i),
                    "kind": row.kind,
                    "name": row.name,
                    "pattern": row.pattern,
                    "source": row.source,
                }
            )
    return out, skipped


def write_seed(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("files", nargs="+", type=Path, help="OPAWG JSON files")
    parser.add_argument("--kind", choices=sorted(FILE_KINDS.values()), help="kind of all files")
    parser.add_argument("--seed", type=Path, default=SEED, help="seed CSV to update")
    args = parser.parse_args(argv)
    imported: list[Row] = []
    for path in args.files:
        imported.extend(parse_opawg(path, args.kind))
    rows, skipped = merge(read_seed(args.seed), imported)
    write_seed(args.seed, rows)
    print(f"{args.seed}: {len(rows)} patterns ({len(skipped)} skipped)")
    for row in skipped:
        print(f"  skipped ({row.kind}) {row.name}: {row.pattern}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
