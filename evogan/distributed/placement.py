"""One placement group for the population actors (``ray.placement``: PACK, SPREAD or none).

PACK fills nodes in turn (fewer nodes, samples and parents exchanged locally); SPREAD puts the
actors on as many nodes as possible (more memory bandwidth and fault isolation). Bundle i
holds population actor i; when an actor dies its replacement takes the same bundle, and when a
node dies Ray reschedules that node's bundles once resources allow.
"""

from __future__ import annotations

import logging
from typing import Any

import ray
from ray.util.placement_group import placement_group, remove_placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from evogan.config import Config

log = logging.getLogger(__name__)
WAIT_LOG_SECONDS = 30


def actor_bundle(config: Config) -> dict[str, float]:
    """The resources of one population actor (Ray rejects empty bundles)."""
    bundle = {"CPU": config.ray.actor_num_cpus, "GPU": config.ray.actor_num_gpus}
    return {k: v for k, v in bundle.items() if v > 0}


class Placement:
    """The population actors' placement group; ``strategy_for(i)`` pins actor i to bundle i."""

    def __init__(self, config: Config):
        bundle = actor_bundle(config)
        self.group = placement_group([dict(bundle) for _ in range(config.evolution.num_actors)],
                                     strategy=config.ray.placement)
        while True:
            ready, _ = ray.wait([self.group.ready()], timeout=WAIT_LOG_SECONDS)
            if ready:
                break
            log.warning("waiting for resources: %d population actors of %s (ray.placement=%s); cluster has %s",
                        config.evolution.num_actors, bundle, config.ray.placement, ray.available_resources())

    @classmethod
    def create(cls, config: Config) -> "Placement | None":
        """None when placement is off or an actor reserves no resources."""
        return cls(config) if config.ray.placement != "none" and actor_bundle(config) else None

    def strategy_for(self, index: int) -> Any:
        return PlacementGroupSchedulingStrategy(self.group, placement_group_bundle_index=index)

    def remove(self) -> None:
        remove_placement_group(self.group)
