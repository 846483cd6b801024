"""The keyword baseline: a segment is a sponsor read when it contains a sponsor phrase.

What an analyst does with a text search: look for "promo code", "use code", "sponsored by" and a
vanity URL's ".com/". It misses reads worded otherwise (a spoken URL, "enter KITCHEN20 at
checkout", the pitch between the introduction and the code) and flags host talk that uses the
words (the show's own patreon.com/ page, an anecdote about promo codes).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

KEYWORDS = ("promo code", "use code", "sponsored by", ".com/")


def keyword_flags(texts: Iterable[str]) -> np.ndarray:
    """Whether each text contains one of the KEYWORDS (case-insensitive)."""
    return np.array([any(k in str(t).lower() for k in KEYWORDS) for t in texts], dtype=bool)
