"""Networks of MSPG-SEN (seed 004): multi-scale progressive generator and the discriminators' shells.

:class:`MSPGGenerator`: z -> linear -> 4x4 (7x7 at 28 px) map; per scale a
:class:`GeneratorStage` (2x nearest upsample, 3x3 conv, BN, LeakyReLU, then ``blocks`` GCTDRN
blocks) with its own 1x1 toRGB; the image is refined progressively,
rgb_s = bilinear_up(rgb_{s/2}) + toRGB_s(h_s) (MSG-GAN / StyleGAN2 "skip" layout), and tanh is
applied at the end. ``forward(z, extras)`` also returns, through ``extras``, the intermediate-scale
image tanh(rgb_s) at ``aux_size`` for AFE's auxiliary discriminator and the DEMA descriptor
pairs for the contrastive loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from evogan.models.dcgan import stage_sizes
from evogan.models.layers.gctdrn import GCTDRNBlock


class GeneratorStage(nn.Module):
    """(2x upsample, 3x3 conv, BN, LeakyReLU) unless first, then GCTDRN blocks; owns a toRGB head."""

    def __init__(self, c_in: int, c_out: int, channels: int, first: bool, blocks: int,
                 heads: int, context: int, reduction: int, dema: bool = True):
        super().__init__()
        self.entry = nn.Identity() if first else nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False),
            nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, True))
        self.blocks = nn.ModuleList(GCTDRNBlock(c_out, heads, context, reduction, dema) for _ in range(blocks))
        self.to_rgb = nn.Conv2d(c_out, channels, 1)

    def forward(self, h: torch.Tensor, pairs: list | None = None) -> torch.Tensor:
        h = self.entry(h)
        for block in self.blocks:
            h = block(h, pairs)
        return h


class MSPGGenerator(nn.Module):
    """Multi-scale progressive generator; ``forward(z, extras)`` fills extras["aux_image"], ["pairs"]."""

    def __init__(self, latent_dim: int, width: int, channels: int, resolution: int, *, blocks: int = 1,
                 width_cap: int = 4, heads: int = 4, context: int = 4, reduction: int = 4,
                 aux_resolution: int = 16, dema: bool = True):
        super().__init__()
        first, n_up = stage_sizes(resolution)
        self.sizes = [first * 2 ** i for i in range(n_up + 1)]
        widths = [width * min(2 ** i, width_cap) for i in reversed(range(len(self.sizes)))]
        self.aux_size = max([s for s in self.sizes[:-1] if s <= aux_resolution] or self.sizes[:1])
        self.input = nn.Sequential(nn.Linear(latent_dim, widths[0] * first * first),
                                   nn.Unflatten(1, (widths[0], first, first)),
                                   nn.BatchNorm2d(widths[0]), nn.LeakyReLU(0.2, True))
        self.stages = nn.ModuleList(
            GeneratorStage(widths[max(i - 1, 0)], widths[i], channels, i == 0, blocks, heads, context, reduction, dema)
            for i in range(len(widths)))

    def forward(self, z: torch.Tensor, extras: dict | None = None) -> torch.Tensor:
        pairs = extras.setdefault("pairs", []) if extras is not None else None
        h, rgb = self.input(z.reshape(z.shape[0], -1)), None
        for size, stage in zip(self.sizes, self.stages):
            h = stage(h, pairs)
            skip = stage.to_rgb(h)
            rgb = skip if rgb is None else F.interpolate(rgb, size=size, mode="bilinear", align_corners=False) + skip
            if extras is not None and size == self.aux_size:
                extras["aux_image"] = torch.tanh(rgb)
        return torch.tanh(rgb)


class FeatureDiscriminator(nn.Module):
    """A Sequential discriminator whose LeakyReLU outputs can be collected (feature matching, Eq. 12)."""

    def __init__(self, body: nn.Sequential):
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor, features: list | None = None) -> torch.Tensor:
        for layer in self.body:
            x = layer(x)
            if features is not None and isinstance(layer, nn.LeakyReLU):
                features.append(x)
        return x


def aux_discriminator(width: int, channels: int, dropout: float) -> nn.Sequential:
    """AFE's small discriminator on intermediate-scale images: 3 convs, dropout, GAP, linear."""
    return nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2, True),
                         nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2, True),
                         nn.Conv2d(2 * width, 4 * width, 4, 2, 1), nn.LeakyReLU(0.2, True),
                         nn.Dropout(dropout), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * width, 1))
