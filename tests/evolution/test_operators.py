"""Vectorised operators and the DEAP toolbox: determinism, elitism, what mutation may touch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from evogan import validation
from evogan.config import EvolutionConfig, FitnessConfig, ModelConfig
from evogan.evolution import operators
from evogan.evolution.genome import GenomeLayout, flatten, load_genome
from evogan.evolution.toolbox import Handle, assign_fitness, build_toolbox, select_survivors_and_parents
from evogan.models import build_variant
from evogan.hyperparameters import Hyperparameters


def _pair_modules(seed: int):
    variant = build_variant(ModelConfig(width=8, latent_dim=16), (1, 28, 28))
    torch.manual_seed(seed)
    return variant.build()


@pytest.fixture
def parents():
    a, b = _pair_modules(0), _pair_modules(1)
    for buffer in dict(a.named_buffers()).values():  # make BN statistics non-trivial
        if buffer.is_floating_point():
            buffer.add_(0.5)
    return flatten(a), flatten(b)


def test_flatten_round_trip():
    modules = _pair_modules(0)
    genome = flatten(modules)
    assert genome.dtype == np.float32 and genome.size == genome.layout.size
    target = _pair_modules(5)
    load_genome(target, genome)
    for (name, x), (_, y) in zip(modules.state_dict().items(), target.state_dict().items()):
        assert torch.equal(x, y), name


def test_layout_marks_buffers_immutable():
    layout = GenomeLayout.of(_pair_modules(0))
    for name, mutable in zip(layout.names, layout.mutable):
        assert mutable == ("running_" not in name), name


@pytest.mark.parametrize("op", [operators.cx_layerwise, operators.cx_blend])
def test_crossover_is_deterministic_under_a_seed(parents, op):
    a, b = parents
    first = op(a.copy(), b.copy(), np.random.default_rng(7))
    second = op(a.copy(), b.copy(), np.random.default_rng(7))
    other = op(a.copy(), b.copy(), np.random.default_rng(8))
    assert all(np.array_equal(x, y) for x, y in zip(first, second))
    assert not np.array_equal(first[0], other[0])


def test_layerwise_crossover_takes_whole_layers_from_one_parent(parents):
    a, b = parents
    c1, c2 = operators.cx_layerwise(a.copy(), b.copy(), np.random.default_rng(3))
    from_a = 0
    for i in range(a.layout.num_layers):
        if np.array_equal(c1.layer(i), a.layer(i)):
            assert np.array_equal(c2.layer(i), b.layer(i))
            from_a += 1
        else:
            assert np.array_equal(c1.layer(i), b.layer(i)) and np.array_equal(c2.layer(i), a.layer(i))
    assert 0 < from_a < a.layout.num_layers


def test_blend_is_a_per_layer_convex_combination(parents):
    a, b = parents
    c1, c2 = operators.cx_blend(a.copy(), b.copy(), np.random.default_rng(3))
    np.testing.assert_allclose(c1 + c2, a + b, rtol=1e-5, atol=1e-6)
    for i in range(a.layout.num_layers):
        diff = a.layer(i) - b.layer(i)
        if np.abs(diff).max() > 1e-3:
            alpha = (c1.layer(i) - b.layer(i)) / np.where(diff == 0, 1, diff)
            alpha = alpha[np.abs(diff) > 1e-3]
            assert 0 <= alpha.mean() <= 1 and alpha.std() < 1e-3


def test_mutation_changes_only_trainable_layers_by_layer_scaled_noise(parents):
    a, _ = parents
    (child,) = operators.mut_gaussian_layer_scaled(a.copy(), np.random.default_rng(0), sigma=0.1)
    std = operators.layer_std(a)
    for i, name in enumerate(a.layout.names):
        delta = child.layer(i) - a.layer(i)
        if not a.layout.mutable[i]:
            assert np.all(delta == 0), f"buffer {name} was mutated"
        elif std[i] > 0 and delta.size > 100:
            assert delta.std() == pytest.approx(0.1 * std[i], rel=0.15), name


def test_zero_sigma_is_identity(parents):
    a, _ = parents
    (child,) = operators.mut_gaussian_layer_scaled(a.copy(), np.random.default_rng(0), sigma=0.0)
    assert np.array_equal(child, a)


def test_hyperparameter_mutation_is_lognormal_per_side_and_switches_d_losses():
    hp = Hyperparameters(lr_g=1e-3, lr_d=1e-3, loss="bce")
    rng = np.random.default_rng(0)
    args = dict(tau=0.2, bounds=(1e-6, 1.0), loss_prob=0.5, losses=("bce", "ls", "hinge"))
    children = [operators.mutate_hyperparameters(hp, rng, "d", **args) for _ in range(400)]
    log_ratio = np.log([c.lr_d / hp.lr_d for c in children])
    assert abs(log_ratio.mean()) < 0.05 and log_ratio.std() == pytest.approx(0.2, rel=0.15)
    assert all(c.lr_g == hp.lr_g for c in children)  # a D owns lr_d and its loss only
    switched = [c.loss for c in children if c.loss != "bce"]
    assert 150 < len(switched) < 250 and set(switched) == {"ls", "hinge"}
    g_children = [operators.mutate_hyperparameters(hp, rng, "g", **args) for _ in range(50)]
    assert all(c.lr_d == hp.lr_d and c.loss == "bce" and c.lr_g != hp.lr_g for c in g_children)
    same = operators.mutate_hyperparameters(hp, rng, "d", tau=0.0, bounds=(1e-6, 1.0), loss_prob=0.0, losses=("bce",))
    assert same == hp


def test_learning_rate_mutation_stays_within_bounds():
    hp = Hyperparameters(lr_g=1e-3, lr_d=1e-3)
    rng = np.random.default_rng(1)
    for _ in range(300):
        hp = operators.mutate_hyperparameters(hp, rng, "g", tau=1.0, bounds=(5e-4, 2e-3), loss_prob=0.0,
                                              losses=("bce",))
        assert 5e-4 <= hp.lr_g <= 2e-3


def test_mutation_floor_moves_constant_tensors(parents):
    a, _ = parents
    constant = [i for i in range(a.layout.num_layers) if a.layout.mutable[i] and a.layer(i).std() == 0]
    assert constant  # BatchNorm biases start at 0
    (child,) = operators.mut_gaussian_layer_scaled(a.copy(), np.random.default_rng(0), sigma=0.1, floor=0.02)
    for i in constant:
        assert not np.array_equal(child.layer(i), a.layer(i)), a.layout.names[i]


VARIANTS = {"dcgan": {}, "cft_mr_edge": {"feature_dim": 4},
            "vaegan_attn": {"perceptual_net": "none", "attn_resolution": 7}, "mspg_sen": {"ema_decay": 0.9}}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_ga_mutation_changes_every_trainable_tensor_of_every_variant(name):
    variant = build_variant(ModelConfig(variant=name, width=8, latent_dim=16, options=VARIANTS[name]), (1, 28, 28))
    torch.manual_seed(0)
    modules = variant.build()
    before = {k: v.detach().clone() for k, v in modules.named_parameters()}
    toolbox = build_toolbox(EvolutionConfig(), FitnessConfig())
    genome = flatten(modules)
    toolbox.mutate(genome, rng=np.random.default_rng(0))
    load_genome(modules, genome)
    unchanged = [k for k, v in modules.named_parameters() if v.requires_grad and torch.equal(v, before[k])]
    assert unchanged == []


def _handles(toolbox, objectives):
    handles = [Handle(uid=i, slot=i, objectives=o) for i, o in enumerate(objectives)]
    for h in handles:
        assign_fitness(toolbox, h)
    return handles


def test_tournament_keeps_elites_and_is_seeded():
    evo = EvolutionConfig(population_size=6, elites=2, selection="tournament", tournament_size=3)
    toolbox = build_toolbox(evo, FitnessConfig())
    handles = _handles(toolbox, [(-50.0, 0.6), (-10.0, 0.5), (-30.0, 0.9), (-5.0, 0.1), (-80.0, 1.0), (-20.0, 0.7)])
    kept, pairs = select_survivors_and_parents(toolbox, handles, 2, seed=11)
    weighted = [h.fitness.values[0] for h in handles]
    assert sorted(h.uid for h in kept) == sorted(np.argsort(weighted)[-2:].tolist())
    assert len(pairs) == 4
    again = select_survivors_and_parents(toolbox, handles, 2, seed=11)[1]
    assert [(a.uid, b.uid) for a, b in pairs] == [(a.uid, b.uid) for a, b in again]


def test_nsga2_elites_are_on_the_pareto_front_and_invalid_are_excluded():
    evo = EvolutionConfig(population_size=5, elites=2, selection="nsga2")
    toolbox = build_toolbox(evo, FitnessConfig())
    assert toolbox.multi_objective
    handles = _handles(toolbox, [(-10.0, 0.9), (-5.0, 0.5), (-50.0, 0.4), (-40.0, 0.3), (-1e9, -1e9)])
    handles[4].valid = False
    kept, pairs = select_survivors_and_parents(toolbox, handles, 2, seed=0)
    assert {h.uid for h in kept} == {0, 1}  # the non-dominated pair
    assert len(pairs) == 3 and all(4 not in (a.uid, b.uid) for a, b in pairs)


@pytest.mark.parametrize("order", [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]])
def test_single_nsga2_elite_is_the_best_fid_whatever_the_slot_order(order):
    """The review's case: a front of (-900, 1.0), (-400, 0.9), (-300, 0.8), (-150, 0.6)."""
    toolbox = build_toolbox(EvolutionConfig(selection="nsga2"), FitnessConfig())
    front = [(-900.0, 1.0), (-400.0, 0.9), (-300.0, 0.8), (-150.0, 0.6)]
    handles = _handles(toolbox, [front[i] for i in order])
    kept, _ = select_survivors_and_parents(toolbox, handles, 1, seed=0)
    assert kept[0].objectives == (-150.0, 0.6)


def test_elite_ties_are_broken_by_uid():
    toolbox = build_toolbox(EvolutionConfig(selection="tournament"), FitnessConfig())
    handles = _handles(toolbox, [(-10.0, 0.5)] * 4)
    for slot, uid in enumerate([7, 3, 9, 5]):
        handles[slot].uid = uid
    kept, _ = select_survivors_and_parents(toolbox, handles, 2, seed=0)
    assert [h.uid for h in kept] == [3, 5]


def test_config_selects_operators():
    config = validation.load(None, ["evolution.crossover=blend", "evolution.selection=tournament"])
    toolbox = build_toolbox(config.evolution, config.fitness)
    assert toolbox.mate.func is operators.cx_blend
    assert toolbox.mutate.keywords["sigma"] == config.evolution.mutation_sigma
    assert not toolbox.multi_objective
