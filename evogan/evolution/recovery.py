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

from dataclasses import dataclass, field
from typing import Any, Callable


class ShardsFailed(RuntimeError):
    """Population actors (shard indices) died during a generation."""

    def __init__(self, shards: set[int], why: str = ""):
        super().__init__(f"population actor(s) {sorted(shards)} died" + (f": {why}" if why else ""))
        self.shards = set(shards)


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
