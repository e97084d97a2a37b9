"""The thesis' DCGAN pair: layer structure at 64 px and shapes at every supported size."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from evogan.config import ModelConfig
from evogan.models import build_variant


def test_thesis_generator_and_discriminator_at_64px():
    variant = build_variant(ModelConfig(latent_dim=128, width=64, options={"extra_layers": 2}), (3, 64, 64))
    modules = variant.build()
    convs = [m for m in modules["generator"] if isinstance(m, nn.ConvTranspose2d)]
    assert [c.out_channels for c in convs] == [512, 256, 128, 64, 3]
    assert [c.kernel_size for c in convs] == [(4, 4)] * 5
    assert [c.stride for c in convs] == [(1, 1)] + [(2, 2)] * 4
    assert sum(isinstance(m, nn.BatchNorm2d) for m in modules["generator"]) == 4
    assert isinstance(modules["generator"][-1], nn.Tanh)
    assert sum(isinstance(m, nn.Conv2d) for m in modules["discriminator"]) == 7
    z = variant.sample_latent(2, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert z.shape == (2, 128, 1, 1)
    images = variant.generate(modules, z)
    assert images.shape == (2, 3, 64, 64)
    assert variant.discriminate(modules, images).shape == (2,)


@pytest.mark.parametrize("resolution", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_at_every_resolution(resolution, channels):
    variant = build_variant(ModelConfig(latent_dim=16, width=8), (channels, resolution, resolution))
    modules = variant.build()
    z = variant.sample_latent(3, torch.Generator().manual_seed(0), torch.device("cpu"))
    images = variant.generate(modules, z)
    assert images.shape == (3, channels, resolution, resolution)
    assert images.min() >= -1 and images.max() <= 1
    assert variant.discriminate(modules, images).shape == (3,)


@pytest.mark.parametrize("loss", ["bce", "ls", "hinge"])
def test_train_step_updates_both_networks(loss):
    from evogan.hyperparameters import Hyperparameters

    variant = build_variant(ModelConfig(latent_dim=16, width=8), (1, 28, 28))
    torch.manual_seed(0)
    modules = variant.build()
    hp = Hyperparameters(lr_g=1e-3, lr_d=1e-3, loss=loss)
    optimizers = variant.make_optimizers(modules, hp)
    before = {k: v.clone() for k, v in modules.state_dict().items()}
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    scalars = variant.train_step(modules, optimizers, real, hp, torch.Generator().manual_seed(0), {})
    assert set(scalars) == {"loss_d", "loss_g", "real_score", "fake_score"}
    assert all(torch.isfinite(v) for v in scalars.values())
    changed = {k.split(".")[0] for k, v in modules.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {"generator", "discriminator"}
