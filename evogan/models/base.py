"""The contract every GAN variant implements, and the standard adversarial train step.

A variant owns its modules (an ``nn.ModuleDict`` with at least ``generator`` and
``discriminator``), its latent sampler and its extra loss terms. The training loop, the
genetic operators (which see the ModuleDict as one genome), Tune and the FID path use only
this interface, so a new variant plugs in by registering a subclass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import torch
from torch import nn

from evogan.config import ModelConfig
from evogan.losses import discriminator_loss, generator_loss, probability_real
from evogan.models.augment import diff_augment
from evogan.hyperparameters import Hyperparameters

Scalars = dict[str, torch.Tensor]


@dataclass(frozen=True)
class NoOptions:
    """A variant without options of its own."""


class GANVariant:
    """Base class: DCGAN-style training with optional extra loss terms from subclasses."""

    name: ClassVar[str] = ""
    Options: ClassVar[type] = NoOptions
    default_loss_weights: ClassVar[Mapping[str, float]] = {}
    """Extra loss terms a variant adds, with their default weights."""
    d_side_modules: ClassVar[tuple[str, ...]] = ()
    """Modules besides ``discriminator*`` that belong to the D side in coevolution."""

    def __init__(self, model: ModelConfig, image_shape: tuple[int, int, int], options: Any = None):
        self.model = model
        self.image_shape = tuple(image_shape)
        self.options = options if options is not None else self.Options()

    # ---------------------------------------------------------------- structure
    def build(self) -> nn.ModuleDict:
        """Create fresh modules; must contain ``generator`` and ``discriminator``."""
        raise NotImplementedError

    def sample_latent(self, n: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
        """Latent batch for ``generate``; default z ~ N(0, I) of shape (n, latent_dim, 1, 1)."""
        z = torch.randn(n, self.model.latent_dim, 1, 1, generator=gen, device="cpu")
        return z.to(device)

    def generate(self, modules: nn.ModuleDict, z: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] of shape (n, *image_shape)."""
        return modules["generator"](z)

    def discriminate(self, modules: nn.ModuleDict, images: torch.Tensor) -> torch.Tensor:
        """Raw outputs of shape (n,); :func:`evogan.losses.probability_real` maps them per loss."""
        return modules["discriminator"](images).reshape(-1)

    def parameter_groups(self, modules: nn.ModuleDict) -> dict[str, list[nn.Parameter]]:
        """Parameters per optimiser: ``g`` uses lr_g, ``d`` uses lr_d."""
        return {"g": list(modules["generator"].parameters()),
                "d": list(modules["discriminator"].parameters())}

    def module_side(self, key: str) -> str:
        """"d" for discriminator-side modules, "g" for the rest (generator, encoder, EMA copies)."""
        return "d" if key.startswith("discriminator") or key in self.d_side_modules else "g"

    @staticmethod
    def group_side(group: str) -> str:
        """"d" for the optimiser groups ``d`` and ``d_*`` (lr_d), "g" for the rest."""
        return "d" if group == "d" or group.startswith("d_") else "g"

    def learning_rate(self, group: str, hp: Hyperparameters) -> float:
        """Learning rate of one parameter group (subclasses may scale extra groups)."""
        return hp.lr_d if group == "d" else hp.lr_g

    def make_optimizers(self, modules: nn.ModuleDict, hp: Hyperparameters) -> dict[str, torch.optim.Optimizer]:
        """One Adam per parameter group (thesis: Adam)."""
        return {group: torch.optim.Adam(params, lr=self.learning_rate(group, hp), betas=(hp.beta1, hp.beta2))
                for group, params in self.parameter_groups(modules).items() if params}

    def set_hyperparameters(self, optimizers: Mapping[str, torch.optim.Optimizer], hp: Hyperparameters) -> None:
        """Push (possibly mutated / PBT-perturbed) learning rates and betas into the optimisers."""
        for group, optimizer in optimizers.items():
            for param_group in optimizer.param_groups:
                param_group["lr"] = self.learning_rate(group, hp)
                if "betas" in param_group:
                    param_group["betas"] = (hp.beta1, hp.beta2)

    def initial_state(self) -> dict[str, Any]:
        """Mutable per-individual training state (plain numbers) a variant keeps across steps."""
        return {}

    def loss_weight(self, name: str, hp: Hyperparameters) -> float:
        return float(hp.loss_weights.get(name, self.default_loss_weights.get(name, 0.0)))

    # ---------------------------------------------------------------- extra losses
    def discriminator_terms(self, modules, real, fake, hp, gen, state) -> Scalars:
        """Unweighted extra discriminator loss terms, keyed by loss-weight name."""
        return {}

    def generator_terms(self, modules, real, z, fake, hp, gen, state) -> Scalars:
        """Unweighted extra generator-side loss terms, keyed by loss-weight name."""
        return {}

    # ---------------------------------------------------------------- training
    def train_step(self, modules: nn.ModuleDict, optimizers: Mapping[str, torch.optim.Optimizer],
                   real: torch.Tensor, hp: Hyperparameters, gen: torch.Generator,
                   state: dict[str, Any]) -> Scalars:
        """One D update then one G update (thesis Alg. 4.1: UPDATE_DISCRIMINATOR, UPDATE_GENERATOR).

        Every input of D goes through DiffAugment with ``hp.augment`` (real and fake, in both
        updates; differentiable, so G's gradient flows through it); the extra loss terms see the
        unaugmented images. Returns detached scalars: loss_d, loss_g, real_score = mean D(x),
        fake_score = mean D(G(z)) (of the augmented images when augmentation is on).
        """
        modules.train()
        z = self.sample_latent(real.shape[0], gen, real.device)
        fake = self.generate(modules, z)

        real_logits = self.discriminate(modules, diff_augment(real, hp.augment, gen))
        fake_logits = self.discriminate(modules, diff_augment(fake.detach(), hp.augment, gen))
        loss_d = discriminator_loss(hp.loss, real_logits, fake_logits)
        for term, value in self.discriminator_terms(modules, real, fake.detach(), hp, gen, state).items():
            loss_d = loss_d + self.loss_weight(term, hp) * value
        d_groups = [g for g in optimizers if g == "d" or g.startswith("d_")]
        for group in d_groups:
            optimizers[group].zero_grad(set_to_none=True)
        loss_d.backward()
        for group in d_groups:
            optimizers[group].step()

        loss_g = generator_loss(hp.loss, self.discriminate(modules, diff_augment(fake, hp.augment, gen)))
        for term, value in self.generator_terms(modules, real, z, fake, hp, gen, state).items():
            loss_g = loss_g + self.loss_weight(term, hp) * value
        g_groups = [g for g in optimizers if g not in d_groups]
        for group in g_groups:
            optimizers[group].zero_grad(set_to_none=True)
        loss_g.backward()
        for group in g_groups:
            optimizers[group].step()
        self.after_step(modules, hp, state)
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(),
                "real_score": probability_real(hp.loss, real_logits.detach()).mean(),
                "fake_score": probability_real(hp.loss, fake_logits.detach()).mean()}

    def after_step(self, modules: nn.ModuleDict, hp: Hyperparameters, state: dict[str, Any]) -> None:
        """Hook after both updates (EMA, feedback controllers)."""
