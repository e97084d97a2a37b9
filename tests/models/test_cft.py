"""cft_mr_edge (seed 003): shapes, options, latent sampling, CFT init, a CPU smoke run."""

import pytest
import torch

from evogan.config import ConfigError, ModelConfig
from evogan.models.registry import build_variant, variant_options
from model_helpers import SHAPES, assert_finite_scalars, changed, make_variant, run_steps

CPU = torch.device("cpu")


@pytest.mark.parametrize("shape", SHAPES)
def test_generator_and_discriminator_shapes(shape, gen):
    variant = make_variant("cft_mr_edge", shape, feature_dim=3)
    modules = variant.build().eval()
    images = variant.generate(modules, variant.sample_latent(5, gen, CPU))
    assert images.shape == (5, *shape)
    assert images.min() >= -1 and images.max() <= 1
    assert variant.discriminate(modules, images).shape == (5,)


def test_latent_is_samples_plus_mean_rescaling_offset(gen):
    variant = make_variant("cft_mr_edge", latent_dim=16, mr_range=0.5)
    z = variant.sample_latent(4000, gen, CPU)
    assert z.shape == (4000, 17, 1, 1)
    mu = z[:, -1, 0, 0]
    assert mu.abs().max() <= 0.5 and mu.std() > 0.25  # U(-0.5, 0.5): std 0.289
    assert z[:, :16].std() == pytest.approx(1.0, abs=0.05)
    off = make_variant("cft_mr_edge", latent_dim=16, mean_rescaling=False).sample_latent(8, gen, CPU)
    assert torch.count_nonzero(off[:, -1]) == 0


def test_cft_maps_n_values_to_n_plus_fd_and_starts_as_identity(gen):
    variant = make_variant("cft_mr_edge", latent_dim=16, feature_dim=4)
    generator = variant.build()["generator"]
    assert (generator.cft.in_features, generator.cft.out_features) == (16, 20)
    assert torch.equal(generator.cft.weight[:16], torch.eye(16))
    assert generator.body[0].in_channels == 20


def test_mean_rescaling_shifts_the_latent_after_cft(gen):
    variant = make_variant("cft_mr_edge", latent_dim=8, feature_dim=2)
    generator = variant.build()["generator"].eval()
    seen = []
    generator.body.register_forward_pre_hook(lambda module, args: seen.append(args[0].flatten(1)))
    z = variant.sample_latent(3, gen, CPU)
    generator(z)
    x, mu = z[:, :8, 0, 0], z[:, 8:, 0, 0]
    assert torch.allclose(seen[0], generator.cft(x) + mu, atol=1e-6)


def test_edge_is_a_default_loss_weight():
    variant = make_variant("cft_mr_edge")
    assert variant.default_loss_weights == {"edge": 1.0}


@pytest.mark.parametrize("options", [{"feature_dim": -1}, {"mr_range": 0.0}, {"edge_reduction": "sum"},
                                     {"dropout": 1.0}, {"extra_layers": -2}])
def test_bad_options_raise_config_error(options):
    with pytest.raises(ConfigError, match=f"model.options.{next(iter(options))}"):
        variant_options("cft_mr_edge", options)


def test_unknown_option_raises_config_error():
    with pytest.raises(ConfigError, match="unknown key"):
        build_variant(ModelConfig(variant="cft_mr_edge", options={"fd": 2}), (1, 32, 32))


@pytest.mark.parametrize("reduction", ["pair", "mean"])
def test_cpu_smoke_train_steps_change_weights(reduction):
    variant = make_variant("cft_mr_edge", (1, 28, 28), feature_dim=2, edge_reduction=reduction)
    modules, _, outs, before = run_steps(variant, steps=3)
    for out in outs:
        assert_finite_scalars(out)
    assert changed(before["generator"], modules["generator"])
    assert changed(before["discriminator"], modules["discriminator"])
    assert not torch.equal(before["generator"]["cft.weight"], modules["generator"].cft.weight)


def test_generator_accepts_latents_without_the_mean_rescaling_entry(gen):
    variant = make_variant("cft_mr_edge", latent_dim=16)
    modules = variant.build().eval()
    z = variant.sample_latent(3, gen, CPU)
    z[:, -1] = 0.0
    assert torch.allclose(variant.generate(modules, z[:, :16]), variant.generate(modules, z))


def test_cft_off_feeds_the_sampled_values_and_mu_straight_to_the_body(gen):
    """The CFT ablation of seed 003: no linear map, body input N, z = x + mu (MR on) or x (MR off)."""
    variant = make_variant("cft_mr_edge", latent_dim=8, feature_dim=4, cft=False)
    modules = variant.build().eval()
    generator = modules["generator"]
    assert not any(isinstance(m, torch.nn.Linear) for m in generator.modules())
    assert generator.body[0].in_channels == 8
    seen = []
    generator.body.register_forward_pre_hook(lambda module, args: seen.append(args[0].flatten(1)))
    z = variant.sample_latent(3, gen, CPU)
    generator(z)
    assert torch.allclose(seen[0], z[:, :8, 0, 0] + z[:, 8:, 0, 0])
    modules, _, outs, _ = run_steps(make_variant("cft_mr_edge", (1, 28, 28), cft=False, mean_rescaling=False))
    for out in outs:
        assert_finite_scalars(out)
