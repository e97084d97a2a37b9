"""FIDActor: the one Ray actor that scores image quality for the whole run.

A thin wrapper: all logic lives in the pure :class:`evogan.metrics.scorer.QualityScorer`. The
feature networks load once per run and the real statistics come from the disk cache. Method
arguments may be tensors or ObjectRefs (Ray resolves top-level refs before the call).
"""

from __future__ import annotations

from typing import Any

import ray

from evogan.config import MetricsConfig
from evogan.metrics.scorer import QualityScorer

FIDActor = ray.remote(QualityScorer)
"""Remote QualityScorer: ``fid``, ``report``, ``features``, ``warm_up`` run serially in one process."""


def create_fid_actor(metrics_cfg: MetricsConfig, dataset_key: str, real_ref: Any, labels_ref: Any = None,
                     num_cpus: float = 0.0, num_gpus: float = 0.0) -> Any:
    """Start the FIDActor (on CUDA when it gets a GPU) and let it build the fitness extractor at once.

    The warm-up call is queued first, so the domain network trains (or loads) while population
    actors start; later calls wait behind it.
    """
    device = "cuda" if num_gpus > 0 else "cpu"
    actor = FIDActor.options(num_cpus=num_cpus, num_gpus=num_gpus).remote(
        metrics_cfg, dataset_key, real_ref, labels_ref, device)
    actor.warm_up.remote(metrics_cfg.fitness_extractor)
    return actor
