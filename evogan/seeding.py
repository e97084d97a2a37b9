"""Every random stream derives from the one base seed and a path of keys.

Streams are stateless: the seed of (generation 7, individual 12, "train") is the same whether
the run was interrupted or not, so a resumed run reproduces an uninterrupted one exactly.
"""

from __future__ import annotations

import zlib

import numpy as np


def derive_seed(base: int, *keys: int | str) -> int:
    """A 63-bit seed for ``keys`` under ``base`` (strings hashed with CRC-32)."""
    words = [int(base) & 0xFFFFFFFF]
    for key in keys:
        words.append(zlib.crc32(key.encode()) if isinstance(key, str) else int(key) & 0xFFFFFFFF)
    state = np.random.SeedSequence(words).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def numpy_rng(base: int, *keys: int | str) -> np.random.Generator:
    return np.random.default_rng(derive_seed(base, *keys))
