"""PopulationActor: a Ray actor holding one :class:`PopulationShard`, and the Ray backend.

Training images arrive once as an object-store reference (zero-copy on a node). Genomes move
between actors only when a child's parent lives elsewhere: the parent's actor ``ray.put``s it
once and the child's actor fetches it by reference. Only scalars return to the driver, except
for checkpoints.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import ray
import torch

from evogan.config import Config, from_dict, to_dict
from evogan.evolution.shard import ChildPlan, PopulationShard, resolve_device


def _as_tensor(array: np.ndarray) -> torch.Tensor:
    """Wrap a read-only object-store array without copying (it is only ever read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(array)


@ray.remote
class PopulationActor:
    def __init__(self, config: dict, train_images: np.ndarray, holdout: np.ndarray, fid_actor: Any, extractor: str):
        cfg = from_dict(config)
        device = resolve_device(cfg, has_gpu=bool(ray.get_gpu_ids()))

        def quality(images: torch.Tensor) -> float:
            return ray.get(fid_actor.fid.remote(images, extractor))

        self.shard = PopulationShard(cfg, _as_tensor(train_images), _as_tensor(holdout), quality, device)

    def spawn(self, slots: list[tuple[int, int]]) -> None:
        self.shard.spawn(slots)

    def step(self, generation: int) -> list[dict[str, Any]]:
        return self.shard.step(generation)

    def export_refs(self, uids: list[int]) -> dict[int, ray.ObjectRef]:
        return {uid: ray.put(parent) for uid, parent in self.shard.export(uids).items()}

    def breed(self, plans: list[ChildPlan], refs: dict[int, ray.ObjectRef]) -> None:
        remote = dict(zip(refs.keys(), ray.get(list(refs.values())))) if refs else {}
        self.shard.breed(plans, remote)

    def samples(self, uid: int, n: int, seed: int) -> torch.Tensor:
        return self.shard.samples(uid, n, seed)

    def state(self, slots: list[int] | None = None) -> dict[int, dict[str, Any]]:
        return self.shard.state(slots)

    def load(self, states: dict[int, dict[str, Any]]) -> None:
        self.shard.load(states)

    def device(self) -> str:
        return str(self.shard.device)


class RayBackend:
    """The engine's backend over ``evolution.num_actors`` PopulationActors."""

    def __init__(self, config: Config, images_ref: ray.ObjectRef, holdout_ref: ray.ObjectRef, fid_actor: Any):
        options = {"num_cpus": config.ray.actor_num_cpus, "num_gpus": config.ray.actor_num_gpus}
        self.num_shards = config.evolution.num_actors
        self.actors = [PopulationActor.options(**options).remote(
            to_dict(config), images_ref, holdout_ref, fid_actor, config.metrics.fitness_extractor)
            for _ in range(self.num_shards)]

    def spawn(self, assignment: dict[int, list[tuple[int, int]]]) -> None:
        ray.get([self.actors[shard].spawn.remote(slots) for shard, slots in assignment.items()])

    def step(self, generation: int) -> list[dict[str, Any]]:
        return [row for rows in ray.get([a.step.remote(generation) for a in self.actors]) for row in rows]

    def breed(self, plans: dict[int, list[ChildPlan]], sources: dict[int, dict[int, list[int]]]) -> None:
        exported = {target: {src: self.actors[src].export_refs.remote(uids) for src, uids in by_source.items()}
                    for target, by_source in sources.items()}
        resolved = {target: {uid: ref for refs in ray.get(list(by_src.values())) for uid, ref in refs.items()}
                    if by_src else {} for target, by_src in exported.items()}  # all exported before any breeds
        ray.get([self.actors[t].breed.remote(p, resolved.get(t, {})) for t, p in plans.items()])

    def samples(self, slot: int, uid: int, n: int, seed: int) -> torch.Tensor:
        return ray.get(self.actors[slot % self.num_shards].samples.remote(uid, n, seed))

    def state(self, slots: list[int] | None = None) -> dict[int, dict[str, Any]]:
        """Member states; with ``slots``, only the actors holding them send weights."""
        owners = range(self.num_shards) if slots is None else sorted({s % self.num_shards for s in slots})
        parts = ray.get([self.actors[i].state.remote(slots) for i in owners])
        return {slot: s for part in parts for slot, s in part.items()}

    def load(self, states: dict[int, dict[str, Any]]) -> None:
        ray.get([actor.load.remote({s: v for s, v in states.items() if s % self.num_shards == i})
                 for i, actor in enumerate(self.actors)])

    def shutdown(self) -> None:
        """Stop the actors (a dead one is ignored)."""
        for actor in self.actors:
            try:
                ray.kill(actor)
            except Exception:  # noqa: BLE001  (already dead or never started)
                pass
