"""PopulationActor: a Ray actor holding one :class:`PopulationShard`, and the Ray backend.

Training images arrive once as an object-store reference (zero-copy on a node). Each
generation every actor ``ray.put``s its generators' uint8 samples once; actors judging them
with their discriminators fetch them by reference (samples travel, weights do not). Genomes
move between actors only when a child's parent lives elsewhere: the parent's actor
``ray.put``s it once and the child's actor fetches it by reference. Only scalars return to
the driver, except for checkpoints.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import ray
import torch

from evogan.config import Config, to_dict
from evogan.validation import from_dict
from evogan.evolution.local_backend import merge_by_side, split_by_shard
from evogan.evolution.shard import ChildPlan, PopulationShard, resolve_device


def _as_tensor(array: np.ndarray) -> torch.Tensor:
    """Wrap a read-only object-store array without copying (it is only ever read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(array)


@ray.remote
class PopulationActor:
    """One :class:`PopulationShard` (a shard of the G and of the D population) in a Ray actor."""

    def __init__(self, config: dict, train_images: np.ndarray, holdout: np.ndarray, fid_actor: Any, extractor: str):
        cfg = from_dict(config)
        device = resolve_device(cfg, has_gpu=bool(ray.get_gpu_ids()))

        def quality(batches: dict[int, torch.Tensor]) -> dict[int, float]:
            return ray.get(fid_actor.fid_many.remote(batches, extractor))

        self.shard = PopulationShard(cfg, _as_tensor(train_images), _as_tensor(holdout), quality, device)

    def spawn(self, slots: dict[str, list[tuple[int, int]]]) -> None:
        self.shard.spawn(slots)

    def train(self, generation: int) -> dict[str, dict[int, dict[str, float]]]:
        return self.shard.train(generation)

    def publish(self, generation: int) -> tuple[dict[int, ray.ObjectRef], dict[int, float]]:
        """Each local G's samples put once in the object store (refs returned), and their FIDs."""
        samples, fids = self.shard.publish(generation)
        return {uid: ray.put(images.numpy()) for uid, images in samples.items()}, fids

    def judge(self, matchups: dict[int, list[int]], refs: dict[int, ray.ObjectRef]):
        needed = sorted({g for g_uids in matchups.values() for g in g_uids})
        samples = {uid: _as_tensor(array) for uid, array in zip(needed, ray.get([refs[uid] for uid in needed]))}
        return self.shard.judge(matchups, samples)

    def export_refs(self, side: str, uids: list[int]) -> dict[int, ray.ObjectRef]:
        return {uid: ray.put(parent) for uid, parent in self.shard.export(side, uids).items()}

    def breed(self, side: str, plans: list[ChildPlan], refs: dict[int, ray.ObjectRef]) -> None:
        remote = dict(zip(refs.keys(), ray.get(list(refs.values())))) if refs else {}
        self.shard.breed(side, plans, remote)

    def samples(self, uid: int, n: int, seed: int) -> torch.Tensor:
        return self.shard.samples(uid, n, seed)

    def state(self, side: str | None = None, slots: list[int] | None = None) -> dict[str, dict[int, dict[str, Any]]]:
        return self.shard.state(side, slots)

    def load(self, states: dict[str, dict[int, dict[str, Any]]]) -> None:
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

    def spawn(self, assignment: dict[int, dict[str, list[tuple[int, int]]]]) -> None:
        ray.get([self.actors[shard].spawn.remote(slots) for shard, slots in assignment.items()])

    def train(self, generation: int) -> dict[str, dict[int, dict[str, float]]]:
        return merge_by_side(ray.get([a.train.remote(generation) for a in self.actors]))

    def evaluate(self, generation: int, matchups: dict[int, dict[int, list[int]]]):
        """Publish every shard's G samples once, then let each shard judge them with its D's."""
        published = ray.get([a.publish.remote(generation) for a in self.actors])
        refs = {uid: ref for shard_refs, _ in published for uid, ref in shard_refs.items()}
        fids = {uid: fid for _, shard_fids in published for uid, fid in shard_fids.items()}
        judged = ray.get([self.actors[i].judge.remote(by_d, refs) for i, by_d in sorted(matchups.items())])
        edges = [edge for shard_edges, _ in judged for edge in shard_edges]
        judges = {uid: j for _, shard_judges in judged for uid, j in shard_judges.items()}
        return edges, judges, fids

    def breed(self, side: str, plans: dict[int, list[ChildPlan]], sources: dict[int, dict[int, list[int]]]) -> None:
        exported = {target: {src: self.actors[src].export_refs.remote(side, uids) for src, uids in by_source.items()}
                    for target, by_source in sources.items()}
        resolved = {target: {uid: ref for refs in ray.get(list(by_src.values())) for uid, ref in refs.items()}
                    if by_src else {} for target, by_src in exported.items()}  # all exported before any breeds
        ray.get([self.actors[t].breed.remote(side, p, resolved.get(t, {})) for t, p in plans.items()])

    def samples(self, slot: int, uid: int, n: int, seed: int) -> torch.Tensor:
        return ray.get(self.actors[slot % self.num_shards].samples.remote(uid, n, seed))

    def state(self, side: str | None = None, slots: list[int] | None = None) -> dict[str, dict[int, dict[str, Any]]]:
        """Member states; with ``slots``, only the actors holding them send weights."""
        owners = range(self.num_shards) if slots is None else sorted({s % self.num_shards for s in slots})
        return merge_by_side(ray.get([self.actors[i].state.remote(side, slots) for i in owners]))

    def load(self, states: dict[str, dict[int, dict[str, Any]]]) -> None:
        ray.get([actor.load.remote(part) for actor, part in zip(self.actors, split_by_shard(states, self.num_shards))])

    def shutdown(self) -> None:
        """Stop the actors (a dead one is ignored)."""
        for actor in self.actors:
            try:
                ray.kill(actor)
            except Exception:  # noqa: BLE001  (already dead or never started)
                pass
