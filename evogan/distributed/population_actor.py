"""PopulationActor: a Ray actor holding one :class:`PopulationShard`, and the Ray backend.

Training images arrive once as an object-store reference (zero-copy on a node). Each
generation every actor ``ray.put``s its generators' uint8 samples once; actors judging them
with their discriminators fetch them by reference (samples travel, weights do not). Genomes
move between actors only when a child's parent lives elsewhere: the parent's actor
``ray.put``s it once and the child's actor fetches it by reference. Only scalars return to
the driver, except for checkpoints.
"""

from __future__ import annotations

import os
import time
import warnings
from collections import defaultdict
from typing import Any

import numpy as np
import ray
import torch

from evogan.config import Config, to_dict
from evogan.validation import from_dict
from evogan.evolution.local_backend import merge_by_side, parents_from_storage, split_by_shard
from evogan.evolution.recovery import ShardsFailed, StoredParents
from evogan.evolution.shard import ChildPlan, PopulationShard, resolve_device
from evogan.io.population_checkpoint import BEST, read_generator, read_shard, write_generator, write_shard
from evogan.io.storage import Storage


def _as_tensor(array: np.ndarray) -> torch.Tensor:
    """Wrap a read-only object-store array without copying (it is only ever read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(array)


@ray.remote
class PopulationActor:
    """One :class:`PopulationShard` (a shard of the G and of the D population) in a Ray actor."""

    def __init__(self, config: dict, train_images: np.ndarray, holdout: np.ndarray, fid_pool: Any, extractor: str):
        cfg = from_dict(config)
        device = resolve_device(cfg, has_gpu=bool(ray.get_gpu_ids()))

        self.fid_wait, self.fid_pool = FIDWait(), fid_pool

        def quality(batches: dict[int, torch.Tensor]) -> dict[int, float]:
            with self.fid_wait:
                return fid_pool.fid_many(batches, extractor)

        self.shard = PopulationShard(cfg, _as_tensor(train_images), _as_tensor(holdout), quality, device)

    def spawn(self, slots: dict[str, list[tuple[int, int]]]) -> None:
        self.shard.spawn(slots)

    def train(self, generation: int) -> dict[str, dict[int, dict[str, float]]]:
        return self.shard.train(generation)

    def publish(self, generation: int) -> tuple[dict[int, ray.ObjectRef], dict[int, float], float, dict]:
        """Each local G's samples put once in the object store (refs returned), their FIDs, the
        seconds this actor waited on the FID service, and its members' hyperparameters."""
        samples, fids = self.shard.publish(generation)
        refs = {uid: ray.put(images.numpy()) for uid, images in samples.items()}
        return refs, fids, self.fid_wait.pop(), self.shard.hyperparameters()

    def judge(self, matchups: dict[int, list[int]], refs: dict[int, ray.ObjectRef]):
        needed = sorted({g for g_uids in matchups.values() for g in g_uids})
        samples = {uid: _as_tensor(array) for uid, array in zip(needed, ray.get([refs[uid] for uid in needed]))}
        return self.shard.judge(matchups, samples)

    def export_refs(self, side: str, uids: list[int]) -> dict[int, ray.ObjectRef]:
        return {uid: ray.put(parent) for uid, parent in self.shard.export(side, uids).items()}

    def breed(self, side: str, plans: list[ChildPlan], refs: dict[int, ray.ObjectRef],
              stored: StoredParents | None = None) -> None:
        if stored is not None:
            remote = parents_from_storage(self.shard, side, plans, stored)
        else:
            remote = dict(zip(refs.keys(), ray.get(list(refs.values())))) if refs else {}
        self.shard.breed(side, plans, remote)

    def samples(self, uid: int, n: int, seed: int) -> torch.Tensor:
        return self.shard.samples(uid, n, seed)

    def seed_weights(self, weights: dict[str, torch.Tensor]) -> None:
        self.shard.seed_weights(weights)

    def save_shard(self, storage: Storage, generation: int, index: int) -> dict[str, Any]:
        """Write this actor's shard to run storage; only its manifest entry returns."""
        return write_shard(storage, generation, index, self.shard.state())

    def load_shard(self, storage: Storage, entry: dict[str, Any]) -> None:
        self.shard.load(read_shard(storage, entry))

    def save_best(self, storage: Storage, uid: int, meta: dict[str, Any]) -> None:
        write_generator(storage, self.shard.member_state("g", uid), meta)

    def state(self, side: str | None = None, slots: list[int] | None = None) -> dict[str, dict[int, dict[str, Any]]]:
        return self.shard.state(side, slots)

    def load(self, states: dict[str, dict[int, dict[str, Any]]]) -> None:
        self.shard.load(states)

    def report_best(self, storage: Storage, n: int, seed: int, extractor: str, kid: bool, inception_score: bool):
        """The final report of ``best.pt`` (from storage), sampled here and scored by the FID pool:
        neither its weights nor its samples pass through the driver. {} when there is none."""
        if not storage.exists(BEST):
            return {}
        images = self.shard.checkpoint_samples(read_generator(storage), n, seed)
        return ray.get(self.fid_pool.primary.report.remote(images, extractor, kid, inception_score))

    def where(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "node_id": ray.get_runtime_context().get_node_id(),
                "device": str(self.shard.device), "busy": self.shard.pop_busy()}


class FIDWait:
    """Accumulates the seconds spent inside ``with`` blocks; ``pop`` returns and resets them."""

    def __init__(self):
        self.seconds, self._started = 0.0, 0.0

    def __enter__(self):
        self._started = time.perf_counter()

    def __exit__(self, *exc):
        self.seconds += time.perf_counter() - self._started

    def pop(self) -> float:
        seconds, self.seconds = self.seconds, 0.0
        return seconds


def payload_bytes(value: Any) -> int:
    """Approximate bytes of a call result: tensors and arrays by their data, ObjectRefs by their
    28-byte id (the object stays in the store), numbers 8, strings by length, containers summed."""
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, ray.ObjectRef):
        return 28
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, dict):
        return sum(payload_bytes(k) + payload_bytes(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return sum(payload_bytes(v) for v in value)
    return 8


def gather(calls: dict[int, ray.ObjectRef]) -> tuple[dict[int, Any], set[int], bool]:
    """Wait for every call (so live actors finish their part): (results by shard, dead shards,
    whether a call lost an object another, now dead, actor owned)."""
    results, dead, lost = {}, set(), False
    for shard, ref in calls.items():
        try:
            results[shard] = ray.get(ref)
        except ray.exceptions.RayActorError as err:
            if isinstance(err, ray.exceptions.RayTaskError):
                raise  # the actor is alive; a call it made failed
            dead.add(shard)
        except ray.exceptions.ObjectLostError:
            lost = True
    return results, dead, lost


class RayBackend:
    """The engine's backend over ``evolution.num_actors`` PopulationActors.

    A phase waits for every actor; if any died, it raises :class:`ShardsFailed` naming them,
    after the live actors completed their part (the engine then recovers only the dead ones).
    """

    def __init__(self, config: Config, images_ref: ray.ObjectRef, holdout_ref: ray.ObjectRef, fid_pool: Any,
                 placement: Any = None):
        self.config, self.num_shards = config, config.evolution.num_actors
        self._args = (to_dict(config), images_ref, holdout_ref, fid_pool, config.metrics.fitness_extractor)
        self.placement = placement
        self.received_bytes = 0
        """Bytes of call results the driver has received (what metrics.jsonl's driver_bytes counts)."""
        self.actors = [self._start(i) for i in range(self.num_shards)]

    def _start(self, index: int) -> Any:
        options = {"num_cpus": self.config.ray.actor_num_cpus, "num_gpus": self.config.ray.actor_num_gpus}
        if self.placement is not None:
            options["scheduling_strategy"] = self.placement.strategy_for(index)
        return PopulationActor.options(**options).remote(*self._args)

    def _all(self, calls: dict[int, ray.ObjectRef]) -> dict[int, Any]:
        results, dead, lost = gather(calls)
        self.received_bytes += payload_bytes(results)
        if lost:  # e.g. samples published by an actor that died since: find who
            dead |= gather({i: a.where.remote() for i, a in enumerate(self.actors)})[1]
        if dead:
            raise ShardsFailed(dead, partial=results)
        if lost:
            raise RuntimeError("an object was lost while every population actor is alive")
        return results

    def spawn(self, assignment: dict[int, dict[str, list[tuple[int, int]]]]) -> None:
        self._all({shard: self.actors[shard].spawn.remote(slots) for shard, slots in assignment.items()})

    def train(self, generation: int, only: set[int] | None = None) -> dict[int, dict[str, dict[int, dict[str, float]]]]:
        shards = range(self.num_shards) if only is None else sorted(only)
        return self._all({i: self.actors[i].train.remote(generation) for i in shards})

    def evaluate(self, generation: int, matchups: dict[int, dict[int, list[int]]]):
        """Publish every shard's G samples once, then let each shard judge them with its D's."""
        published = self._all({i: a.publish.remote(generation) for i, a in enumerate(self.actors)})
        refs = {uid: ref for shard_refs, *_ in published.values() for uid, ref in shard_refs.items()}
        fids = {uid: fid for _, shard_fids, *_ in published.values() for uid, fid in shard_fids.items()}
        self.fid_wait = max(wait for _, _, wait, _ in published.values())
        judged = self._all({i: self.actors[i].judge.remote(by_d, refs) for i, by_d in sorted(matchups.items())})
        edges = [edge for shard_edges, _ in judged.values() for edge in shard_edges]
        judges = {uid: j for _, shard_judges in judged.values() for uid, j in shard_judges.items()}
        return edges, judges, fids, merge_by_side([hps for *_, hps in published.values()])

    def breed(self, side: str, plans: dict[int, list[ChildPlan]], sources: dict[int, dict[int, list[int]]],
              stored: StoredParents | None = None) -> None:
        if stored is not None:
            self._all({t: self.actors[t].breed.remote(side, p, {}, stored) for t, p in plans.items()})
            return
        wanted: dict[int, set[int]] = defaultdict(set)
        for target in plans:
            for src, uids in sources.get(target, {}).items():
                wanted[src] |= set(uids)
        try:
            exported = self._all({src: self.actors[src].export_refs.remote(side, sorted(uids))
                                  for src, uids in wanted.items()})
        except ShardsFailed as failure:  # no target has bred yet
            raise ShardsFailed(failure.shards, "while exporting parents") from None
        refs = {uid: ref for by_uid in exported.values() for uid, ref in by_uid.items()}  # all exported first
        self._all({t: self.actors[t].breed.remote(side, p, {uid: refs[uid] for src_uids in sources.get(t, {}).values()
                                                            for uid in src_uids}) for t, p in plans.items()})

    def seed_weights(self, weights: dict[str, torch.Tensor]) -> None:
        """Start every individual from one checkpoint's weights, put in the object store once."""
        ref = ray.put(weights)
        self._all({i: a.seed_weights.remote(ref) for i, a in enumerate(self.actors)})

    def replace(self, shards: set[int]) -> None:
        """Start new actors for dead shards (they wait for resources, e.g. a lost node's)."""
        for index in shards:
            try:
                ray.kill(self.actors[index])
            except Exception:  # noqa: BLE001  (already gone)
                pass
            self.actors[index] = self._start(index)

    def load_shards(self, storage: Storage, entries: dict[int, dict], only: set[int]) -> None:
        self._all({i: self.actors[i].load_shard.remote(storage, entries[i]) for i in sorted(only)})

    def save_shards(self, storage: Storage, generation: int) -> list[dict[str, Any]]:
        """Each actor writes its own shard; the driver receives only the manifest entries."""
        results = self._all({i: a.save_shard.remote(storage, generation, i) for i, a in enumerate(self.actors)})
        return [results[i] for i in sorted(results)]

    def save_best(self, storage: Storage, slot: int, uid: int, meta: dict[str, Any]) -> None:
        self._all({0: self.actors[slot % self.num_shards].save_best.remote(storage, uid, meta)})

    def where(self) -> list[dict[str, Any]]:
        results = self._all({i: a.where.remote() for i, a in enumerate(self.actors)})
        return [{"shard": i, **results[i]} for i in sorted(results)]

    def samples(self, slot: int, uid: int, n: int, seed: int) -> torch.Tensor:
        return self._all({0: self.actors[slot % self.num_shards].samples.remote(uid, n, seed)})[0]

    def report_best(self, storage: Storage, n: int, seed: int, extractor: str, kid: bool, inception_score: bool):
        return self._all({0: self.actors[0].report_best.remote(storage, n, seed, extractor, kid, inception_score)})[0]

    def state(self, side: str | None = None, slots: list[int] | None = None) -> dict[str, dict[int, dict[str, Any]]]:
        """Member states (tests and ``--seed-population``); runs never pull weights to the driver."""
        owners = range(self.num_shards) if slots is None else sorted({s % self.num_shards for s in slots})
        return merge_by_side(list(self._all({i: self.actors[i].state.remote(side, slots) for i in owners}).values()))

    def load(self, states: dict[str, dict[int, dict[str, Any]]]) -> None:
        self._all({i: actor.load.remote(part)
                   for i, (actor, part) in enumerate(zip(self.actors, split_by_shard(states, self.num_shards)))})

    def shutdown(self) -> None:
        """Stop the actors (a dead one is ignored) and release their placement group."""
        for actor in self.actors:
            try:
                ray.kill(actor)
            except Exception:  # noqa: BLE001  (already dead or never started)
                pass
        if self.placement is not None:
            self.placement.remove()
