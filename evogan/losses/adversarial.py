"""Adversarial losses on discriminator logits: bce (thesis Eq. 4.1), ls (LSGAN) and hinge.

All take D's raw outputs. What an output *means* depends on the loss D was trained with, so
:func:`probability_real` maps it to "probability real" per loss: the sigmoid for bce (thesis
Eq. 4.1, D(x) = sigmoid(logit)) and hinge (a monotone map whose 0.5 is the hinge's decision
boundary), and the LS target mapping clamp(output, 0, 1) for ls (LSGAN targets real 1, fake 0).
Loss-function mutation (E-GAN, Mustangs) switches an individual between these by name.
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


def probability_real(kind: str, outputs: torch.Tensor) -> torch.Tensor:
    """D's probability that each input is real, from raw outputs trained under ``kind``."""
    if kind in ("bce", "hinge"):
        return torch.sigmoid(outputs)
    if kind == "ls":
        return outputs.clamp(0.0, 1.0)
    raise ValueError(f"unknown adversarial loss {kind!r}")


def judged_real(kind: str, outputs: torch.Tensor) -> torch.Tensor:
    """Boolean per input: D's decision "real" (probability above 1/2) under ``kind``'s threshold
    (logit 0 for bce and hinge, output 1/2 for ls)."""
    return probability_real(kind, outputs) > 0.5
