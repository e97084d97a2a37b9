"""Wall-clock accounting of a generation's parts (a leaf module)."""

from __future__ import annotations

import contextlib
import time
from typing import Iterator


@contextlib.contextmanager
def timed(timings: dict[str, float], key: str) -> Iterator[None]:
    """Add the block's wall time to ``timings[key]`` (phases may run twice after a recovery)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - started
