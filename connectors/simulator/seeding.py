"""Random streams derived from (seed, tenant_id, stream name, index).

Each part of the world draws from its own named stream, so adding draws to one part never shifts
another, and each day of listening has its own stream, so chunks can be generated in any order.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _words(text: str) -> list[int]:
    # A stable hash (Python's hash() is salted per process), as four 32-bit words.
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def generator(seed: int, tenant_id: str, stream: str, *index: int) -> np.random.Generator:
    """A PCG64 generator for one named stream of one tenant's world."""
    entropy = [seed, *_words("tenant:" + tenant_id), *_words("stream:" + stream), *index]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def world_salt(seed: int, tenant_id: str) -> np.uint64:
    """A 64-bit value fixed per world, for hashing identifiers (customer ids, IPv6 interfaces)."""
    words = _words(f"salt:{seed}:{tenant_id}")
    return np.uint64((words[0] << 32) | words[1])


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection on uint64 that looks random (wrapping arithmetic)."""
    z = values.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= _M1
        z ^= z >> np.uint64(27)
        z *= _M2
        z ^= z >> np.uint64(31)
    return z
