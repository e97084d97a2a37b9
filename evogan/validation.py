"""Range and consistency checks of a :class:`~evogan.config.Config`, and the validated loaders.

Each failed check raises :class:`~evogan.config.ConfigError` with one line naming the key.
"""

from __future__ import annotations

import math
from typing import Any

import os
from typing import Mapping

from evogan.config import LOSS_TYPES, Config, ConfigError, build_dataclass, read_with_overrides
from evogan.data import DATASETS
from evogan.models import VARIANTS, variant_options
from evogan.models.augment import AUGMENT_POLICIES
from evogan.training.schedule import LR_SCHEDULES

G_OBJECTIVES = ("quality", "fool_rate")
"""Generator objectives; a discriminator is always scored on its balanced accuracy."""
EXTRACTORS = ("domain", "inception")


def _require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{key}: {message}")


def _positive(value: float, key: str) -> None:
    _require(math.isfinite(value) and value > 0, key, f"must be > 0, got {value}")


def _choice(value: Any, choices: tuple, key: str) -> None:
    _require(value in choices, key, f"must be one of {', '.join(map(str, choices))}, got {value!r}")


def load(path: str | os.PathLike | None = None, overrides: list[str] = ()) -> Config:
    """Read YAML (``safe_load``) at ``path``, apply dotted ``overrides``, type-check and validate."""
    return from_dict(read_with_overrides(path, overrides))


def from_dict(values: Mapping[str, Any]) -> Config:
    """A validated Config from its plain form (the inverse of :func:`evogan.config.to_dict`)."""
    config = build_dataclass(Config, values)
    validate(config)
    return config


def validate(config: Config) -> None:
    """Raise ConfigError on the first out-of-range or inconsistent value."""
    data = config.data
    _choice(data.name, tuple(sorted(DATASETS)), "data.name")
    _choice(data.resolution, (28, 32, 64), "data.resolution")
    _choice(data.channels, (1, 3), "data.channels")
    _require(data.limit >= 0, "data.limit", f"must be >= 0, got {data.limit}")
    _choice(data.split, ("train", "test"), "data.split")
    _require(data.num_samples >= 16, "data.num_samples", f"must be >= 16, got {data.num_samples}")
    _require(data.holdout >= 8, "data.holdout", f"must be >= 8, got {data.holdout}")
    if data.name not in ("shapes",):
        _require(bool(data.root), "data.root", f"dataset {data.name} needs a root directory")

    model = config.model
    _choice(model.variant, tuple(sorted(VARIANTS)), "model.variant")
    _require(model.latent_dim >= 2, "model.latent_dim", f"must be >= 2, got {model.latent_dim}")
    _require(model.width >= 4, "model.width", f"must be >= 4, got {model.width}")
    variant_options(model.variant, model.options)  # raises ConfigError on a bad option

    train = config.train
    _positive(train.lr_g, "train.lr_g")
    _positive(train.lr_d, "train.lr_d")
    _require(0 <= train.beta1 < 1, "train.beta1", f"must be in [0, 1), got {train.beta1}")
    _require(0 <= train.beta2 < 1, "train.beta2", f"must be in [0, 1), got {train.beta2}")
    _choice(train.loss, LOSS_TYPES, "train.loss")
    _require(train.batch_size >= 2, "train.batch_size", f"must be >= 2, got {train.batch_size}")
    _require(train.steps_per_generation >= 0, "train.steps_per_generation", "must be >= 0")
    for name, weight in train.loss_weights.items():
        _require(isinstance(weight, (int, float)) and weight >= 0,
                 f"train.loss_weights.{name}", f"must be a number >= 0, got {weight!r}")
    for i, policy in enumerate(train.augment):
        _choice(policy, AUGMENT_POLICIES, f"train.augment[{i}]")
    _require(len(set(train.augment)) == len(train.augment), "train.augment", "must not repeat a policy")
    _choice(train.lr_schedule, LR_SCHEDULES, "train.lr_schedule")
    _require(train.lr_step_size >= 1, "train.lr_step_size", f"must be >= 1, got {train.lr_step_size}")
    _require(math.isfinite(train.lr_gamma) and 0 < train.lr_gamma <= 1, "train.lr_gamma",
             f"must be in (0, 1], got {train.lr_gamma}")
    _require(math.isfinite(train.lr_min_factor) and 0 < train.lr_min_factor <= 1, "train.lr_min_factor",
             f"must be in (0, 1], got {train.lr_min_factor}")

    evo = config.evolution
    _choice(evo.mode, ("ga", "memetic"), "evolution.mode")
    _require(evo.population_size >= 1, "evolution.population_size",
             f"must be >= 1, got {evo.population_size}")
    _require(evo.d_population_size >= 0, "evolution.d_population_size",
             f"must be >= 0, got {evo.d_population_size}")
    _require(evo.opponents >= 1, "evolution.opponents", f"must be >= 1, got {evo.opponents}")
    _choice(evo.neighbourhood, ("ring", "random"), "evolution.neighbourhood")
    smallest = min(evo.population_size, evo.d_size)
    _require(1 <= evo.num_actors <= smallest, "evolution.num_actors",
             f"must be in [1, smaller population size={smallest}], got {evo.num_actors}")
    _require(evo.generations >= 1, "evolution.generations", f"must be >= 1, got {evo.generations}")
    _require(0 <= evo.elites <= smallest, "evolution.elites",
             f"must be in [0, smaller population size={smallest}], got {evo.elites}")
    _choice(evo.selection, ("auto", "tournament", "nsga2"), "evolution.selection")
    _require(1 <= evo.tournament_size <= smallest, "evolution.tournament_size",
             f"must be in [1, smaller population size={smallest}], got {evo.tournament_size}")
    _choice(evo.init, ("shared", "independent"), "evolution.init")
    _require(evo.init_sigma >= 0, "evolution.init_sigma", "must be >= 0")
    _require(evo.init_lr_tau >= 0, "evolution.init_lr_tau", "must be >= 0")
    _choice(evo.crossover, ("layerwise", "blend", "none"), "evolution.crossover")
    _require(0 <= evo.crossover_prob <= 1, "evolution.crossover_prob", "must be in [0, 1]")
    _require(evo.mutation_sigma >= 0, "evolution.mutation_sigma", "must be >= 0")
    _require(evo.mutation_floor >= 0, "evolution.mutation_floor", "must be >= 0")
    _require(evo.lr_mutation_tau >= 0, "evolution.lr_mutation_tau", "must be >= 0")
    _require(len(evo.lr_bounds) == 2 and 0 < evo.lr_bounds[0] <= evo.lr_bounds[1], "evolution.lr_bounds",
             f"must be [low, high] with 0 < low <= high, got {list(evo.lr_bounds)}")
    for key, lr in (("train.lr_g", config.train.lr_g), ("train.lr_d", config.train.lr_d)):
        _require(evo.lr_bounds[0] <= lr <= evo.lr_bounds[1], key,
                 f"{lr} is outside evolution.lr_bounds {list(evo.lr_bounds)}")
    _require(0 <= evo.loss_mutation_prob <= 1, "evolution.loss_mutation_prob", "must be in [0, 1]")
    _require(len(evo.losses) >= 1, "evolution.losses", "must name at least one loss")
    for i, loss in enumerate(evo.losses):
        _choice(loss, LOSS_TYPES, f"evolution.losses[{i}]")
    if evo.mode == "ga" and evo.mutation_sigma == 0 and evo.crossover == "none":
        raise ConfigError("evolution.mutation_sigma: ga mode with no crossover needs sigma > 0")

    fit = config.fitness
    _require(len(fit.objectives) >= 1, "fitness.objectives", "must name at least one objective")
    for i, objective in enumerate(fit.objectives):
        _choice(objective, G_OBJECTIVES, f"fitness.objectives[{i}]")
    _require(len(set(fit.objectives)) == len(fit.objectives), "fitness.objectives",
             "must not repeat an objective")
    _require(len(fit.weights) == len(fit.objectives), "fitness.weights",
             f"needs one weight per objective ({len(fit.objectives)}), got {len(fit.weights)}")
    for i, weight in enumerate(fit.weights):
        _require(math.isfinite(weight) and weight > 0, f"fitness.weights[{i}]", "must be > 0")
    _require(fit.eval_samples >= 16, "fitness.eval_samples", "must be >= 16")
    if evo.selection == "nsga2":
        _require(len(fit.objectives) >= 2, "evolution.selection",
                 "nsga2 needs at least two fitness.objectives")

    met = config.metrics
    _choice(met.fitness_extractor, EXTRACTORS, "metrics.fitness_extractor")
    _choice(met.report_extractor, EXTRACTORS, "metrics.report_extractor")
    _require(met.report_samples >= 16, "metrics.report_samples", "must be >= 16")
    _require(met.real_samples >= 16, "metrics.real_samples", "must be >= 16")
    _require(met.fid_actors >= 1, "metrics.fid_actors", f"must be >= 1, got {met.fid_actors}")

    mix = config.mixture
    _require(mix.iterations >= 0, "mixture.iterations", f"must be >= 0, got {mix.iterations}")
    _require(mix.offspring >= 1, "mixture.offspring", f"must be >= 1, got {mix.offspring}")
    _require(mix.samples >= 16, "mixture.samples", f"must be >= 16, got {mix.samples}")
    _require(math.isfinite(mix.sigma) and 0 < mix.sigma <= 1, "mixture.sigma", f"must be in (0, 1], got {mix.sigma}")

    ray_cfg = config.ray
    _require(ray_cfg.num_cpus >= 0, "ray.num_cpus", "must be >= 0")
    _require(ray_cfg.actor_num_cpus >= 0, "ray.actor_num_cpus", "must be >= 0")
    _require(ray_cfg.actor_num_gpus >= 0, "ray.actor_num_gpus", "must be >= 0")
    _require(ray_cfg.fid_num_cpus >= 0, "ray.fid_num_cpus", "must be >= 0")
    _require(ray_cfg.fid_num_gpus >= 0, "ray.fid_num_gpus", "must be >= 0")
    _require(ray_cfg.recover_attempts >= 0, "ray.recover_attempts", "must be >= 0")
    _choice(ray_cfg.placement, ("PACK", "SPREAD", "none"), "ray.placement")
    _require(ray_cfg.torch_threads >= 1, "ray.torch_threads", "must be >= 1")

    _choice(config.device, ("auto", "cpu", "cuda"), "device")
    out = config.output
    _require(bool(out.root), "output.root", "must not be empty")
    _require(out.sample_every >= 1, "output.sample_every", "must be >= 1")
    _require(out.checkpoint_every >= 1, "output.checkpoint_every", "must be >= 1")
    _require(out.keep_checkpoints >= 1, "output.keep_checkpoints", "must be >= 1")
    _require(out.report_every >= 0, "output.report_every", "must be >= 0 (0: only at the end)")
