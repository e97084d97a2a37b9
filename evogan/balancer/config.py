"""Hyperparameters of the DQN balancer (seed 004) as one frozen dataclass, so a YAML section,
dotted overrides and Ray Tune search spaces (``trainer.balancer.gamma`` ...) all address them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from evogan.config import ConfigError

ACTIONS = ("train_both", "train_d_only", "train_g_only", "lr_g_up", "lr_g_down", "lr_d_up", "lr_d_down")
"""Every action the balancer knows (meanings in :mod:`evogan.balancer.env`)."""


@dataclass(frozen=True)
class BalancerConfig:
    enabled: bool = False
    """Let a DQN balance G/D training (seed 004); false trains plain alternating G/D steps."""
    act_every: int = 10
    """Gradient steps between two balancer decisions (one environment step = this many steps)."""
    probe_samples: int = 64
    """Generated and held-out real images D evaluates for each state and reward."""
    actions: tuple[str, ...] = ACTIONS
    """The discrete action set (a subset of ACTIONS; must contain train_both)."""
    lr_factor: float = 1.5
    """Action strength: lr_*_up multiplies a learning rate by this, lr_*_down divides by it."""
    lr_range: float = 10.0
    """Learning rates stay within [initial / lr_range, initial * lr_range]."""
    acc_target: float = 0.7
    """Centre of the band of D's held-out accuracy the reward asks for."""
    acc_band: float = 0.1
    """Half-width of that band: no penalty while |d_accuracy - acc_target| <= acc_band."""
    band_weight: float = 1.0
    """Reward weight of the accuracy-band term."""
    fake_weight: float = 1.0
    """Reward weight of the rise of D's mean score on fakes (G getting more convincing)."""
    gamma: float = 0.9
    """Discount of future rewards."""
    lr: float = 1e-3
    """Adam learning rate of the Q-network."""
    hidden: int = 64
    """Width of the Q-network's two hidden layers."""
    buffer_size: int = 2000
    """Experience replay capacity (transitions)."""
    batch_size: int = 32
    """Transitions per Q-network update."""
    learn_start: int = 32
    """Transitions stored before the first update."""
    updates_per_decision: int = 1
    """Q-network updates after each decision."""
    target_sync: int = 50
    """Copy the online network into the target network every this many updates."""
    eps_start: float = 1.0
    """Initial exploration rate of epsilon-greedy."""
    eps_end: float = 0.05
    """Final exploration rate."""
    eps_decay: int = 200
    """Decisions over which epsilon falls linearly from eps_start to eps_end."""
    double_dqn: bool = True
    """Pick next actions with the online net, value them with the target net (van Hasselt 2016)."""


def _require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{key}: {message}")


def validate_balancer(cfg: BalancerConfig, prefix: str = "balancer") -> None:
    """Raise ConfigError naming ``prefix.<field>`` on the first bad value."""
    def key(name: str) -> str:
        return f"{prefix}.{name}"

    _require(cfg.act_every >= 1, key("act_every"), f"must be >= 1, got {cfg.act_every}")
    _require(cfg.probe_samples >= 8, key("probe_samples"), f"must be >= 8, got {cfg.probe_samples}")
    _require(len(cfg.actions) >= 2, key("actions"), "needs at least two actions")
    for i, name in enumerate(cfg.actions):
        _require(name in ACTIONS, f"{key('actions')}[{i}]", f"must be one of {', '.join(ACTIONS)}, got {name!r}")
    _require(len(set(cfg.actions)) == len(cfg.actions), key("actions"), "must not repeat an action")
    _require("train_both" in cfg.actions, key("actions"), "must contain train_both")
    _require(math.isfinite(cfg.lr_factor) and cfg.lr_factor > 1, key("lr_factor"), f"must be > 1, got {cfg.lr_factor}")
    _require(math.isfinite(cfg.lr_range) and cfg.lr_range >= 1, key("lr_range"), f"must be >= 1, got {cfg.lr_range}")
    _require(0.5 <= cfg.acc_target <= 1, key("acc_target"), f"must be in [0.5, 1], got {cfg.acc_target}")
    _require(0 <= cfg.acc_band < 0.5, key("acc_band"), f"must be in [0, 0.5), got {cfg.acc_band}")
    _require(cfg.band_weight >= 0, key("band_weight"), "must be >= 0")
    _require(cfg.fake_weight >= 0, key("fake_weight"), "must be >= 0")
    _require(0 <= cfg.gamma < 1, key("gamma"), f"must be in [0, 1), got {cfg.gamma}")
    _require(math.isfinite(cfg.lr) and cfg.lr > 0, key("lr"), f"must be > 0, got {cfg.lr}")
    _require(cfg.hidden >= 4, key("hidden"), f"must be >= 4, got {cfg.hidden}")
    _require(cfg.buffer_size >= cfg.batch_size, key("buffer_size"),
             f"must be >= batch_size={cfg.batch_size}, got {cfg.buffer_size}")
    _require(cfg.batch_size >= 1, key("batch_size"), "must be >= 1")
    _require(cfg.learn_start >= 1, key("learn_start"), "must be >= 1")
    _require(cfg.updates_per_decision >= 0, key("updates_per_decision"), "must be >= 0")
    _require(cfg.target_sync >= 1, key("target_sync"), "must be >= 1")
    _require(0 <= cfg.eps_end <= cfg.eps_start <= 1, key("eps_start"),
             f"need 0 <= eps_end <= eps_start <= 1, got {cfg.eps_end} and {cfg.eps_start}")
    _require(cfg.eps_decay >= 1, key("eps_decay"), "must be >= 1")
