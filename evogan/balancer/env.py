"""The balancer's environment (seed 004, Section III and Fig. 5): state, actions and reward.

Seed 004 says only: "state = generator output and discriminator score", the DQN's actions
"optimize the performance of the generator" by adjusting G/D training, "the discriminator
evaluates the generated image and calculates the reward", and transitions go to experience
replay. It gives no formula. The choices here (each configurable in BalancerConfig):

State (12 numbers, ``STATE_FEATURES``), from D's evaluation of ``probe_samples`` fresh fakes
and as many fixed held-out real images (never trained on):
  real_score = mean P(real | x), fake_score = mean P(real | G(z)) and the balanced d_accuracy,
  loss-aware (evogan.models.evaluation: the same numbers as GA-GAN fitness and APFL),
  squash(loss_g), squash(loss_d) with squash(x) = x / (1 + |x|),
  the trend of fake_score and d_accuracy since the previous decision,
  G's output statistics: pixel mean, pixel std, and the mean per-pixel std across the batch
  (a mode-collapse signal), and log(lr / initial lr) / log(lr_range) for G and D.
  Seed gap: the seed feeds "generator output" itself; summary statistics keep the Q-network a
  small MLP and the state independent of resolution.

Actions (``BalancerConfig.actions``, a subset of ACTIONS), held for the next ``act_every`` steps:
  train_both / train_d_only / train_g_only: which side's optimisers step (the other side's
  ``step()`` is skipped; its losses are still computed, so the cost per step is unchanged);
  lr_g_up / lr_g_down / lr_d_up / lr_d_down: multiply or divide lr_g or lr_d by ``lr_factor``,
  clamped to [initial / lr_range, initial * lr_range]; training continues with both sides.
  Learning rates go through ``Member.set_hyperparameters``, so every variant's optimisers see them.

Reward of the step from observation o_{t-1} to o_t (the discriminator's evaluation):
  r_t = band_weight * -max(0, |d_accuracy_t - acc_target| - acc_band)
      + fake_weight * (fake_score_t - fake_score_{t-1}) * [d_accuracy_{t-1} >= low and d_accuracy_t >= low]
  with low = acc_target - acc_band: keep D's held-out accuracy inside
  [acc_target - acc_band, acc_target + acc_band] (D neither overwhelmed nor overwhelming), and
  credit G for making D's score on fakes rise only while D is still a competent judge.
  Without that gate the reward is hackable: in a 2,000-step DCGAN run the agent learned to pick
  train_g_only every time (a frozen D is easy to fool, and letting D recover would make
  fake_score fall), ending at FID 1,063 against 189 without the balancer. A non-finite
  evaluation ends the episode with reward NONFINITE_REWARD.
"""

from __future__ import annotations

import contextlib
import math
from typing import Iterator

import torch

from evogan.balancer.config import BalancerConfig
from evogan.data import to_float
from evogan.models.evaluation import evaluate_pair

STATE_FEATURES = ("real_score", "fake_score", "d_accuracy", "loss_g", "loss_d", "fake_score_trend",
                  "d_accuracy_trend", "g_mean", "g_std", "g_batch_std", "lr_g_ratio", "lr_d_ratio")
NONFINITE_REWARD = -2.0
TRAINING_MODES = {"train_both": (True, True), "train_d_only": (True, False), "train_g_only": (False, True)}
"""action -> (D steps, G steps)."""
LR_ACTIONS = {"lr_g_up": ("lr_g", 1), "lr_g_down": ("lr_g", -1), "lr_d_up": ("lr_d", 1), "lr_d_down": ("lr_d", -1)}


def squash(x: float) -> float:
    return x / (1.0 + abs(x))


def is_discriminator_group(group: str) -> bool:
    """Optimiser groups named ``d`` or ``d_*`` train the discriminator side (variant contract)."""
    return group == "d" or group.startswith("d_")


@torch.no_grad()
def probe(member, holdout: torch.Tensor, n: int, gen: torch.Generator) -> dict[str, float]:
    """D's evaluation of ``n`` fresh fakes and the first ``n`` held-out reals, plus G's output statistics."""
    scores, images = evaluate_pair(member, holdout[:n], n, gen, quality_fn=lambda _images: math.nan)
    scores.pop("fid", None)
    fake = to_float(images)
    scores.update(g_mean=fake.mean().item(), g_std=fake.std().item(),
                  g_batch_std=fake.std(dim=0).mean().item() if len(fake) > 1 else 0.0)
    return scores


def finite(observation: dict[str, float]) -> bool:
    return all(math.isfinite(v) for v in observation.values())


class _SkippedStep:
    """An optimiser whose ``step`` does nothing; everything else (zero_grad, param_groups) passes through."""

    def __init__(self, optimizer: torch.optim.Optimizer):
        self._optimizer = optimizer

    def step(self, closure=None):
        return None

    def __getattr__(self, name):
        return getattr(self._optimizer, name)


class BalanceEnv:
    """Maps observations to states and rewards, and actions to training adjustments of a Member."""

    def __init__(self, cfg: BalancerConfig, base_lr_g: float, base_lr_d: float):
        self.cfg = cfg
        self.actions = tuple(cfg.actions)
        self.base_lr = {"lr_g": base_lr_g, "lr_d": base_lr_d}

    @property
    def state_dim(self) -> int:
        return len(STATE_FEATURES)

    def lr_ratio(self, name: str, lr: float) -> float:
        """log(lr / initial) / log(lr_range), in [-1, 1] (0 when lr_range is 1)."""
        scale = math.log(self.cfg.lr_range)
        return math.log(lr / self.base_lr[name]) / scale if scale > 0 else 0.0

    def state(self, obs: dict[str, float], previous: dict[str, float] | None, hp) -> torch.Tensor:
        prev = previous if previous is not None else obs
        values = [obs["real_score"], obs["fake_score"], obs["d_accuracy"], squash(obs["loss_g"]),
                  squash(obs["loss_d"]), obs["fake_score"] - prev["fake_score"],
                  obs["d_accuracy"] - prev["d_accuracy"], obs["g_mean"], obs["g_std"], obs["g_batch_std"],
                  self.lr_ratio("lr_g", hp.lr_g), self.lr_ratio("lr_d", hp.lr_d)]
        state = torch.tensor(values, dtype=torch.float32)
        return torch.nan_to_num(state, nan=0.0, posinf=1.0, neginf=-1.0)

    def reward(self, obs: dict[str, float], previous: dict[str, float]) -> tuple[float, bool]:
        """(r_t, done) by the formula in the module docstring."""
        if not (finite(obs) and finite(previous)):
            return NONFINITE_REWARD, True
        cfg = self.cfg
        band = -max(0.0, abs(obs["d_accuracy"] - cfg.acc_target) - cfg.acc_band)
        low = cfg.acc_target - cfg.acc_band
        judge_ok = previous["d_accuracy"] >= low and obs["d_accuracy"] >= low
        rise = obs["fake_score"] - previous["fake_score"] if judge_ok else 0.0
        return cfg.band_weight * band + cfg.fake_weight * rise, False

    def apply(self, action: int, member) -> tuple[bool, bool]:
        """Carry out ``action`` on ``member``; returns (train D, train G) for the next steps."""
        name = self.actions[action]
        if name in TRAINING_MODES:
            return TRAINING_MODES[name]
        field, direction = LR_ACTIONS[name]
        current = getattr(member.hp, field)
        base, limit, factor = self.base_lr[field], self.cfg.lr_range, self.cfg.lr_factor
        new = min(max(current * factor ** direction, base / limit), base * limit)
        member.set_hyperparameters(member.hp.replace(**{field: new}))
        return True, True


@contextlib.contextmanager
def training_sides(member, train_d: bool, train_g: bool) -> Iterator[None]:
    """Within the block, ``member.train`` steps only the chosen sides' optimisers."""
    if train_d and train_g:
        yield
        return
    original = member.optimizers
    member.optimizers = {
        group: (optimizer if (train_d if is_discriminator_group(group) else train_g) else _SkippedStep(optimizer))
        for group, optimizer in original.items()}
    try:
        yield
    finally:
        member.optimizers = original
