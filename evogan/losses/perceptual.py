"""Perceptual and style losses of Yan et al. (seed 000, Section 3.2, Eqs. 3 and 5).

Both compare lists of feature maps phi_i (one tensor (n, C_i, H_i, W_i) per layer) of a fixed
pretrained network. Each layer's squared error is averaged over its elements (the 1/N_i of the
usual formulation), then summed over layers as in the seed's sum over i.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix (n, C, C) of (n, C, H, W) features, normalised by C * H * W (Gatys et al.)."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def perceptual_loss(features_a: Sequence[torch.Tensor], features_b: Sequence[torch.Tensor]) -> torch.Tensor:
    """Seed 000 Eq. 3: sum_i mean ||phi_i(a) - phi_i(b)||^2."""
    _check(features_a, features_b)
    return sum(F.mse_loss(a, b) for a, b in zip(features_a, features_b))


def style_loss(features_a: Sequence[torch.Tensor], features_b: Sequence[torch.Tensor]) -> torch.Tensor:
    """Seed 000 Eq. 5: sum_i mean ||Gram(phi_i(a)) - Gram(phi_i(b))||^2."""
    _check(features_a, features_b)
    return sum(F.mse_loss(gram_matrix(a), gram_matrix(b)) for a, b in zip(features_a, features_b))


def _check(features_a: Sequence[torch.Tensor], features_b: Sequence[torch.Tensor]) -> None:
    if len(features_a) != len(features_b) or not features_a:
        raise ValueError("feature lists must be non-empty and of equal length")
