"""One side of a GAN in coevolution: a generator or a discriminator with its own optimisers.

The G and D populations (seed 002, section 4.1.3) hold :class:`Individual` objects. A variant's
modules split by :meth:`GANVariant.module_side`; a G and a D are joined into a transient
:class:`~evogan.training.member.Member` to train or be scored together, sharing the very same
module objects, so a train step updates both individuals in place.

Ownership of hyperparameters: a G owns lr_g, beta1/beta2 and the variant's loss weights, and
its variant ``state`` (APFL, staged noise); a D owns lr_d and the adversarial loss, because the
loss defines what D's output means (its G opponents are trained with the generator loss of
the D they face).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from evogan.hyperparameters import Hyperparameters
from evogan.training.member import Member


@dataclass
class Individual:
    uid: int
    side: str
    """"g" or "d"."""
    modules: nn.ModuleDict
    hp: Hyperparameters
    optimizers: dict[str, torch.optim.Optimizer] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    def checkpoint_state(self) -> dict[str, Any]:
        """A snapshot (tensors cloned) that rebuilds this individual; ``weights_only``-loadable."""
        return {"uid": self.uid, "side": self.side, "hp": self.hp.to_dict(), "state": dict(self.state),
                "modules": {k: v.detach().clone().cpu() for k, v in self.modules.state_dict().items()},
                "optimizers": {k: opt.state_dict() for k, opt in self.optimizers.items()}}


def split_modules(variant: Any, modules: nn.ModuleDict) -> dict[str, nn.ModuleDict]:
    """{"g": G-side modules, "d": D-side modules} of one built variant (shared, not copied)."""
    sides: dict[str, nn.ModuleDict] = {"g": nn.ModuleDict(), "d": nn.ModuleDict()}
    for key, module in modules.items():
        sides[variant.module_side(key)][key] = module
    return sides


def joined(g_modules: nn.ModuleDict, d_modules: nn.ModuleDict) -> nn.ModuleDict:
    """One ModuleDict over both sides' module objects (no copy)."""
    return nn.ModuleDict({**dict(g_modules.items()), **dict(d_modules.items())})


def pair_hyperparameters(g: Individual, d: Individual) -> Hyperparameters:
    """The hyperparameters a (G, D) pair trains with, each field from the side that owns it."""
    return g.hp.replace(lr_d=d.hp.lr_d, loss=d.hp.loss)


def make_optimizers(variant: Any, individual: Individual, partner_modules: nn.ModuleDict) -> None:
    """Fresh optimisers for ``individual``'s own groups (``partner_modules`` only completes the
    ModuleDict the variant expects; its parameters are not optimised)."""
    both = joined(individual.modules, partner_modules) if individual.side == "g" else \
        joined(partner_modules, individual.modules)
    optimizers = variant.make_optimizers(both, individual.hp)
    individual.optimizers = {k: v for k, v in optimizers.items() if variant.group_side(k) == individual.side}


def pair_member(variant: Any, g: Individual, d: Individual, hp: Hyperparameters | None = None) -> Member:
    """A Member over G's and D's modules and optimisers, for training or scoring the pair.

    ``hp`` (default: :func:`pair_hyperparameters`) is pushed into both sides' optimisers.
    """
    hp = hp or pair_hyperparameters(g, d)
    member = Member(g.uid, variant, joined(g.modules, d.modules), hp, {**g.optimizers, **d.optimizers}, g.state)
    variant.set_hyperparameters(member.optimizers, hp)
    return member
