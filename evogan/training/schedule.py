"""Per-individual learning-rate schedules (the thesis' "GA-GAN ... supported by learning rate
schedulers"): pure functions, no torch state.

A schedule is a factor on an individual's *base* learning rates, which stay what evolution
mutates, PBT perturbs and the balancer adjusts. Evolution uses
``scheduled(hp, lr_factor(cfg.train, generation, cfg.evolution.generations))`` as a generation's
effective hyperparameters; the standalone trainer uses the evaluation count as the index.
"""

from __future__ import annotations

import math
from typing import Any

from evogan.hyperparameters import Hyperparameters

LR_SCHEDULES = ("constant", "step", "cosine")


def lr_factor(train_cfg: Any, index: int, total: int) -> float:
    """Factor on the base learning rates at ``index`` (a generation or evaluation) of ``total``.

    constant: 1. step: lr_gamma ** (index // lr_step_size). cosine: from 1 at index 0 to
    lr_min_factor at index total - 1 along half a cosine (index clamped to [0, total - 1]).
    ``train_cfg`` is a :class:`evogan.config.TrainConfig` (read by attribute).
    """
    kind = train_cfg.lr_schedule
    if kind == "constant":
        return 1.0
    if kind == "step":
        return float(train_cfg.lr_gamma) ** (max(index, 0) // train_cfg.lr_step_size)
    if kind == "cosine":
        last = max(total - 1, 1)
        progress = min(max(index, 0), last) / last
        low = train_cfg.lr_min_factor
        return low + (1.0 - low) * (1.0 + math.cos(math.pi * progress)) / 2.0
    raise ValueError(f"unknown lr_schedule {kind!r} (known: {', '.join(LR_SCHEDULES)})")


def scheduled(hp: Hyperparameters, factor: float) -> Hyperparameters:
    """``hp`` with lr_g and lr_d multiplied by ``factor`` (``hp`` itself when factor is 1)."""
    if factor == 1.0:
        return hp
    return hp.replace(lr_g=hp.lr_g * factor, lr_d=hp.lr_d * factor)
