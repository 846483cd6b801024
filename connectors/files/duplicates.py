"""Find repeated rows (or repeated keys) across all chunks of one file, by their hashes.

Only the 128-bit hash of each distinct row and the number of the row where it first appeared are
kept (24 bytes per distinct row), never the rows themselves. They are kept in a few sorted arrays
of growing size, merged when two reach a similar size, so a lookup is a handful of binary
searches and the total work stays O(n log n) over a file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class _Level:
    h1: np.ndarray
    h2: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.h1)


def _sorted_level(h1: np.ndarray, h2: np.ndarray, rows: np.ndarray) -> _Level:
    # Sorted by h1 only: the rare runs of equal h1 are searched through in ``_lookup``.
    order = np.argsort(h1)
    return _Level(h1[order], h2[order], rows[order])


def _lookup(level: _Level, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
    """For each (h1, h2), the row it first appeared at in ``level``, or 0."""
    found = np.zeros(len(h1), dtype=np.int64)
    left = np.searchsorted(level.h1, h1, side="left")
    right = np.searchsorted(level.h1, h1, side="right")
    width = right - left
    single = np.flatnonzero(width == 1)
    match = level.h2[left[single]] == h2[single]
    found[single[match]] = level.rows[left[single[match]]]
    # Several stored rows share this h1 (an h1 collision between different rows): look closer.
    for i in np.flatnonzero(width > 1):
        span = slice(left[i], right[i])
        hits = np.flatnonzero(level.h2[span] == h2[i])
        if hits.size:
            found[i] = level.rows[span][hits[0]]
    return found


class DuplicateTracker:
    """Remembers the first row of every distinct hash seen in one file."""

    def __init__(self) -> None:
        self._levels: list[_Level] = []

    def first_rows(self, h1: np.ndarray, h2: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """For each row, the number of an earlier row with the same hash, or 0; then remember.

        ``rows`` are the rows' numbers in the file, increasing across calls.
        """
        n = len(h1)
        first = np.zeros(n, dtype=np.int64)
        if n == 0:
            return first
        # Within this chunk: group equal hashes; each group's earliest row is its original.
        order = np.argsort(h1)
        s1, s2 = h1[order], h2[order]
        starts = np.r_[True, s1[1:] != s1[:-1]]
        if np.any((s2[1:] != s2[:-1]) & ~starts[1:]):
            # Two different rows share an h1 (practically never): group by both hashes.
            order = np.lexsort((h2, h1))
            s1, s2 = h1[order], h2[order]
            starts = np.r_[True, (s1[1:] != s1[:-1]) | (s2[1:] != s2[:-1])]
        srows = rows[order]
        group = np.cumsum(starts) - 1
        leaders = np.flatnonzero(starts)
        earliest = np.minimum.reduceat(srows, leaders)
        # Then against earlier chunks: a leader seen before makes its whole group repeats.
        before = np.zeros(len(leaders), dtype=np.int64)
        for level in self._levels:
            found = _lookup(level, s1[leaders], s2[leaders])
            before = np.where(before == 0, found, before)
        origin = np.where(before > 0, before, earliest)[group]
        repeat = (origin != srows) | (before[group] > 0)
        first[order[repeat]] = origin[repeat]
        new = before == 0
        self._remember(s1[leaders][new], s2[leaders][new], earliest[new])
        return first

    def _remember(self, h1: np.ndarray, h2: np.ndarray, rows: np.ndarray) -> None:
        if len(h1) == 0:
            return
        self._levels.append(_sorted_level(h1, h2, rows))
        # Merge while the newest level is at least half as big as the one before it, so there
        # are O(log n) levels.
        while len(self._levels) > 1 and 2 * len(self._levels[-1]) >= len(self._levels[-2]):
            last = self._levels.pop()
            prev = self._levels.pop()
            self._levels.append(
                _sorted_level(
                    np.concatenate([prev.h1, last.h1]),
                    np.concatenate([prev.h2, last.h2]),
                    np.concatenate([prev.rows, last.rows]),
                )
            )
