"""Differentiable augmentation of the discriminator's inputs: DiffAugment (Zhao et al. 2020,
"Differentiable Augmentation for Data-Efficient GAN Training", NeurIPS).

The thesis trains on limited data with data augmentation. Augmenting only the real images
would teach G to produce augmented images; DiffAugment instead applies the same random,
differentiable transformation T to every input of D (real and fake, in D's and in G's update),
so D never sees an unaugmented image and G's gradient flows back through T.

Policies, as in the reference implementation (images in [-1, 1], NCHW):

* ``color``: brightness (+ U(-0.5, 0.5)), saturation (x scaled around its channel mean by
  U(0, 2); a no-op on 1-channel images) and contrast (x scaled around its image mean by
  U(0.5, 1.5)), one draw per image.
* ``translation``: shift by up to 1/8 of the image size in each direction, zero-padded.
* ``cutout``: one random square of half the image size set to 0.

Random numbers come from the explicit ``gen`` on the CPU and are then moved to ``x``'s device,
so augmentation is reproducible from the seed on any device (the codebase's convention).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

AUGMENT_POLICIES = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _uniform(n: int, gen: torch.Generator, x: torch.Tensor) -> torch.Tensor:
    """(n, 1, 1, 1) U(0, 1) drawn from ``gen`` on the CPU, as x's dtype and device."""
    return torch.rand(n, 1, 1, 1, generator=gen, device="cpu").to(x)


def _randint(low: int, high: int, n: int, gen: torch.Generator) -> torch.Tensor:
    """(n, 1, 1) integers in [low, high) drawn from ``gen`` on the CPU."""
    return torch.randint(low, high, (n, 1, 1), generator=gen, device="cpu")


def rand_color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """DiffAugment's brightness, saturation (RGB only) and contrast, one draw per image."""
    n = x.shape[0]
    x = x + (_uniform(n, gen, x) - 0.5)
    if x.shape[1] > 1:
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (_uniform(n, gen, x) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(n, gen, x) + 0.5) + mean


def rand_translation(x: torch.Tensor, gen: torch.Generator, ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """DiffAugment's translation: shift each image by up to ``ratio`` of its size, zero-padded.

    A gather from the 1-pixel zero-padded image (indices past the edge land on the padding),
    so the output is differentiable with respect to ``x``.
    """
    n, c, h, w = x.shape
    shift_h, shift_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = _randint(-shift_h, shift_h + 1, n, gen)
    dx = _randint(-shift_w, shift_w + 1, n, gen)
    rows = torch.clamp(torch.arange(h).view(1, h, 1) + dy + 1, 0, h + 1)
    cols = torch.clamp(torch.arange(w).view(1, 1, w) + dx + 1, 0, w + 1)
    index = (rows * (w + 2) + cols).reshape(n, 1, h * w).expand(n, c, h * w).to(x.device)
    padded = F.pad(x, [1, 1, 1, 1]).reshape(n, c, (h + 2) * (w + 2))
    return padded.gather(2, index).reshape(n, c, h, w)


def rand_cutout(x: torch.Tensor, gen: torch.Generator, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """DiffAugment's cutout: zero one square of ``ratio`` of the image size per image (its centre
    uniform over the image, the square clipped at the border)."""
    n, _, h, w = x.shape
    size_h, size_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = _randint(0, h + (1 - size_h % 2), n, gen) - size_h // 2
    left = _randint(0, w + (1 - size_w % 2), n, gen) - size_w // 2
    rows = torch.arange(h).view(1, h, 1)
    cols = torch.arange(w).view(1, 1, w)
    inside = (rows >= top) & (rows < top + size_h) & (cols >= left) & (cols < left + size_w)
    return x * (~inside).unsqueeze(1).to(x)


_AUGMENTS = {"color": rand_color, "translation": rand_translation, "cutout": rand_cutout}


def diff_augment(x: torch.Tensor, policy: tuple[str, ...], gen: torch.Generator) -> torch.Tensor:
    """DiffAugment (Zhao et al. 2020): apply each policy of ``policy`` in order to the NCHW batch ``x``.

    Differentiable with respect to ``x``; shape and dtype are kept. An empty policy returns ``x``
    itself and draws nothing from ``gen``. Unknown names raise ValueError.
    """
    if not policy:
        return x
    for name in policy:
        if name not in _AUGMENTS:
            raise ValueError(f"unknown augmentation {name!r} (known: {', '.join(AUGMENT_POLICIES)})")
        x = _AUGMENTS[name](x, gen)
    return x
