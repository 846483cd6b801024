"""Land CDN and host download logs as ``download_requests`` (docs/user/log-import.md).

Each file is imported in its own landing transaction, like an export file
(``connectors/files/importer.py``): its rows and quarantined lines land together when the whole
file has been read, or not at all when the file is refused (a header that does not fit the
format, a cut-off gzip stream) or when landing it would take the tenant over a quota. Rows land
under the source ``logs_<format>``; rows of erased data subjects are dropped as in file imports.

Files are read in blocks of about 64 MB (``lines.py``) and each block is parsed by one DuckDB
query (``parse.py``) and landed as one batch, so memory is bounded by the block size. Batch ids
are content hashes and blocks depend only on the file's bytes: importing the same log again
replaces its batches instead of adding rows.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from connectors.files.importer import MAX_ROW_MESSAGES
from connectors.files.report import (
    EMPTY,
    LANDED,
    REFUSED,
    FileRefused,
    count_true,
    erasure_messages,
)
from connectors.logs.episodes import EpisodeRule
from connectors.logs.formats import get_format
from connectors.logs.lines import BLOCK_BYTES, UnreadableFile, read_blocks
from connectors.logs.parse import ENTITY, FileRefusal, LogParser
from connectors.logs.report import LogFileReport, LogImportReport
from warehouse.data_subjects import ErasureFilter
from warehouse.landing import LandingTransaction, LandingZone
from warehouse.quotas import QuotaExceeded
from warehouse.settings import validate_tenant_id


def _land_file(
    tx: LandingTransaction,
    path: Path,
    parser: LogParser,
    report: LogFileReport,
    extracted_at: datetime,
    erasures: ErasureFilter,
    block_bytes: int,
) -> None:
    name = path.name
    source = parser.format.source
    skipped: Counter[str] = Counter()
    started = False
    for block in read_blocks(path, block_bytes):
        if not started:
            parser.start_file(block)
            started = True
        result = parser.parse(block)
        landed = result.landed.append_column(
            "_source_file", pa.repeat(pa.scalar(name, pa.string()), result.landed.num_rows)
        )
        quarantined = result.quarantined.add_column(
            0,
            "_source_file",
            pa.repeat(pa.scalar(name, pa.string()), result.quarantined.num_rows),
        )
        drop = None if erasures.empty else erasures.erased_mask(landed.column("ip"))
        drop_quarantined = (
            None if erasures.empty else erasures.record_erased_mask(quarantined["raw_record"])
        )
        last_line = block.first_line + block.num_lines - 1
        report.landed += tx.write_batch(
            source,
            ENTITY,
            landed,
            cursor=f"{name}#lines={block.first_line}-{last_line}",
            extracted_at=extracted_at,
            drop=drop,
        )
        report.quarantine += tx.write_quarantine(
            source, ENTITY, quarantined, extracted_at=extracted_at, drop=drop_quarantined
        )
        erased, erased_quarantined = count_true(drop), count_true(drop_quarantined)
        report.rows_read += block.num_lines
        report.rows_landed += landed.num_rows - erased
        report.rows_quarantined += quarantined.num_rows - erased_quarantined
        report.rows_erased += erased + erased_quarantined
        report.lines_ignored += result.ignored
        skipped.update(result.skipped)
        room = MAX_ROW_MESSAGES - len(report.messages)
        if room > 0 and quarantined.num_rows:
            shown = quarantined.slice(0, room).select(["_source_row", "reason"]).to_pylist()
            report.messages += [f"{name} line {r['_source_row']}: {r['reason']}" for r in shown]
    report.skipped = dict(skipped)
    shown = len(report.messages)
    if report.rows_quarantined > shown:
        report.messages.append(
            f"{name}: {report.rows_quarantined:,} lines quarantined in all (first {shown} "
            "shown); each one's reason is in the quarantine"
        )
    report.messages += erasure_messages(name, report.rows_erased, erasures.stale_entries, "line")


def _import_file(
    tenant_id: str,
    path: Path,
    zone: LandingZone,
    parser: LogParser,
    extracted_at: datetime,
    erasures: ErasureFilter,
    block_bytes: int,
) -> LogFileReport:
    started = time.perf_counter()
    fmt = parser.format.name
    report = LogFileReport(path, ENTITY, LANDED, log_format=fmt)
    refusal: FileRefused | None = None
    exceeded: QuotaExceeded | None = None
    try:
        with zone.transaction(tenant_id) as tx:
            _land_file(tx, path, parser, report, extracted_at, erasures, block_bytes)
    except OSError as exc:
        refusal = FileRefused(path.name, f"cannot be read: {exc.strerror or exc}")
    except UnreadableFile as exc:
        refusal = FileRefused(path.name, str(exc))
    except FileRefusal as exc:
        refusal = FileRefused(path.name, f"{exc.reason} (format {fmt})", line=exc.line)
    except QuotaExceeded as exc:
        # Refused at commit by the zone's quota guard: nothing of the file landed, and the
        # other files are still tried (a smaller one may fit).
        exceeded = exc
        refusal = FileRefused(path.name, str(exc))
    if refusal is not None:
        report = LogFileReport(
            path,
            ENTITY,
            REFUSED,
            refusal=refusal,
            quota_exceeded=exceeded,
            log_format=fmt,
            messages=[str(exceeded or refusal)],
        )
    elif report.rows_read == report.lines_ignored:
        report.status = EMPTY
    report.seconds = time.perf_counter() - started
    return report


def import_logs(
    tenant_id: str,
    paths: Iterable[Path],
    zone: LandingZone,
    fmt: str,
    *,
    episode_pattern: str | None = None,
    episode_map: Path | None = None,
    extracted_at: datetime | None = None,
    block_bytes: int = BLOCK_BYTES,
) -> LogImportReport:
    """Land log files of one format for ``tenant_id``; see docs/user/log-import.md.

    Raises ValueError (an unknown format) or ``EpisodeRuleError`` (an unusable pattern or map)
    before anything is read; a file that cannot be imported is reported as refused.
    """
    validate_tenant_id(tenant_id)
    log_format = get_format(fmt)
    rule = EpisodeRule.build(episode_pattern, episode_map)
    files = [Path(p) for p in paths]
    moment = extracted_at or datetime.now(UTC)
    report = LogImportReport(
        tenant_id=tenant_id,
        source=files[0].parent if files else Path("."),
        log_format=log_format.name,
        episode_rule=rule.describe(),
    )
    # Rows of erased data subjects never land again, whatever log brings them back.
    erasures = ErasureFilter.load(zone, tenant_id)
    with LogParser(log_format, rule) as parser:
        for path in files:
            report.files.append(
                _import_file(tenant_id, path, zone, parser, moment, erasures, block_bytes)
            )
    return report
