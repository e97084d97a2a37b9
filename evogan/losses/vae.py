"""VAE terms of Yan et al. (seed 000, Section 3.1 Eq. 2 and Section 3.2 Eq. 6).

``kl_divergence`` is the closed-form KL(q(z|x) || N(0, I)) of a diagonal Gaussian posterior,
summed over latent dimensions and averaged over the batch (the usual ELBO normalisation).
``reconstruction_loss`` is Eq. 6, E_x ||x - G(E(x))||^2, averaged per pixel so its weight does
not depend on the image size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)): per-sample sum over dims, batch mean; 0 at mu=0, logvar=0."""
    per_dim = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
    return per_dim.flatten(1).sum(dim=1).mean()


def reconstruction_loss(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Seed 000 Eq. 6: mean squared error between x and G(E(x))."""
    return F.mse_loss(reconstruction, target)
