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


# ----------------------------------------------------------------------------- generator mixtures

MEMBER_BATCH = 256
"""A mixture member draws whole batches of this many images (of ``n`` when smaller, as
:func:`sample_images` would alone) and keeps its share: with BatchNorm on batch statistics, a
member asked for 3 images, or a 540-image share ending in a batch of 28, would not sample as it
does alone."""


def mixture_sample(weights, n: int, gen: torch.Generator, draw) -> torch.Tensor:
    """``n`` uint8 images of a mixture: image j comes from member i with probability
    ``weights[i]`` (drawn with ``gen``); ``draw(i, m)`` returns ``m`` images of member i, of
    which the first ``count_i`` are used (``m``: ``count_i`` rounded up to whole batches of
    ``min(n, MEMBER_BATCH)``)."""
    probs = torch.as_tensor(list(weights), dtype=torch.float64)
    if probs.numel() == 0 or not torch.isfinite(probs).all() or (probs < 0).any() or probs.sum() <= 0:
        raise ValueError(f"mixture weights must be finite, >= 0 and not all 0, got {probs.tolist()}")
    assignment = torch.multinomial(probs / probs.sum(), n, replacement=True, generator=gen)
    out, batch = None, min(n, MEMBER_BATCH)
    for i in range(probs.numel()):
        where = (assignment == i).nonzero().flatten()
        if where.numel() == 0:
            continue
        images = draw(i, -(-where.numel() // batch) * batch)[:where.numel()]
        if out is None:
            out = torch.empty((n, *images.shape[1:]), dtype=images.dtype)
        out[where] = images
    return out


class GeneratorSampler:
    """One generator's modules; ``sample(n, gen)`` -> uint8 images (what ``load_sampler`` returns)."""

    kind = "generator"

    def __init__(self, variant, modules: nn.Module, config=None):
        self.variant, self.modules, self.config = variant, modules, config

    def sample(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return sample_images(self.variant, self.modules, n, gen)


class MixtureSampler:
    """A mixture of generators (one variant): each image comes from member i with probability
    ``weights[i]`` (:func:`mixture_sample`); member i samples with a seed drawn from ``gen``."""

    kind = "mixture"

    def __init__(self, variant, members: list[nn.Module], weights, config=None):
        if len(members) != len(weights) or not members:
            raise ValueError(f"{len(members)} mixture members for {len(weights)} weights")
        self.variant, self.members, self.config = variant, list(members), config
        total = float(sum(weights))
        self.weights = [float(w) / total for w in weights]

    def sample(self, n: int, gen: torch.Generator) -> torch.Tensor:
        seeds = torch.randint(0, 2 ** 62, (len(self.members),), generator=gen).tolist()
        return mixture_sample(self.weights, n, gen, lambda i, m: sample_images(
            self.variant, self.members[i], m, torch.Generator().manual_seed(seeds[i])))
