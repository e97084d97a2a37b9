"""Helpers for the variant tests: tiny real models on CPU (imported by the test modules)."""

from __future__ import annotations

import torch

import evogan.models  # noqa: F401  (registers every variant)
from evogan.config import ModelConfig
from evogan.models.registry import build_variant
from evogan.hyperparameters import Hyperparameters

SHAPES = [(c, r, r) for r in (28, 32, 64) for c in (1, 3)]


def make_variant(name: str, shape=(1, 32, 32), latent_dim: int = 16, width: int = 8, **options):
    model = ModelConfig(variant=name, latent_dim=latent_dim, width=width, options=options)
    return build_variant(model, shape)


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.named_parameters())


def run_steps(variant, steps: int = 3, batch: int = 8, hp: Hyperparameters | None = None, seed: int = 0):
    """Build, then take ``steps`` train steps on a fixed random real batch; returns (modules, state, outs, before)."""
    torch.manual_seed(seed)
    modules = variant.build()
    before = {name: snapshot(m) for name, m in modules.items()}
    hp = hp or Hyperparameters(lr_g=2e-3, lr_d=2e-3)
    optimizers = variant.make_optimizers(modules, hp)
    state = variant.initial_state()
    gen = torch.Generator().manual_seed(seed)
    real = torch.rand(batch, *variant.image_shape, generator=gen) * 2 - 1
    outs = [variant.train_step(modules, optimizers, real, hp, gen, state) for _ in range(steps)]
    return modules, state, outs, before


def assert_finite_scalars(out: dict) -> None:
    assert {"loss_d", "loss_g", "real_score", "fake_score"} <= set(out)
    for key, value in out.items():
        assert value.dim() == 0 and not value.requires_grad, key
        assert torch.isfinite(value), f"{key} = {value}"
