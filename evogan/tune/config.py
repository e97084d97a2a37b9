"""The ``sweep:`` section of a sweep YAML (the rest of the file is a standard run config plus an
optional ``trainer:`` section: the base every trial starts from)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from evogan.config import ConfigError

SCHEDULERS = ("asha", "pbt", "fifo")


@dataclass(frozen=True)
class ASHAConfig:
    grace_period: int = 1
    """Iterations every trial runs before ASHA may stop it."""
    reduction_factor: float = 2.0
    """Keep the best 1/reduction_factor of trials at each rung (> 1)."""
    brackets: int = 1
    """Number of ASHA brackets."""


@dataclass(frozen=True)
class PBTConfig:
    perturbation_interval: int = 2
    """Iterations between exploit/explore decisions."""
    burn_in_period: int = 0
    """Iterations before the first perturbation."""
    quantile_fraction: float = 0.25
    """The bottom fraction of trials copies the top fraction (in (0, 0.5])."""
    resample_probability: float = 0.25
    """Probability of resampling a hyperparameter from its domain instead of perturbing it."""
    perturbation_factors: tuple[float, ...] = (1.2, 0.8)
    """Continuous hyperparameters are multiplied by one of these."""
    synch: bool = True
    """Synchronous PBT: perturb once every trial reached the interval (reproducible, good for
    small populations)."""


@dataclass(frozen=True)
class SweepConfig:
    name: str = "sweep"
    """Experiment name: results go to <storage_path>/<name> (numbered -2, -3 ... if it exists)."""
    storage_path: str = "runs/sweeps"
    """Directory Tune writes results, checkpoints and TensorBoard logs to (on a multi-node
    cluster a shared filesystem path; URIs such as s3:// are not supported by evogan's export)."""
    scheduler: str = "asha"
    """asha (early stopping), pbt (population based training) or fifo (run every trial to the end)."""
    num_samples: int = 4
    """Samples of the search space (each grid_search combination is run num_samples times)."""
    search_space: Mapping[str, Any] = field(default_factory=dict)
    """Dotted config key -> domain, e.g. train.lr_g: {loguniform: [1e-4, 1e-2]} (see search_space.py)."""
    arms: Mapping[str, Any] = field(default_factory=dict)
    """Named arms of a study (configs/studies/*.yaml): arm name -> {dotted key: value} set on top
    of the base config, e.g. ``no_attention: {model.options.attention: false}``. They become one
    grid_search dimension ``arm`` (trial directories are named ``arm=<name>``); arms may set
    anything a search space may sweep, and no key both an arm and the search space set."""
    only_arms: tuple[str, ...] = ()
    """Run just these of ``arms`` (a study run piecewise, e.g. its cheap arms on a CPU); the
    study's claims that compare an arm left out are left out too. Empty: every arm."""
    seeds: tuple[int, ...] = ()
    """Seeds every arm (and grid point) runs with: a grid_search over ``seed``. The smoke
    profile keeps the first one."""
    cpus_per_trial: float = 1.0
    """CPUs reserved per trial."""
    gpus_per_trial: float = 0.0
    """GPUs per trial (fractions allowed: 0.25 runs four trials on one GPU)."""
    max_concurrent_trials: int = 0
    """At most this many trials at once (0: as many as the resources allow)."""
    checkpoint_keep: int = 4
    """Checkpoints kept per trial (the best by the metric, plus always the latest); PBT needs >= 3
    so that other trials can still exploit a checkpoint when they get to it."""
    verbose: int = 1
    """Tune's console output: 0 silent, 1 status tables, 2 every result."""
    smoke: bool = False
    """Tiny profile for a CPU smoke test: 28 px shapes, width 8, latent 16, at most 2 samples per
    grid point, the first of ``seeds``, 20 steps in 2 iterations (SMOKE_OVERRIDES; search-space
    and arm values still apply); a study's report scores 256 samples, no Inception
    (SMOKE_STUDY_OVERRIDES)."""
    asha: ASHAConfig = field(default_factory=ASHAConfig)
    pbt: PBTConfig = field(default_factory=PBTConfig)


SMOKE_OVERRIDES = {
    "data.name": "shapes", "data.num_samples": 512, "data.holdout": 64, "data.resolution": 28,
    "data.limit": 0, "model.width": 8, "model.latent_dim": 16, "train.batch_size": 16,
    "fitness.eval_samples": 64, "metrics.real_samples": 256, "metrics.report_samples": 64,
    "metrics.fitness_extractor": "domain", "metrics.report_extractor": "domain",
    "trainer.steps": 20, "trainer.eval_every": 10, "trainer.balancer.act_every": 2,
    "trainer.balancer.probe_samples": 32, "trainer.balancer.learn_start": 4, "trainer.balancer.batch_size": 4,
    "ray.dashboard": False, "device": "cpu",
    "sweep.asha.grace_period": 1, "sweep.pbt.perturbation_interval": 1, "sweep.pbt.burn_in_period": 0,
}
"""What ``sweep.smoke=true`` sets on the base config (search-space values still apply on top)."""
SMOKE_STUDY_OVERRIDES = {"study.samples": 256, "study.real_samples": 512, "study.inception_samples": 0}
"""What ``sweep.smoke=true`` sets on a study's ``study:`` section, so that ``python -m
evogan.studies`` reports a smoke run in seconds, not the minutes that 4,096 samples per
generator and the Inception cross-check take on a CPU (the user's overrides still win)."""
SMOKE_MAX_SAMPLES = 2


def _require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{key}: {message}")


def validate_sweep(cfg: SweepConfig, evaluations: int, total_trials: int) -> None:
    """Range checks of the section; ``evaluations`` is one trial's iteration budget, ``total_trials``
    the number of trials the search space and num_samples make."""
    _require(bool(cfg.name) and "/" not in cfg.name, "sweep.name",
             f"must be a non-empty name without '/', got {cfg.name!r}")
    _require(bool(cfg.storage_path) and "://" not in cfg.storage_path, "sweep.storage_path",
             f"must be a non-empty filesystem path (shared storage on a cluster), got {cfg.storage_path!r}")
    _require(cfg.scheduler in SCHEDULERS, "sweep.scheduler",
             f"must be one of {', '.join(SCHEDULERS)}, got {cfg.scheduler!r}")
    _require(cfg.num_samples >= 1, "sweep.num_samples", f"must be >= 1, got {cfg.num_samples}")
    _require(cfg.cpus_per_trial >= 0, "sweep.cpus_per_trial", "must be >= 0")
    _require(cfg.gpus_per_trial >= 0, "sweep.gpus_per_trial", "must be >= 0")
    _require(cfg.cpus_per_trial > 0 or cfg.gpus_per_trial > 0, "sweep.cpus_per_trial",
             "a trial needs some CPU or GPU (cpus_per_trial and gpus_per_trial are both 0)")
    _require(cfg.max_concurrent_trials >= 0, "sweep.max_concurrent_trials", "must be >= 0")
    _require(cfg.checkpoint_keep >= 1, "sweep.checkpoint_keep", "must be >= 1")
    _require(cfg.verbose in (0, 1, 2), "sweep.verbose", f"must be 0, 1 or 2, got {cfg.verbose}")
    if cfg.scheduler == "asha":
        asha = cfg.asha
        _require(asha.reduction_factor > 1, "sweep.asha.reduction_factor", f"must be > 1, got {asha.reduction_factor}")
        _require(asha.brackets >= 1, "sweep.asha.brackets", f"must be >= 1, got {asha.brackets}")
        _require(1 <= asha.grace_period <= evaluations, "sweep.asha.grace_period",
                 f"must be in [1, trainer iterations={evaluations}], got {asha.grace_period}")
    if cfg.scheduler == "pbt":
        pbt = cfg.pbt
        _require(1 <= pbt.perturbation_interval < evaluations, "sweep.pbt.perturbation_interval",
                 f"must be in [1, trainer iterations={evaluations}) or PBT never perturbs, "
                 f"got {pbt.perturbation_interval}")
        _require(0 <= pbt.burn_in_period < evaluations, "sweep.pbt.burn_in_period",
                 f"must be in [0, trainer iterations={evaluations}), got {pbt.burn_in_period}")
        _require(cfg.checkpoint_keep >= 3, "sweep.checkpoint_keep",
                 f"pbt needs >= 3 (trials exploit each other's recent checkpoints), got {cfg.checkpoint_keep}")
        _require(0 < pbt.quantile_fraction <= 0.5, "sweep.pbt.quantile_fraction",
                 f"must be in (0, 0.5], got {pbt.quantile_fraction}")
        _require(0 <= pbt.resample_probability <= 1, "sweep.pbt.resample_probability", "must be in [0, 1]")
        _require(len(pbt.perturbation_factors) == 2
                 and all(math.isfinite(f) and f > 0 for f in pbt.perturbation_factors),
                 "sweep.pbt.perturbation_factors", f"must be two numbers > 0, got {list(pbt.perturbation_factors)}")
        _require(total_trials >= 2, "sweep.num_samples",
                 f"pbt needs at least 2 trials, the search space and num_samples give {total_trials}")
