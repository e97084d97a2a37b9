"""FIDActor: the one Ray actor that scores image quality for the whole run.

A thin wrapper: all logic lives in the pure :class:`evogan.metrics.scorer.QualityScorer`. The
feature networks load once per run and the real statistics come from the disk cache. Method
arguments may be tensors or ObjectRefs (Ray resolves top-level refs before the call).
"""

from __future__ import annotations

from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from evogan.config import MetricsConfig
from evogan.metrics.scorer import QualityScorer

FIDActor = ray.remote(QualityScorer)
"""Remote QualityScorer: ``fid``, ``report``, ``features``, ``warm_up`` run serially in one process."""


FID_RESTARTS = 5
"""Times Ray recreates a dead FID actor (and retries its calls) before a run gives up."""


def create_fid_actor(metrics_cfg: MetricsConfig, dataset_key: str, real_ref: Any, labels_ref: Any = None,
                     num_cpus: float = 0.0, num_gpus: float = 0.0) -> Any:
    """Start the FIDActor (on CUDA when it gets a GPU) and let it build the fitness extractor at once.

    The warm-up call is queued first, so the domain network trains (or loads) while population
    actors start; later calls wait behind it. The actor holds no state that its disk cache
    cannot rebuild and its calls are pure, so Ray restarts it (on any node) and retries the
    calls in flight if it dies. Without a GPU it prefers the driver's node (soft affinity),
    which outlives the workers.
    """
    device = "cuda" if num_gpus > 0 else "cpu"
    options: dict[str, Any] = {"num_cpus": num_cpus, "num_gpus": num_gpus,
                               "max_restarts": FID_RESTARTS, "max_task_retries": FID_RESTARTS}
    if num_gpus == 0:
        options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(
            ray.get_runtime_context().get_node_id(), soft=True)
    actor = FIDActor.options(**options).remote(metrics_cfg, dataset_key, real_ref, labels_ref, device)
    actor.warm_up.remote(metrics_cfg.fitness_extractor)
    return actor


class FIDPool:
    """The run's FID actors, shared by every population actor (picklable: it holds handles).

    A call carrying one shard's sample sets spreads them over all actors at once (set i to
    actor (i + rotation) mod P), so every actor gets an equal share of every shard's work: the
    load is balanced by construction, and with one actor it is one call per shard.
    """

    def __init__(self, actors: list[Any], keep_alive: tuple = ()):
        self.actors = list(actors)
        self._rotation = 0
        self._keep_alive = keep_alive
        """The actors' constructor arguments (object refs): Ray needs them to restart an actor."""

    def fid_many(self, batches: dict[int, Any], extractor: str) -> dict[int, float]:
        parts: list[dict[int, Any]] = [{} for _ in self.actors]
        for i, uid in enumerate(sorted(batches)):
            parts[(i + self._rotation) % len(self.actors)][uid] = batches[uid]
        self._rotation += 1
        refs = [actor.fid_many.remote(part, extractor) for actor, part in zip(self.actors, parts) if part]
        return {uid: fid for result in ray.get(refs) for uid, fid in result.items()}

    @property
    def primary(self) -> Any:
        """The actor that serves reports and one-off scores."""
        return self.actors[0]


def create_fid_pool(metrics_cfg: MetricsConfig, dataset_key: str, real_ref: Any, labels_ref: Any,
                    num_cpus: float, num_gpus: float) -> FIDPool:
    """``metrics.fid_actors`` FID actors. With several, the first builds (or loads) the feature
    network and real statistics before the others start, so they read its disk cache instead of
    all training the domain extractor at once."""
    first = create_fid_actor(metrics_cfg, dataset_key, real_ref, labels_ref, num_cpus, num_gpus)
    actors = [first]
    if metrics_cfg.fid_actors > 1:
        ray.get(first.warm_up.remote(metrics_cfg.fitness_extractor))
        actors += [create_fid_actor(metrics_cfg, dataset_key, real_ref, labels_ref, num_cpus, num_gpus)
                   for _ in range(metrics_cfg.fid_actors - 1)]
    return FIDPool(actors, keep_alive=(real_ref, labels_ref))
