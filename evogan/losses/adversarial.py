"""Adversarial losses on discriminator logits: bce (thesis Eq. 4.1), ls (LSGAN) and hinge.

All take raw logits; the thesis' sigmoid output is ``torch.sigmoid(logits)``. Loss-function
mutation (E-GAN, Mustangs) switches an individual between these by name.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(kind: str, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Loss the discriminator minimises: real -> 1, fake -> 0."""
    if kind == "bce":
        return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
    if kind == "ls":
        return 0.5 * ((real_logits - 1).pow(2).mean() + fake_logits.pow(2).mean())
    if kind == "hinge":
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    raise ValueError(f"unknown adversarial loss {kind!r}")


def generator_loss(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """Loss the generator minimises (non-saturating for bce)."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    if kind == "ls":
        return 0.5 * (fake_logits - 1).pow(2).mean()
    if kind == "hinge":
        return -fake_logits.mean()
    raise ValueError(f"unknown adversarial loss {kind!r}")
