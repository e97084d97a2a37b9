"""Feature-matching loss (MSPG-SEN, seed 004 Eq. 12; Salimans et al. 2016).

L_FM = sum_i 1/N_i ||phi_i(x) - phi_i(G(z))||^2 over discriminator layers i. Real and generated
images in a minibatch are unpaired, so, as in Salimans et al., the statistic matched is the
batch mean of each layer's features; 1/N_i is the mean over that layer's elements.
"""

from __future__ import annotations

from typing import Sequence

import torch


def feature_matching_loss(real_features: Sequence[torch.Tensor],
                          fake_features: Sequence[torch.Tensor]) -> torch.Tensor:
    """Sum over layers of the mean squared difference of batch-mean features (real detached)."""
    if len(real_features) != len(fake_features) or not real_features:
        raise ValueError("feature lists must be non-empty and of equal length")
    total = fake_features[0].new_zeros(())
    for real, fake in zip(real_features, fake_features):
        total = total + (real.detach().mean(dim=0) - fake.mean(dim=0)).pow(2).mean()
    return total
