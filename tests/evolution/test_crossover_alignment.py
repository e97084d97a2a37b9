"""Crossover of trained generators from a shared initialisation gives working children.

The review's reproduction: layer-wise children of DCGANs initialised from different seeds are
wrecks. Under ``evolution.init: shared`` (the default) layers align, so a child mixes like
with like and scores within the range of its parents.
"""

from __future__ import annotations

import numpy as np

from evogan import validation
from evogan.data import load_data
from evogan.evolution import operators
from evogan.evolution.genome import flatten, load_genome
from evogan.evolution.local_backend import LocalBackend
from tests.conftest import TINY
from tests.evolution.test_engine import pixel_fid


def test_layerwise_children_of_shared_init_parents_are_not_wrecks():
    config = validation.load(None, TINY + ["evolution.init=shared", "train.steps_per_generation=150",
                                           "evolution.num_actors=1", "evolution.population_size=2",
                                           "data.num_samples=2000", "model.width=16"])
    data = load_data(config.data, seed=0)
    backend = LocalBackend(config, data.train, data.holdout, pixel_fid(data.train))
    backend.spawn({0: {"g": [(0, 0), (1, 1)], "d": [(0, 2), (1, 3)]}})
    shard = backend.shards[0]
    shard.train(0)
    parent_fids = shard.publish(0)[1]
    first, second = shard.members["g"][0], shard.members["g"][1]
    a, b = flatten(first.modules), flatten(second.modules)
    assert not np.array_equal(a, b)
    children = []
    for seed in range(4):
        child, _ = operators.cx_layerwise(a.copy(), b.copy(), np.random.default_rng(seed))
        load_genome(first.modules, child)
        children.append(shard.publish(0)[1][0])
    worse_parent = max(parent_fids.values())
    assert max(children) <= 1.25 * worse_parent, (children, parent_fids)
