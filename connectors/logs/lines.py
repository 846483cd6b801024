"""Read a log file (plain or gzip) as blocks of numbered lines, in bulk.

A block is about ``block_bytes`` of the file, cut after a line break, split into lines by one
Arrow call: ``lines(line_no, line)`` with every physical line numbered from 1, empty lines
included (so a quarantined line's number is the one an editor shows). Line ends may be ``\\n``
or ``\\r\\n``. Bytes that are not UTF-8 are replaced by U+FFFD and the block says so, so that
the lines holding them can be quarantined instead of landing with damaged text.

Block boundaries depend only on the file's (decompressed) bytes, so the same file always gives
the same blocks, and so the same landed batches.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BLOCK_BYTES = 64 << 20
GZIP_MAGIC = b"\x1f\x8b"
REPLACEMENT = "\ufffd"


class UnreadableFile(Exception):
    """The file cannot be read to its end (a cut-off or corrupt gzip stream)."""


@dataclass(frozen=True)
class LineBlock:
    # Columns line_no (int64) and line (string).
    table: pa.Table
    first_line: int
    # Some bytes of this block were not UTF-8 (see the module docstring).
    replaced: bool

    @property
    def num_lines(self) -> int:
        return self.table.num_rows


def is_gzip(path: Path) -> bool:
    """Whether the file is gzip-compressed, by its first bytes (not its name)."""
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _open(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # type: ignore[return-value]


def _block(data: bytes, first_line: int) -> LineBlock:
    """``data`` (whole lines, the last one with or without its line break) as a block."""
    if data.endswith(b"\n"):
        data = data[:-1]
    try:
        text = data.decode("utf-8")
        replaced = False
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        replaced = True
    lines = pc.split_pattern(pa.array([text], pa.large_string()), "\n").flatten()
    lines = pc.utf8_rtrim(lines, characters="\r").cast(pa.string())
    numbers = np.arange(first_line, first_line + len(lines), dtype=np.int64)
    table = pa.table({"line_no": pa.array(numbers), "line": lines})
    return LineBlock(table, first_line, replaced)


def read_blocks(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[LineBlock]:
    """The file's lines in blocks of about ``block_bytes``; nothing for an empty file."""
    next_line = 1
    carry = b""
    try:
        with _open(Path(path)) as handle:
            while True:
                read = handle.read(block_bytes)
                data = carry + read
                if read:
                    cut = data.rfind(b"\n") + 1
                    if cut == 0:
                        carry = data  # one line longer than a block: read on
                        continue
                    piece, carry = data[:cut], data[cut:]
                else:
                    piece, carry = data, b""
                if piece:
                    block = _block(piece, next_line)
                    next_line += block.num_lines
                    yield block
                if not read:
                    return
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise UnreadableFile(f"the gzip data is cut off or corrupt ({exc})") from exc
