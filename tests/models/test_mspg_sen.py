"""mspg_sen (seed 004): shapes, options, GCTDRN/DEMA, EMA generator, APFL, a CPU smoke run."""

import dataclasses

import pytest
import torch

from evogan.config import ConfigError
from evogan.models.layers import DEMA, GCTDRNBlock
from evogan.models.mspg_sen import MSPGOptions, apfl_adjust, apfl_lr_factors, apfl_observe, instance_noise
from evogan.models.registry import variant_options
from evogan.hyperparameters import Hyperparameters
from model_helpers import SHAPES, assert_finite_scalars, changed, make_variant, run_steps

CPU = torch.device("cpu")


@pytest.mark.parametrize("shape", SHAPES)
def test_generator_and_discriminator_shapes(shape, gen):
    variant = make_variant("mspg_sen", shape)
    modules = variant.build().eval()
    images = variant.generate(modules, variant.sample_latent(3, gen, CPU))
    assert images.shape == (3, *shape)
    assert images.min() >= -1 and images.max() <= 1
    assert variant.discriminate(modules, images).shape == (3,)


@pytest.mark.parametrize("resolution,aux_size", [(28, 14), (32, 16), (64, 16)])
def test_generator_exposes_intermediate_scale_and_contrastive_pairs(resolution, aux_size, gen):
    variant = make_variant("mspg_sen", (3, resolution, resolution), blocks_per_stage=2)
    modules = variant.build()
    extras: dict = {}
    modules["generator"](variant.sample_latent(4, gen, CPU), extras)
    assert extras["aux_image"].shape == (4, 3, aux_size, aux_size)
    assert len(extras["pairs"]) == 2 * len(modules["generator"].stages)
    assert all(a.shape == b.shape and a.shape[0] == 4 for a, b in extras["pairs"])
    logits = modules["discriminator_aux"](extras["aux_image"])
    assert logits.reshape(-1).shape == (4,)


def test_dema_and_gctdrn_keep_shape_and_heads_divide_channels(gen):
    x = torch.randn(2, 12, 8, 8, generator=gen)
    dema = DEMA(12, heads=8, context=3)
    assert dema.heads == 6  # largest divisor of 12 that is <= 8
    pairs: list = []
    assert dema(x, pairs).shape == x.shape and len(pairs) == 1
    block = GCTDRNBlock(12, heads=4)
    assert block(x).shape == x.shape


def test_generate_uses_the_generator_until_the_ema_has_been_updated(gen):
    variant = make_variant("mspg_sen", (1, 28, 28))
    modules = variant.build().eval()
    with torch.no_grad():  # as a GA mutation would: the generator changes, the EMA does not
        for param in modules["generator"].parameters():
            param.add_(0.01)
    z = variant.sample_latent(2, gen, CPU)
    assert int(modules["generator_ema"].ema_updates) == 0
    assert torch.equal(variant.generate(modules, z), modules["generator"](z))


def test_ema_generator_is_frozen_used_by_generate_and_tracks_training(gen):
    variant = make_variant("mspg_sen", (1, 28, 28), ema_decay=0.999)
    modules, state, _, before = run_steps(variant, steps=3)
    assert int(modules["generator_ema"].ema_updates) == 3
    ema = modules["generator_ema"]
    assert all(not p.requires_grad for p in ema.parameters())
    groups = variant.parameter_groups(modules)
    assert set(groups) == {"g", "d", "d_aux"}
    assert not {id(p) for p in ema.parameters()} & {id(p) for ps in groups.values() for p in ps}
    assert changed(before["generator_ema"], ema)
    assert state["step"] == 3
    z = variant.sample_latent(2, gen, CPU)
    modules.eval()
    assert torch.equal(variant.generate(modules, z), ema(z))
    assert not torch.equal(variant.generate(modules, z), modules["generator"](z))
    plain = make_variant("mspg_sen", ema_decay=0.0)
    assert "generator_ema" not in plain.build()


def test_optimizers_are_adamw_with_d_groups_on_lr_d():
    variant = make_variant("mspg_sen", weight_decay=0.05)
    optimizers = variant.make_optimizers(variant.build(), Hyperparameters(lr_g=1e-4, lr_d=3e-4))
    assert all(isinstance(opt, torch.optim.AdamW) for opt in optimizers.values())
    assert {g: o.param_groups[0]["lr"] for g, o in optimizers.items()} == pytest.approx(
        {"g": 1e-4, "d": 3e-4, "d_aux": 3e-4})
    assert optimizers["g"].param_groups[0]["weight_decay"] == 0.05


def test_instance_noise_follows_the_staged_linear_plan():
    options = MSPGOptions(stage_steps=(10, 30), noise_start=0.2, noise_late=0.05)
    assert instance_noise(0, options) == instance_noise(9, options) == 0.2
    assert instance_noise(20, options) == pytest.approx(0.1)
    assert instance_noise(30, options) == instance_noise(1000, options) == 0.05


def apfl_state(**values):
    state = make_variant("mspg_sen").initial_state()
    state.update(values)
    return state


def test_apfl_slows_the_side_that_is_ahead():
    options = MSPGOptions(apfl_gamma=0.5, apfl_patience=0)
    strong_d = apfl_state(d_acc_ema=0.97, quality_ema=1.0)
    apfl_adjust(strong_d, options)
    assert apfl_lr_factors(strong_d) == (1.0, 0.5) and strong_d["fm_scale"] == 1.5
    strong_g = apfl_state(d_acc_ema=0.3, quality_ema=1.0)
    apfl_adjust(strong_g, options)
    assert apfl_lr_factors(strong_g) == (0.5, 1.0) and strong_g["fm_scale"] == 1.0
    balanced = apfl_state(d_acc_ema=0.7, fm_scale=2.25)
    apfl_adjust(balanced, options)
    assert apfl_lr_factors(balanced) == (1.0, 1.0) and balanced["fm_scale"] == pytest.approx(1.5)


def test_apfl_decays_both_learning_rates_when_quality_stagnates():
    options = MSPGOptions(apfl_gamma=0.5, apfl_patience=2, apfl_tolerance=0.01)
    state = apfl_state(d_acc_ema=0.7)
    apfl_observe(state, 0.7, 1.0)
    for quality in (1.0, 0.995, 0.999):  # first sets the best, then two stale decisions
        state["quality_ema"] = quality
        apfl_adjust(state, options)
    assert state["lr_scale"] == 0.5 and state["lr_decays"] == 1 and state["stale"] == 0
    assert apfl_lr_factors(state) == (0.5, 0.5)
    assert all(isinstance(v, (int, float)) for v in state.values())


def test_apfl_runs_inside_training_and_sets_optimizer_learning_rates():
    variant = make_variant("mspg_sen", (1, 28, 28), stage_steps=[0, 0], apfl_interval=1,
                           apfl_acc_high=0.01, apfl_acc_low=0.0, apfl_patience=0)
    hp = Hyperparameters(lr_g=1e-3, lr_d=1e-3)
    modules, state, outs, _ = run_steps(variant, steps=2, hp=hp)
    assert state["balance"] == 0.25 and state["fm_scale"] == pytest.approx(2.25)
    optimizers = variant.make_optimizers(modules, hp)
    variant.train_step(modules, optimizers, torch.zeros(4, 1, 28, 28), hp, torch.Generator().manual_seed(1), state)
    assert optimizers["d"].param_groups[0]["lr"] == pytest.approx(1e-3 * 0.25)
    assert optimizers["g"].param_groups[0]["lr"] == pytest.approx(1e-3)


@pytest.mark.parametrize("options", [{"dropout": 1.0}, {"ema_decay": 0.3}, {"stage_steps": [5, 1]},
                                     {"stage_steps": [5]}, {"apfl_gamma": 1.0}, {"dema_heads": 0},
                                     {"apfl_acc_low": 0.95}, {"contrastive_temperature": 0.0}])
def test_bad_options_raise_config_error(options):
    with pytest.raises(ConfigError, match=f"model.options.{next(iter(options))}"):
        variant_options("mspg_sen", options)


def test_option_defaults_follow_the_seed():
    defaults = MSPGOptions()
    assert defaults.ema_decay == 0.9999 and defaults.dropout == 0.1
    assert make_variant("mspg_sen").default_loss_weights == {"aux": 0.5, "fm": 1.0, "contrastive": 0.1}
    assert dataclasses.is_dataclass(defaults)


@pytest.mark.parametrize("loss", ["bce", "hinge"])
def test_cpu_smoke_train_steps_change_weights(loss):
    variant = make_variant("mspg_sen", (3, 32, 32))
    hp = Hyperparameters(lr_g=2e-3, lr_d=2e-3, loss=loss)
    modules, state, outs, before = run_steps(variant, steps=3, hp=hp)
    for out in outs:
        assert_finite_scalars(out)
    for name in ("generator", "discriminator", "discriminator_aux"):
        assert changed(before[name], modules[name]), name
    assert 0.0 <= state["d_acc_ema"] <= 1.0 and state["quality_ema"] >= 0.0


def test_dema_off_keeps_the_gctdrn_blocks_without_attention_or_contrastive_pairs(gen):
    """The DEMA ablation of seed 004: GCTDRN blocks stay, DEMA and its contrastive term go."""
    variant = make_variant("mspg_sen", (1, 28, 28), dema=False)
    modules = variant.build()
    blocks = [m for m in modules["generator"].modules() if isinstance(m, GCTDRNBlock)]
    assert blocks and all(block.attention is None for block in blocks)
    assert not any(isinstance(m, DEMA) for m in modules.modules())
    extras: dict = {}
    modules["generator"](variant.sample_latent(2, gen, CPU), extras)
    assert extras["pairs"] == []
    modules, _, outs, before = run_steps(variant, steps=2)
    assert all(torch.isfinite(out["loss_g"]) for out in outs)
    assert changed(before["generator"], modules["generator"])


def test_afe_off_builds_no_auxiliary_discriminator_and_ignores_lambda_aux():
    """The AFE ablation of seed 004: no discriminator_aux, no d_aux optimiser, lambda_aux 0."""
    variant = make_variant("mspg_sen", (1, 28, 28), afe=False)
    modules = variant.build()
    assert "discriminator_aux" not in modules
    hp = Hyperparameters(lr_g=2e-3, lr_d=2e-3, loss_weights={"aux": 0.5})
    assert set(variant.make_optimizers(modules, hp)) == {"g", "d"}
    assert variant.loss_weight("aux", hp) == 0.0 and variant.loss_weight("fm", hp) == 1.0
    modules, _, outs, _ = run_steps(variant, steps=2, hp=hp)
    assert all(torch.isfinite(out["loss_d"]) for out in outs)
