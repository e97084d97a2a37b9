"""Who meets whom (pure): k-regular scoring graphs, local training rounds, aggregation."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from evogan.evolution.coevolution import WORST, aggregate, objective_values, scoring_edges, training_rounds


@pytest.mark.parametrize("neighbourhood", ["ring", "random"])
@pytest.mark.parametrize("n, k", [(4, 1), (4, 2), (6, 3), (5, 5), (3, 7)])
def test_equal_populations_meet_exactly_k_opponents(neighbourhood, n, k):
    edges = scoring_edges(n, n, k, neighbourhood, np.random.default_rng(0))
    per_g, per_d = Counter(g for g, _ in edges), Counter(d for _, d in edges)
    assert set(per_g.values()) == {min(k, n)} and set(per_d.values()) == {min(k, n)}
    assert len(set(edges)) == len(edges)


def test_all_vs_all_when_k_covers_the_other_population():
    assert scoring_edges(3, 2, 5, "ring") == [(g, d) for g in range(3) for d in range(2)]


def test_unequal_populations_give_every_individual_at_least_k():
    edges = scoring_edges(6, 2, 1, "ring")
    assert set(Counter(g for g, _ in edges).values()) == {1}
    assert min(Counter(d for _, d in edges).values()) >= 1
    edges = scoring_edges(2, 6, 2, "ring")
    assert min(Counter(d for _, d in edges).values()) >= 2 and min(Counter(g for g, _ in edges).values()) >= 2


def test_random_neighbourhood_is_seeded_and_differs_from_the_ring():
    a = scoring_edges(8, 8, 2, "random", np.random.default_rng(3))
    assert a == scoring_edges(8, 8, 2, "random", np.random.default_rng(3))
    assert a != scoring_edges(8, 8, 2, "ring")


def test_training_rounds_rotate_local_opponents():
    rounds = training_rounds([0, 2], [1, 3], generation=0, rounds=2)
    assert rounds == [[(0, 1), (2, 3)], [(0, 3), (2, 1)]]
    assert training_rounds([0, 2], [1, 3], generation=1, rounds=1) == [[(0, 3), (2, 1)]]


def test_aggregate_gives_fool_rate_to_g_and_balanced_accuracy_to_d():
    edges = [{"g": 0, "d": 10, "fooled": 0.5, "fake_score": 0.4, "loss_g": 1.0, "loss_d": 1.0},
             {"g": 1, "d": 10, "fooled": 0.0, "fake_score": 0.1, "loss_g": 3.0, "loss_d": 0.5},
             {"g": 0, "d": 11, "fooled": 1.0, "fake_score": 0.9, "loss_g": 0.2, "loss_d": 2.0}]
    judges = {10: {"true_positive": 1.0, "real_score": 0.9}, 11: {"true_positive": 0.5, "real_score": 0.5}}
    g, d = aggregate(edges, judges, {0: 10.0, 1: 20.0})
    assert g[0]["fool_rate"] == 0.75 and g[1]["fool_rate"] == 0.0 and g[0]["fid"] == 10.0
    assert d[10]["d_accuracy"] == 0.5 * (1.0 + 1.0 - 0.25)
    assert d[11]["d_accuracy"] == 0.5 * (0.5 + 0.0)
    assert objective_values(g[0], ("quality", "fool_rate")) == (-10.0, 0.75)
    assert objective_values({"fid": float("nan"), "fool_rate": 1.0}, ("quality", "fool_rate")) == (WORST, WORST)
