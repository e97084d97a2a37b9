"""Search-space parsing and checks of evogan.tune (no Ray started)."""

from __future__ import annotations

import pytest

from evogan.config import ConfigError
from evogan.tune.config import ASHAConfig, SweepConfig, validate_sweep
from evogan.tune.search_space import (count_trials, grid_combinations, hyperparam_mutations, param_space,
                                      parse_search_space, trial_assignments)


def test_flat_nested_and_tied_keys():
    dims = parse_search_space({"train": {"lr_g": {"loguniform": [1e-4, 1e-2]}},
                               "model.latent_dim": {"grid_search": [16, 32]},
                               "train.beta1,train.beta2": {"choice": [0.5, 0.9]}})
    assert [d.key for d in dims] == ["train.lr_g", "model.latent_dim", "train.beta1,train.beta2"]
    assert [d.perturbable for d in dims] == [True, False, True]
    space = param_space(dims)
    assert set(space) == {"train", "model"} and set(space["train"]) == {"lr_g", "beta1"}
    assert set(hyperparam_mutations(dims)["train"]) == {"lr_g", "beta1"}
    assert trial_assignments({"train": {"lr_g": 1e-3, "beta1": 0.9}, "model": {"latent_dim": 16}},
                             [d.key for d in dims]) == {"train.lr_g": 1e-3, "model.latent_dim": 16,
                                                        "train.beta1": 0.9, "train.beta2": 0.9}
    assert count_trials(dims, 3) == 6
    assert grid_combinations(dims) == [{"model.latent_dim": 16}, {"model.latent_dim": 32}]


def test_all_variants_expands_to_the_registry():
    from evogan.models import VARIANTS

    (dim,) = parse_search_space({"model.variant": {"grid_search": "all_variants"}})
    assert list(dim.args) == sorted(VARIANTS) and "dcgan" in dim.args


@pytest.mark.parametrize("spec, message", [
    ({}, "empty search space"),
    ({"train.lr_g": [1, 2]}, "expected one of"),
    ({"train.lr_g": {"loguniform": [0.0, 1.0]}}, "low > 0"),
    ({"train.lr_g": {"uniform": [2.0, 1.0]}}, "low < high"),
    ({"model.latent_dim": {"randint": [8.5, 16]}}, "integers"),
    ({"data.limit": {"choice": [10, 20]}}, "cannot be swept"),
    ({"trainer.steps": {"choice": [10, 20]}}, "cannot be swept"),
    ({"train.lr_d": {"choice": [1e-3]}, "train.lr_g,train.lr_d": {"choice": [1e-3]}}, "swept more than once"),
    ({"train.lr_g": {"grid_search": "all_variants"}}, "only to model.variant"),
])
def test_malformed_search_spaces_raise(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_search_space(spec)


def test_scheduler_settings_are_checked():
    validate_sweep(SweepConfig(), evaluations=3, total_trials=4)
    with pytest.raises(ConfigError, match="sweep.asha.grace_period"):
        validate_sweep(SweepConfig(asha=ASHAConfig(grace_period=5)), evaluations=3, total_trials=4)
    with pytest.raises(ConfigError, match="sweep.pbt.perturbation_interval"):
        validate_sweep(SweepConfig(scheduler="pbt"), evaluations=2, total_trials=4)
    with pytest.raises(ConfigError, match="pbt needs at least 2 trials"):
        validate_sweep(SweepConfig(scheduler="pbt", num_samples=1), evaluations=5, total_trials=1)
