"""vaegan_attn (seed 000): shapes, options, attention, lr groups, perceptual net, a CPU smoke run."""

import pytest
import torch

from evogan.config import ConfigError
from evogan.models.layers.attention import SelfAttention2d
from evogan.models.layers.inception_features import InceptionFeatures, inception_weights_path
from evogan.models.registry import variant_options
from evogan.hyperparameters import Hyperparameters
from model_helpers import SHAPES, assert_finite_scalars, changed, make_variant, run_steps

CPU = torch.device("cpu")
TINY = {"perceptual_net": "none"}


@pytest.mark.parametrize("shape", SHAPES)
def test_generator_discriminator_and_reconstruction_shapes(shape, gen):
    variant = make_variant("vaegan_attn", shape, **TINY)
    modules = variant.build().eval()
    images = variant.generate(modules, variant.sample_latent(3, gen, CPU))
    assert images.shape == (3, *shape)
    assert images.min() >= -1 and images.max() <= 1
    assert variant.discriminate(modules, images).shape == (3,)
    recon, mu, logvar = variant.reconstruct(modules, images, gen)
    assert recon.shape == images.shape and mu.shape == logvar.shape == (3, 16)
    assert modules["selfsup"](images).shape == images.shape


@pytest.mark.parametrize("resolution,size", [(28, 14), (32, 16), (64, 16)])
def test_attention_sits_at_one_resolution_in_g_and_d(resolution, size, gen):
    variant = make_variant("vaegan_attn", (1, resolution, resolution), **TINY)
    modules = variant.build()
    seen = []
    for name in ("generator", "discriminator"):
        for module in modules[name].modules():
            if isinstance(module, SelfAttention2d):
                module.register_forward_hook(lambda m, args, out: seen.append(out.shape[-1]))
    modules.eval()
    variant.discriminate(modules, variant.generate(modules, variant.sample_latent(2, gen, CPU)))
    assert seen == [size, size]


def test_attention_heads_scale_with_width():
    small = make_variant("vaegan_attn", width=8, **TINY).build()
    full = make_variant("vaegan_attn", width=64, **TINY).build()
    attn = [next(m for m in mods["generator"].modules() if isinstance(m, SelfAttention2d)) for mods in (small, full)]
    assert (attn[0].heads, attn[0].head_dim) == (8, 8)
    assert (attn[1].heads, attn[1].head_dim) == (8, 64)  # the seed's 8 heads x 64
    fixed = make_variant("vaegan_attn", width=8, attn_scale_with_width=False, attn_heads=2, **TINY).build()
    layer = next(m for m in fixed["generator"].modules() if isinstance(m, SelfAttention2d))
    assert (layer.heads, layer.head_dim) == (2, 64)


def test_learning_rates_follow_the_seed_ratios():
    variant = make_variant("vaegan_attn", **TINY)
    modules = variant.build()
    optimizers = variant.make_optimizers(modules, Hyperparameters(lr_g=2e-4, lr_d=3e-4))
    lrs = {group: opt.param_groups[0]["lr"] for group, opt in optimizers.items()}
    assert lrs == pytest.approx({"g": 2e-4, "d": 3e-4, "enc": 1e-3, "d_selfsup": 1e-4})


def test_disabled_parts_weigh_zero():
    assert make_variant("vaegan_attn", **TINY).default_loss_weights["perceptual"] == 0.0
    default = make_variant("vaegan_attn")
    assert default.default_loss_weights["perceptual"] > 0 and default.default_loss_weights["style"] > 0
    plain = make_variant("vaegan_attn", selfsup_net=False, **TINY)
    assert "selfsup" not in plain.build()
    assert plain.default_loss_weights["selfsup"] == 0.0


@pytest.mark.parametrize("options", [{"perceptual_net": "vgg"}, {"perceptual_size": 64},
                                     {"perceptual_layers": ["mixed_9"]}, {"attn_heads": 0},
                                     {"selfsup_mask": 1.0}, {"encoder_lr_scale": 0.0}])
def test_bad_options_raise_config_error(options):
    with pytest.raises(ConfigError, match=f"model.options.{next(iter(options))}"):
        variant_options("vaegan_attn", options)


def test_cpu_smoke_train_steps_change_every_trained_module():
    variant = make_variant("vaegan_attn", (1, 28, 28), **TINY)
    modules, _, outs, before = run_steps(variant, steps=3)
    for out in outs:
        assert_finite_scalars(out)
    for name in ("generator", "discriminator", "encoder", "selfsup"):
        assert changed(before[name], modules[name]), name


def test_inception_perceptual_and_style_terms_backpropagate(gen):
    """One pass through the real FID Inception on two tiny images (slow part kept small)."""
    path = inception_weights_path()
    if not __import__("os").path.isfile(path):
        pytest.skip("FID Inception weights not installed")
    variant = make_variant("vaegan_attn", (1, 28, 28), perceptual_size=75, perceptual_layers=["conv_2"])
    modules = variant.build()
    real = torch.rand(2, 1, 28, 28, generator=gen) * 2 - 1
    z = variant.sample_latent(2, gen, CPU)
    terms = variant.generator_terms(modules, real, z, variant.generate(modules, z), variant_hp(), gen, {})
    assert {"kl", "recon", "perceptual", "style", "selfsup"} <= set(terms)
    assert all(torch.isfinite(value) for value in terms.values())
    (terms["perceptual"] + terms["style"]).backward()
    grads = [p.grad for p in modules["generator"].parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)


def test_inception_features_shapes(gen):
    features = InceptionFeatures(["conv_2", "conv_4"], size=75)(torch.rand(1, 3, 32, 32, generator=gen) * 2 - 1)
    assert [tuple(f.shape) for f in features] == [(1, 64, 35, 35), (1, 192, 15, 15)]
    with pytest.raises(ValueError):
        InceptionFeatures(["conv_2"], size=64)


def variant_hp() -> Hyperparameters:
    return Hyperparameters(lr_g=2e-4, lr_d=2e-4)


def test_attention_off_builds_no_attention_block_and_trains(gen):
    """The attention ablation of seed 000: same modules otherwise, no SelfAttention2d anywhere."""
    variant = make_variant("vaegan_attn", (1, 28, 28), attention=False, **TINY)
    modules = variant.build()
    assert not any(isinstance(m, SelfAttention2d) for m in modules.modules())
    assert "selfsup" in modules and "encoder" in modules
    modules, _, outs, before = run_steps(variant, steps=2)
    for out in outs:
        assert_finite_scalars(out)
    assert changed(before["generator"], modules["generator"])
