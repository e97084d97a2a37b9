"""Trial schedulers from the ``sweep:`` section: Tune's own ``ASHAScheduler`` (asynchronous
successive halving: early-stop weak trials at equal budgets) and ``PopulationBasedTraining``
(exploit the best trials' checkpoints, explore perturbed hyperparameters), or none (FIFO).

Time is ``training_iteration``: one iteration = ``trainer.eval_every`` gradient steps + one
FID evaluation, so both schedulers compare trials after equal numbers of steps.
"""

from __future__ import annotations

from typing import Any

from evogan.tune.config import SweepConfig
from evogan.tune.search_space import Dimension, hyperparam_mutations

TIME_ATTR = "training_iteration"


def build_scheduler(cfg: SweepConfig, dimensions: list[Dimension], max_iterations: int) -> Any:
    """The configured scheduler (metric and mode are given to ``TuneConfig``, not here)."""
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, PopulationBasedTraining

    if cfg.scheduler == "asha":
        return ASHAScheduler(time_attr=TIME_ATTR, max_t=max_iterations, grace_period=cfg.asha.grace_period,
                             reduction_factor=cfg.asha.reduction_factor, brackets=cfg.asha.brackets)
    if cfg.scheduler == "pbt":
        pbt = cfg.pbt
        return PopulationBasedTraining(
            time_attr=TIME_ATTR, perturbation_interval=pbt.perturbation_interval,
            burn_in_period=pbt.burn_in_period, hyperparam_mutations=hyperparam_mutations(dimensions),
            quantile_fraction=pbt.quantile_fraction, resample_probability=pbt.resample_probability,
            perturbation_factors=tuple(pbt.perturbation_factors), synch=pbt.synch)
    return FIFOScheduler()


def check_scheduler(cfg: SweepConfig, dimensions: list[Dimension]) -> None:
    """Scheduler needs the search space can't satisfy -> ConfigError (before Ray starts)."""
    from evogan.config import ConfigError
    from evogan.tune.search_space import PERTURBABLE_KEYS

    if cfg.scheduler == "pbt" and not any(d.perturbable for d in dimensions):
        raise ConfigError("sweep.scheduler: pbt needs a perturbable key in sweep.search_space "
                          f"({', '.join(PERTURBABLE_KEYS[:4])}, train.loss_weights.* or trainer.balancer.*)")
