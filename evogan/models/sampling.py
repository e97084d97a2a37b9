"""Sampling and scoring a variant's modules outside of training.

BatchNorm layers run on batch statistics (as during training) without updating their running
estimates; everything else (dropout, EMA) runs in eval mode. Running estimates are never used:
in ``ga`` mode nothing would update them, so batch statistics are the one rule that means the
same thing in both modes and matches how D sees real and fake batches while training.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn

from evogan.data import to_uint8

_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


@contextlib.contextmanager
def batch_stat_mode(modules: nn.Module) -> Iterator[None]:
    """Eval mode, except BatchNorm uses batch statistics and leaves running stats unchanged."""
    was_training = {m: m.training for m in modules.modules()}
    momenta = {}
    modules.eval()
    for module in modules.modules():
        if isinstance(module, _BATCH_NORMS):
            momenta[module] = module.momentum
            module.momentum = 0.0
            module.train()
    try:
        yield
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        for module, training in was_training.items():
            module.training = training


@torch.inference_mode()
def sample_images(variant, modules: nn.Module, n: int, gen: torch.Generator, batch_size: int = 256) -> torch.Tensor:
    """``n`` generated images as uint8 (n, C, H, W) on the CPU, latents drawn with ``gen``."""
    device = next(modules.parameters()).device
    chunks = []
    with batch_stat_mode(modules):
        for start in range(0, n, batch_size):
            z = variant.sample_latent(min(batch_size, n - start), gen, device)
            chunks.append(to_uint8(variant.generate(modules, z)).cpu())
    return torch.cat(chunks)
