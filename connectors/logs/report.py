"""What a log import did: the file import's report, with lines skipped and ignored per file."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.files.report import EMPTY, LANDED, REFUSED, FileReport, ImportReport


@dataclass
class LogFileReport(FileReport):
    """One log file. ``rows_read`` counts every line of the file, so that

    ``rows_read == rows_landed + rows_quarantined + rows_erased + lines_skipped + lines_ignored``.
    """

    log_format: str = ""
    # Header, comment and blank lines: neither data nor errors.
    lines_ignored: int = 0
    # Well-formed lines that are not downloads, by reason ("method POST", ...).
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def lines_skipped(self) -> int:
        return sum(self.skipped.values())


@dataclass
class LogImportReport(ImportReport):
    """Every log file of one import, in the order given."""

    log_format: str = ""
    episode_rule: str = ""

    @property
    def lines_skipped(self) -> int:
        return sum(f.lines_skipped for f in self.files if isinstance(f, LogFileReport))

    def format(self) -> str:
        """A report for the command line: one block per file, then the totals."""
        lines = [f"Log import ({self.log_format}) for tenant {self.tenant_id}; {self.episode_rule}"]
        for f in self.files:
            name = f.path.name
            if f.status in (LANDED, EMPTY) and isinstance(f, LogFileReport):
                lines.append(
                    f"  {name}: {f.rows_read:,} lines: {f.rows_landed:,} landed as "
                    f"download_requests, {f.lines_skipped:,} skipped, "
                    f"{f.rows_quarantined:,} quarantined, {f.lines_ignored:,} header/blank"
                    + (f", {f.rows_erased:,} erased" if f.rows_erased else "")
                    + f" ({f.seconds:.2f} s)"
                )
                if f.skipped:
                    lines.append(
                        "    skipped: "
                        + "; ".join(
                            f"{reason}: {count:,}"
                            for reason, count in sorted(f.skipped.items(), key=lambda i: -i[1])
                        )
                    )
                lines.extend(f"    {m}" for m in f.messages)
            elif f.status == REFUSED and f.quota_exceeded is not None:
                lines.append(f"  {name}: REFUSED by quota: {f.quota_exceeded}")
            else:
                lines.append(f"  {name}: REFUSED: {f.refusal}")
        refused = len(self.refused)
        lines.append(
            f"Total: {self.rows_read:,} lines read, {self.rows_landed:,} landed, "
            f"{self.lines_skipped:,} skipped, {self.rows_quarantined:,} quarantined"
            + (f"; {refused} file(s) refused" if refused else "")
        )
        return "\n".join(lines)
