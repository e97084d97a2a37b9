"""What a generation has done so far, and what a dead population actor needs to catch up.

Per-actor recovery: when population actors die, the engine recreates only those actors,
loads their shards from the last checkpoint (the end of the previous generation), and
replays this generation's breeding (with parents read from that checkpoint, since their
owners may have died or bred since) and training for their own members. Every random stream
is derived from (seed, generation, individual, purpose), so the replay equals what the dead
actor would have computed; shards that finished a phase keep their state and do not redo it.
Scoring is side-effect free and simply runs again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator


class ShardsFailed(RuntimeError):
    """Population actors (shard indices) died during a generation."""

    def __init__(self, shards: set[int], why: str = "", partial: dict[int, Any] | None = None):
        super().__init__(f"population actor(s) {sorted(shards)} died" + (f": {why}" if why else ""))
        self.shards = set(shards)
        self.partial = partial or {}
        """Results of the shards that completed the failed call (they must not redo it)."""


@dataclass(frozen=True)
class StoredParents:
    """Where this generation's parents are checkpointed: storage, shard entries, uid -> shard."""

    storage: Any
    entries: dict[int, dict[str, Any]]
    holders: dict[int, int]


@dataclass(frozen=True)
class Recovery:
    """The run's checkpoint storage, how to read its latest manifest, and the recovery budget."""

    storage: Any
    latest: Callable[[], dict[str, Any] | None]
    attempts: int


@dataclass
class Journal:
    """Phases of the current generation each shard has completed."""

    plans: dict[str, tuple[dict, dict]] = field(default_factory=dict)
    bred: dict[str, set[int]] = field(default_factory=lambda: {"g": set(), "d": set()})
    trained: set[int] = field(default_factory=set)
    train_stats: dict[str, dict[int, dict[str, float]]] = field(default_factory=lambda: {"g": {}, "d": {}})
    parents: dict[str, dict[int, Any]] | None = None
    old_handles: dict[str, list[Any]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    recovering: bool = False
    manifest: dict[str, Any] | None = None

    def record_training(self, shard: int, stats: dict[str, dict[int, dict[str, float]]]) -> None:
        for side, by_uid in stats.items():
            self.train_stats[side].update(by_uid)

    @contextlib.contextmanager
    def completing(self, done: set[int], todo: set[int], record: Callable[[int, Any], None] | None = None
                   ) -> Iterator[dict[int, Any]]:
        """Mark ``todo`` shards done after the block; if some died, mark (and record) only the
        ones that completed, then let the failure propagate."""
        results: dict[int, Any] = {}
        try:
            yield results
        except ShardsFailed as failure:
            self._mark(done, set(failure.partial) & todo, failure.partial, record)
            raise
        self._mark(done, todo, results, record)

    @staticmethod
    def _mark(done: set[int], shards: set[int], results: dict[int, Any], record) -> None:
        for shard in shards:
            if record is not None and shard in results:
                record(shard, results[shard])
            done.add(shard)
