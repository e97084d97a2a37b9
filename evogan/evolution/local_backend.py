"""In-process backend: the population's shards as plain objects (tests, debugging, Tune)."""

from __future__ import annotations

from typing import Any

import torch

from evogan.config import Config
from evogan.evolution.shard import ChildPlan, PopulationShard, QualityFn


class LocalBackend:
    """Same contract as the Ray backend, without Ray: ``num_shards`` shards in this process."""

    def __init__(self, config: Config, train_images: torch.Tensor, holdout: torch.Tensor,
                 quality_fn: QualityFn, num_shards: int | None = None):
        self.num_shards = num_shards or config.evolution.num_actors
        self.shards = [PopulationShard(config, train_images, holdout, quality_fn) for _ in range(self.num_shards)]

    def spawn(self, assignment: dict[int, list[tuple[int, int]]]) -> None:
        for shard, slots in assignment.items():
            self.shards[shard].spawn(slots)

    def step(self, generation: int) -> list[dict[str, Any]]:
        return [row for shard in self.shards for row in shard.step(generation)]

    def breed(self, plans: dict[int, list[ChildPlan]], sources: dict[int, dict[int, list[int]]]) -> None:
        exported = {target: {uid: parent for src, uids in by_source.items()
                             for uid, parent in self.shards[src].export(uids).items()}
                    for target, by_source in sources.items()}  # every export before any overwrite
        for target, shard_plans in plans.items():
            self.shards[target].breed(shard_plans, exported.get(target, {}))

    def samples(self, slot: int, uid: int, n: int, seed: int) -> torch.Tensor:
        return self.shards[slot % self.num_shards].samples(uid, n, seed)

    def state(self, slots: list[int] | None = None) -> dict[int, dict[str, Any]]:
        return {slot: s for shard in self.shards for slot, s in shard.state(slots).items()}

    def load(self, states: dict[int, dict[str, Any]]) -> None:
        for index, shard in enumerate(self.shards):
            shard.load({slot: s for slot, s in states.items() if slot % self.num_shards == index})
