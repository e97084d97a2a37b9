"""DiffAugment (evogan.models.augment) on real tensors, and train steps with it switched on."""

from __future__ import annotations

import pytest
import torch

from evogan.hyperparameters import Hyperparameters
from evogan.models.augment import AUGMENT_POLICIES, diff_augment, rand_cutout, rand_translation

from tests.models.model_helpers import make_variant, run_steps

POLICIES = [(p,) for p in AUGMENT_POLICIES] + [AUGMENT_POLICIES]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(channels: int = 3, n: int = 4, size: int = 16, dtype=torch.float32) -> torch.Tensor:
    return (torch.rand(n, channels, size, size, generator=gen(123)) * 2 - 1).to(dtype)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("policy", POLICIES)
def test_shape_dtype_kept_and_deterministic(policy, channels):
    for dtype in (torch.float32, torch.float64):
        x = images(channels, dtype=dtype)
        out = diff_augment(x, policy, gen(7))
        assert out.shape == x.shape and out.dtype == dtype
        assert torch.equal(out, diff_augment(x, policy, gen(7)))
        assert not torch.equal(out, x)
    x = images(channels)
    assert not torch.equal(diff_augment(x, policy, gen(7)), diff_augment(x, policy, gen(8)))


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("policy", POLICIES)
def test_gradient_flows_to_the_input(policy, channels):
    x = images(channels).requires_grad_(True)
    weights = torch.rand(x.shape, generator=gen(5))
    (diff_augment(x, policy, gen(3)) * weights).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_empty_policy_is_identity_and_draws_nothing():
    x = images()
    g = gen(11)
    before = g.get_state()
    assert diff_augment(x, (), g) is x
    assert torch.equal(g.get_state(), before)


def test_unknown_policy_is_rejected():
    with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
        diff_augment(images(), ("flip",), gen())


def test_translation_moves_content_with_zero_padding():
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0  # one bright pixel per image
    out = rand_translation(x, gen(0))
    positions = out.reshape(64, -1).argmax(dim=1)
    assert torch.all(out.reshape(64, -1).sum(dim=1) == 1)  # a shift by <= 2 px keeps the pixel
    assert len(set(positions.tolist())) > 1 and (positions != 8 * 16 + 8).any()
    rows, cols = positions // 16, positions % 16
    assert (rows - 8).abs().max() <= 2 and (cols - 8).abs().max() <= 2  # ratio 1/8 of 16 px
    ones = rand_translation(torch.ones(64, 1, 16, 16), gen(0))
    shifted = (rows != 8) | (cols != 8)
    assert (ones[shifted] == 0).any()  # content shifted in from outside is zero


def test_cutout_zeroes_a_square():
    x = torch.ones(16, 3, 16, 16)
    out = rand_cutout(x, gen(1))
    for image in out:
        zero = image[0] == 0
        assert torch.equal(zero, (image == 0).all(dim=0))  # the same region in every channel
        rows, cols = zero.any(dim=1).nonzero().flatten(), zero.any(dim=0).nonzero().flatten()
        assert 1 <= len(rows) <= 8 and 1 <= len(cols) <= 8  # half of 16 px, clipped at the border
        assert zero.sum() == len(rows) * len(cols)  # a rectangle
        assert (image[:, ~zero] == 1).all()
    assert (out == 0).float().mean() > 0.1


@pytest.mark.parametrize("variant_name", ["dcgan", "mspg_sen"])
def test_train_step_with_augment_runs_and_differs(variant_name):
    variant = make_variant(variant_name, shape=(3, 32, 32))
    plain = Hyperparameters(lr_g=2e-3, lr_d=2e-3)
    augmented = plain.replace(augment=AUGMENT_POLICIES)
    modules_a, _, outs_a, _ = run_steps(variant, steps=2, hp=augmented)
    modules_p, _, outs_p, _ = run_steps(variant, steps=2, hp=plain)
    for out in outs_a:
        for key, value in out.items():
            assert value.dim() == 0 and torch.isfinite(value), key
    assert outs_a[0]["loss_d"] != outs_p[0]["loss_d"]
    g_a = dict(modules_a["generator"].named_parameters())
    assert any(not torch.equal(g_a[k], v) for k, v in modules_p["generator"].named_parameters())
    again, _, outs_again, _ = run_steps(variant, steps=2, hp=augmented)
    assert all(torch.equal(a["loss_g"], b["loss_g"]) for a, b in zip(outs_a, outs_again))


def test_hyperparameters_round_trip_augment():
    hp = Hyperparameters(lr_g=1e-3, lr_d=2e-3, augment=("translation", "cutout"))
    saved = hp.to_dict()
    assert saved["augment"] == ["translation", "cutout"]
    assert Hyperparameters.from_dict(saved) == hp
    old = {k: v for k, v in saved.items() if k != "augment"}
    assert Hyperparameters.from_dict(old).augment == ()
