"""The thesis' DCGAN pair (seed 002, section 4.1), generalised to 28/32/64 px and any width.

G: latent (d x 1 x 1) -> ConvTranspose2d stack (kernel 4; stride 1, then 2) with BatchNorm+ReLU
after every layer but the last and Tanh at the end. At 64 px and width 64 this is the thesis'
512/256/128/64/3 stack (5 layers, 3x64x64). At 32 px the first 8w stage is dropped; at 28 px
the first layer has kernel 7 (7x7), then 14, 28.

D: stride-2 4x4 convs with LeakyReLU(0.2) (BatchNorm after the first) down to 4x4 (7x7 at
28 px), ``extra_layers`` stride-1 3x3 convs, and a final conv to one logit; sigmoid of the
logit is the thesis' probability. ``extra_layers: 2`` at 64 px gives the thesis' seven convs.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from evogan.config import ConfigError
from evogan.models.base import GANVariant
from evogan.models.registry import register_variant


@dataclass(frozen=True)
class DCGANOptions:
    extra_layers: int = 0
    """Extra stride-1 3x3 conv layers in D before its last conv (2 at 64 px = thesis' seven)."""
    d_batchnorm: bool = True
    """BatchNorm in D's hidden layers (DCGAN); false for plain LeakyReLU convs."""
    dropout: float = 0.0
    """Dropout before D's last conv."""

    def validate(self) -> None:
        if self.extra_layers < 0:
            raise ConfigError("model.options.extra_layers: must be >= 0")
        if not 0 <= self.dropout < 1:
            raise ConfigError("model.options.dropout: must be in [0, 1)")


def stage_sizes(resolution: int) -> tuple[int, int]:
    """(first feature-map size, number of stride-2 stages) for 28, 32 or 64 px."""
    if resolution == 28:
        return 7, 2
    n_up = {32: 3, 64: 4}[resolution]
    return 4, n_up


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN init: conv weights N(0, 0.02), BatchNorm weight N(1, 0.02), bias 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def dcgan_generator(latent_dim: int, width: int, channels: int, resolution: int) -> nn.Sequential:
    first, n_up = stage_sizes(resolution)
    widths = [width * 2 ** i for i in reversed(range(n_up))]  # e.g. 512, 256, 128, 64
    layers: list[nn.Module] = [nn.ConvTranspose2d(latent_dim, widths[0], first, 1, 0, bias=False),
                               nn.BatchNorm2d(widths[0]), nn.ReLU(True)]
    for c_in, c_out in zip(widths, widths[1:]):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
    layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def dcgan_discriminator(width: int, channels: int, resolution: int, options: DCGANOptions) -> nn.Sequential:
    last, n_down = stage_sizes(resolution)
    widths = [width * 2 ** i for i in range(n_down)]  # e.g. 64, 128, 256, 512
    layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
    norm = (lambda c: nn.BatchNorm2d(c)) if options.d_batchnorm else (lambda c: nn.Identity())
    for c_in, c_out in zip(widths, widths[1:]):
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), norm(c_out), nn.LeakyReLU(0.2, True)]
    for _ in range(options.extra_layers):
        layers += [nn.Conv2d(widths[-1], widths[-1], 3, 1, 1, bias=False), norm(widths[-1]),
                   nn.LeakyReLU(0.2, True)]
    if options.dropout:
        layers.append(nn.Dropout(options.dropout))
    layers += [nn.Conv2d(widths[-1], 1, last, 1, 0, bias=False), nn.Flatten()]
    return nn.Sequential(*layers)


@register_variant
class DCGAN(GANVariant):
    """Thesis baseline GA-GAN pair; BCE by default, any adversarial loss by hyperparameter."""

    name = "dcgan"
    Options = DCGANOptions

    def build(self) -> nn.ModuleDict:
        channels, resolution, _ = self.image_shape
        modules = nn.ModuleDict({
            "generator": dcgan_generator(self.model.latent_dim, self.model.width, channels, resolution),
            "discriminator": dcgan_discriminator(self.model.width, channels, resolution, self.options),
        })
        modules.apply(init_dcgan_weights)
        return modules
