"""CFT + MR + edge loss GAN of Song & Kim (seed 003), on the thesis' DCGAN bodies.

* **Common Feature Training** (Section 3.1, Eq. 1): N = ``model.latent_dim`` values
  x ~ N(0, I) pass through a learned linear layer to an (N + FD)-dim latent Z, FD =
  ``feature_dim``. The layer belongs to the generator (parameter group ``g``), so it is
  trained by the generator loss and evolved with G.
* **Mean Rescaling** (Section 3.2, Eq. 2): z = Z + mu with one mu ~ U(-r, r) per sample
  (seed: r = 1), added *after* CFT as the seed says. mu is drawn in ``sample_latent`` from the
  caller's ``torch.Generator`` and travels as the last latent entry, so a latent tensor is
  (n, N + 1, 1, 1) = (x, mu) and ``generate`` stays a pure function of it.
* **Edge loss** (Section 3.3, Eq. 3): squared difference of Sobel edge maps of G(z) and x,
  added to the *generator* loss with weight ``edge``. Eq. 3 writes it inside the minimax value,
  but D has no parameters in that term, so only G can act on it.
* G and D are the DCGAN bodies of :mod:`evogan.models.dcgan` (G's input is N + FD).

Choices where the seed is silent:

* CFT initialisation: the first N output rows start as the identity (CFT begins as a
  pass-through of the sampled values); the FD common-feature rows start at N(0, 0.02) like the
  other DCGAN weights. With the DCGAN init on every row, Z would start with ~0.02 * sqrt(N)
  spread and the generator would see nearly constant inputs.
* FD: the seed starts at 1 and raises it until training is stable; the default is 1.
* Seed training settings (Adam, lr 1e-2, batch 32) are *configuration*, not class defaults
  (``configs/cft_limited.yaml``): learning rates belong to ``train`` and are mutated per
  individual by evolution, and 1e-2 is far outside the range the other variants use.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from evogan.config import ConfigError
from evogan.losses.edge import EDGE_REDUCTIONS, edge_loss
from evogan.models.base import GANVariant
from evogan.models.dcgan import DCGANOptions, dcgan_discriminator, dcgan_generator, init_dcgan_weights
from evogan.models.registry import register_variant


@dataclass(frozen=True)
class CFTOptions:
    cft: bool = True
    """Common Feature Training (seed 003 Eq. 1). false (ablation, ``configs/studies/seed003_cft.yaml``):
    no CFT layer, the N sampled values (+ mu when Mean Rescaling is on) go straight into the
    DCGAN body, and ``feature_dim`` is ignored."""
    feature_dim: int = 1
    """FD of seed 003 Section 3.1: extra common-feature dimensions CFT adds to the N sampled."""
    mean_rescaling: bool = True
    """Mean Rescaling (seed 003 Eq. 2): add mu ~ U(-mr_range, mr_range) to each latent."""
    mr_range: float = 1.0
    """Half-width of the uniform mean added by Mean Rescaling (seed: 1, i.e. U(-1, 1))."""
    edge_reduction: str = "pair"
    """Edge loss over an unpaired batch: pair (seed's literal Eq. 3) or mean (batch-mean edge maps)."""
    extra_layers: int = 0
    """As DCGAN: extra stride-1 3x3 convs in D."""
    d_batchnorm: bool = True
    """As DCGAN: BatchNorm in D's hidden layers."""
    dropout: float = 0.0
    """As DCGAN: dropout before D's last conv."""

    def validate(self) -> None:
        if self.feature_dim < 0:
            raise ConfigError(f"model.options.feature_dim: must be >= 0, got {self.feature_dim}")
        if not self.mr_range > 0:
            raise ConfigError(f"model.options.mr_range: must be > 0, got {self.mr_range}")
        if self.edge_reduction not in EDGE_REDUCTIONS:
            raise ConfigError(f"model.options.edge_reduction: must be one of {', '.join(EDGE_REDUCTIONS)}, "
                              f"got {self.edge_reduction!r}")
        self.dcgan_options().validate()

    def dcgan_options(self) -> DCGANOptions:
        return DCGANOptions(extra_layers=self.extra_layers, d_batchnorm=self.d_batchnorm, dropout=self.dropout)


class CFTGenerator(nn.Module):
    """(x, mu) -> CFT linear map (Eq. 1) -> + mu (Eq. 2) -> DCGAN generator body.

    ``cft=False`` (ablation) leaves the linear map out: z = x + mu.
    """

    def __init__(self, latent_dim: int, feature_dim: int, width: int, channels: int, resolution: int,
                 cft: bool = True):
        super().__init__()
        self.latent_dim = latent_dim
        self.cft = nn.Linear(latent_dim, latent_dim + feature_dim) if cft else nn.Identity()
        self.body = dcgan_generator(latent_dim + (feature_dim if cft else 0), width, channels, resolution)

    def reset_parameters(self) -> None:
        """DCGAN init for the body; CFT = [identity; N(0, 0.02)] with zero bias (see module doc)."""
        self.body.apply(init_dcgan_weights)
        if not isinstance(self.cft, nn.Linear):
            return
        with torch.no_grad():
            nn.init.normal_(self.cft.weight, 0.0, 0.02)
            self.cft.weight[: self.latent_dim].copy_(torch.eye(self.latent_dim))
            self.cft.bias.zero_()

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        flat = latent.reshape(latent.shape[0], -1)
        x = flat[:, : self.latent_dim]
        # (n, N) latents without the Mean Rescaling entry are accepted as mu = 0.
        mu = flat[:, self.latent_dim:self.latent_dim + 1] if flat.shape[1] > self.latent_dim else 0.0
        z = self.cft(x) + mu
        return self.body(z[:, :, None, None])


@register_variant
class CFTMREdge(GANVariant):
    """Seed 003's limited-data GAN: CFT (Eq. 1), Mean Rescaling (Eq. 2) and edge loss (Eq. 3)."""

    name = "cft_mr_edge"
    Options = CFTOptions
    default_loss_weights = {"edge": 1.0}

    def build(self) -> nn.ModuleDict:
        channels, resolution, _ = self.image_shape
        generator = CFTGenerator(self.model.latent_dim, self.options.feature_dim, self.model.width,
                                 channels, resolution, cft=self.options.cft)
        generator.reset_parameters()
        discriminator = dcgan_discriminator(self.model.width, channels, resolution, self.options.dcgan_options())
        discriminator.apply(init_dcgan_weights)
        return nn.ModuleDict({"generator": generator, "discriminator": discriminator})

    def sample_latent(self, n: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
        """(n, N + 1, 1, 1): N values x ~ N(0, I), then the Mean Rescaling mu ~ U(-r, r) (0 if off)."""
        x = torch.randn(n, self.model.latent_dim, generator=gen, device="cpu")
        mu = (torch.rand(n, 1, generator=gen, device="cpu") * 2 - 1) * self.options.mr_range
        if not self.options.mean_rescaling:
            mu = torch.zeros_like(mu)
        return torch.cat([x, mu], dim=1)[:, :, None, None].to(device)

    def generator_terms(self, modules, real, z, fake, hp, gen, state):
        """Edge loss (seed 003 Eq. 3) between G(z) and the real batch, unweighted."""
        return {"edge": edge_loss(fake, real, self.options.edge_reduction)}
