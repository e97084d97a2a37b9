"""One trainable (G, D) individual: modules, optimisers, hyperparameters and training state.

Used by population actors (memetic steps), the Tune trainable and the standalone trainer.
Randomness comes from explicit ``torch.Generator`` objects, so results depend only on seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from evogan.data import to_float
from evogan.hyperparameters import Hyperparameters


def seeded_generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed) % (2 ** 63))


@dataclass
class Member:
    uid: int
    variant: Any
    modules: nn.ModuleDict
    hp: Hyperparameters
    optimizers: dict[str, torch.optim.Optimizer]
    state: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, uid: int, variant: Any, hp: Hyperparameters, seed: int,
               device: torch.device | str = "cpu") -> "Member":
        """Fresh modules initialised from ``seed``."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed) % (2 ** 63))
            modules = variant.build()
        modules.to(device)
        return cls(uid, variant, modules, hp, variant.make_optimizers(modules, hp), variant.initial_state())

    @property
    def device(self) -> torch.device:
        return next(self.modules.parameters()).device

    def set_hyperparameters(self, hp: Hyperparameters) -> None:
        self.hp = hp
        self.variant.set_hyperparameters(self.optimizers, hp)

    def reset_optimizers(self) -> None:
        self.optimizers = self.variant.make_optimizers(self.modules, self.hp)

    def train(self, steps: int, images: torch.Tensor, batch_size: int, gen: torch.Generator) -> dict[str, float]:
        """``steps`` gradient steps on minibatches drawn (with ``gen``) from uint8 ``images``.

        Returns the mean of each scalar over the steps; NaN/inf stops training early and is
        reported as such, so the caller can give this individual the worst fitness.
        """
        totals: dict[str, torch.Tensor] = {}
        done = 0
        for _ in range(steps):
            index = torch.randint(0, len(images), (batch_size,), generator=gen).to(images.device)
            real = to_float(images[index]).to(self.device, non_blocking=True)
            scalars = self.variant.train_step(self.modules, self.optimizers, real, self.hp, gen, self.state)
            for key, value in scalars.items():
                totals[key] = totals.get(key, 0.0) + value.float()
            done += 1
            if not torch.isfinite(scalars["loss_d"] + scalars["loss_g"]):
                break
        return {key: float(value) / max(done, 1) for key, value in totals.items()}

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything needed to rebuild this member exactly (``weights_only``-loadable)."""
        return {"uid": self.uid, "hp": self.hp.to_dict(), "state": dict(self.state),
                "modules": {k: v.detach().clone().cpu() for k, v in self.modules.state_dict().items()},
                "optimizers": {k: opt.state_dict() for k, opt in self.optimizers.items()}}

    @classmethod
    def from_checkpoint(cls, saved: dict[str, Any], variant: Any, device: torch.device | str = "cpu") -> "Member":
        member = cls.create(saved["uid"], variant, Hyperparameters.from_dict(saved["hp"]), seed=0, device=device)
        member.modules.load_state_dict(saved["modules"])
        for key, optimizer in member.optimizers.items():
            if key in saved.get("optimizers", {}):
                optimizer.load_state_dict(saved["optimizers"][key])
        member.state = dict(saved.get("state", {}))
        return member


def all_finite(scalars: dict[str, float]) -> bool:
    return all(math.isfinite(v) for v in scalars.values())
