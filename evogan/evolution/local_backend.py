"""In-process backend: the populations' shards as plain objects (tests, debugging)."""

from __future__ import annotations

import os
from typing import Any

import torch

from evogan.config import Config
from evogan.evolution.recovery import StoredParents
from evogan.evolution.shard import ChildPlan, Parent, PopulationShard, QualityFn
from evogan.io.population_checkpoint import read_shard, write_generator, write_shard
from evogan.io.storage import Storage


def merge_by_side(parts: list[dict[str, dict]]) -> dict[str, dict]:
    """[{side: {key: value}}, ...] -> {side: {key: value}} over all shards."""
    merged: dict[str, dict] = {"g": {}, "d": {}}
    for part in parts:
        for side, values in part.items():
            merged[side].update(values)
    return merged


def split_by_shard(states: dict[str, dict[int, Any]], num_shards: int) -> list[dict[str, dict[int, Any]]]:
    """Inverse of :func:`merge_by_side` for slot-keyed states (slot s lives on shard s % num_shards)."""
    return [{side: {slot: v for slot, v in by_slot.items() if slot % num_shards == index}
             for side, by_slot in states.items()} for index in range(num_shards)]


def parents_from_storage(shard: PopulationShard, side: str, plans: list[ChildPlan],
                         stored: StoredParents) -> dict[int, Parent]:
    """Every parent of ``plans`` rebuilt from the checkpointed shards that held it."""
    needed = {p.parent_a for p in plans} | {p.parent_b for p in plans if p.parent_b is not None}
    parents: dict[int, Parent] = {}
    for holder in sorted({stored.holders[uid] for uid in needed}):
        states = read_shard(stored.storage, stored.entries[holder])[side]
        parents.update(shard.parents_from(side, states, needed))
    return parents


class LocalBackend:
    """Same contract as the Ray backend, without Ray: ``num_shards`` shards in this process."""

    def __init__(self, config: Config, train_images: torch.Tensor, holdout: torch.Tensor,
                 quality_fn: QualityFn, num_shards: int | None = None):
        self.num_shards = num_shards or config.evolution.num_actors
        self._make = lambda: PopulationShard(config, train_images, holdout, quality_fn)
        self.shards = [self._make() for _ in range(self.num_shards)]

    def spawn(self, assignment: dict[int, dict[str, list[tuple[int, int]]]]) -> None:
        for shard, slots in assignment.items():
            self.shards[shard].spawn(slots)

    def train(self, generation: int, only: set[int] | None = None) -> dict[int, dict[str, dict[int, dict[str, float]]]]:
        """Training statistics per shard."""
        return {i: shard.train(generation) for i, shard in enumerate(self.shards) if only is None or i in only}

    def evaluate(self, generation: int, matchups: dict[int, dict[int, list[int]]]):
        samples, fids = {}, {}
        for shard in self.shards:
            shard_samples, shard_fids = shard.publish(generation)
            samples.update(shard_samples)
            fids.update(shard_fids)
        edges, judges = [], {}
        for index, by_d in sorted(matchups.items()):
            shard_edges, shard_judges = self.shards[index].judge(by_d, samples)
            edges += shard_edges
            judges.update(shard_judges)
        return edges, judges, fids, merge_by_side([shard.hyperparameters() for shard in self.shards])

    def breed(self, side: str, plans: dict[int, list[ChildPlan]], sources: dict[int, dict[int, list[int]]],
              stored: StoredParents | None = None) -> None:
        if stored is not None:
            for target, shard_plans in plans.items():
                self.shards[target].breed(side, shard_plans, parents_from_storage(self.shards[target], side,
                                                                                  shard_plans, stored))
            return
        exported = {target: {uid: parent for src, uids in by_source.items()
                             for uid, parent in self.shards[src].export(side, uids).items()}
                    for target, by_source in sources.items() if target in plans}  # every export before any overwrite
        for target, shard_plans in plans.items():
            self.shards[target].breed(side, shard_plans, exported.get(target, {}))

    def seed_weights(self, weights: dict[str, torch.Tensor]) -> None:
        for shard in self.shards:
            shard.seed_weights(weights)

    def replace(self, shards: set[int]) -> None:
        for index in shards:
            self.shards[index] = self._make()

    def load_shards(self, storage: Storage, entries: dict[int, dict], only: set[int]) -> None:
        for index in only:
            self.shards[index].load(read_shard(storage, entries[index]))

    def save_shards(self, storage: Storage, generation: int) -> list[dict[str, Any]]:
        return [write_shard(storage, generation, i, shard.state()) for i, shard in enumerate(self.shards)]

    def save_best(self, storage: Storage, slot: int, uid: int, meta: dict[str, Any]) -> None:
        write_generator(storage, self.shards[slot % self.num_shards].member_state("g", uid), meta)

    def where(self) -> list[dict[str, Any]]:
        return [{"shard": i, "pid": os.getpid(), "node_id": "local", "busy": shard.pop_busy()}
                for i, shard in enumerate(self.shards)]

    def samples(self, slot: int, uid: int, n: int, seed: int) -> torch.Tensor:
        return self.shards[slot % self.num_shards].samples(uid, n, seed)

    def state(self, side: str | None = None, slots: list[int] | None = None) -> dict[str, dict[int, dict[str, Any]]]:
        return merge_by_side([shard.state(side, slots) for shard in self.shards])

    def load(self, states: dict[str, dict[int, dict[str, Any]]]) -> None:
        for shard, part in zip(self.shards, split_by_shard(states, self.num_shards)):
            shard.load(part)
