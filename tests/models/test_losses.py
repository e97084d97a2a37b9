"""Unit tests of the seed variants' pure loss functions."""

import pytest
import torch
from torch.distributions import Normal, kl_divergence as torch_kl

from evogan.losses import (edge_loss, feature_matching_loss, gram_matrix, info_nce_loss, kl_divergence,
                           perceptual_loss, reconstruction_loss, sobel_edges, style_loss)


def images(gen, n=4, c=3, size=16):
    return torch.rand(n, c, size, size, generator=gen) * 2 - 1


# ----------------------------------------------------------------------------- edge (seed 003)
@pytest.mark.parametrize("reduction", ["pair", "mean"])
def test_edge_loss_zero_for_identical_images(gen, reduction):
    x = images(gen)
    assert edge_loss(x, x.clone(), reduction).item() == 0.0


def test_edge_loss_positive_and_differentiable(gen):
    fake = images(gen).requires_grad_()
    loss = edge_loss(fake, images(gen))
    loss.backward()
    assert loss.item() > 0 and torch.isfinite(fake.grad).all() and fake.grad.abs().sum() > 0


def test_sobel_detects_a_vertical_step_only_at_the_step():
    x = -torch.ones(1, 1, 8, 8)
    x[..., 4:] = 1.0
    edges = sobel_edges(x)[0, 0]
    assert edges.shape == (8, 8)
    assert edges[:, 3:5].min() == pytest.approx(1.0, abs=1e-3)  # normalised Sobel: a 2-unit step over 2 px
    assert edges[:, :2].max() < 1e-2 and edges[:, 6:].max() < 1e-2


def test_edge_loss_ignores_a_constant_shift_but_not_a_shape_change(gen):
    x = images(gen, c=1)
    assert edge_loss(x + 0.3, x).item() < 1e-8
    assert edge_loss(torch.flip(x, dims=[-1]).roll(3, dims=-2), x).item() > 1e-3


def test_edge_loss_rejects_unknown_reduction(gen):
    with pytest.raises(ValueError):
        edge_loss(images(gen), images(gen), "sum")


# ----------------------------------------------------------------------------- VAE (seed 000)
def test_kl_of_standard_normal_is_zero():
    mu, logvar = torch.zeros(5, 16), torch.zeros(5, 16)
    assert kl_divergence(mu, logvar).item() == 0.0


def test_kl_matches_torch_distributions(gen):
    mu, logvar = torch.randn(6, 8, generator=gen), torch.randn(6, 8, generator=gen) * 0.5
    expected = torch_kl(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(dim=1).mean()
    assert torch.allclose(kl_divergence(mu, logvar), expected, atol=1e-5)
    assert kl_divergence(mu, logvar).item() > 0


def test_reconstruction_loss(gen):
    x = images(gen)
    assert reconstruction_loss(x, x).item() == 0.0
    assert torch.isclose(reconstruction_loss(x + 0.5, x), torch.tensor(0.25))


# ----------------------------------------------------------------------------- perceptual / style (seed 000)
def test_gram_matrix_shape_symmetry_and_value(gen):
    f = torch.randn(2, 5, 4, 3, generator=gen)
    g = gram_matrix(f)
    assert g.shape == (2, 5, 5)
    assert torch.allclose(g, g.transpose(1, 2))
    assert torch.linalg.eigvalsh(g).min() > -1e-6  # positive semi-definite
    ones = torch.ones(1, 2, 3, 3)
    assert torch.allclose(gram_matrix(ones), torch.full((1, 2, 2), 9.0 / 18.0))


def test_style_is_spatially_invariant_perceptual_is_not(gen):
    feats = [torch.randn(2, 4, 6, 6, generator=gen), torch.randn(2, 8, 3, 3, generator=gen)]
    shuffled = [f.flatten(2)[..., torch.randperm(f.shape[2] * f.shape[3], generator=gen)].reshape(f.shape)
                for f in feats]
    assert style_loss(feats, [f.clone() for f in feats]).item() == 0.0
    assert perceptual_loss(feats, [f.clone() for f in feats]).item() == 0.0
    assert style_loss(feats, shuffled).item() < 1e-10
    assert perceptual_loss(feats, shuffled).item() > 0.1
    assert style_loss(feats, [2 * f for f in feats]).item() > 0


def test_perceptual_rejects_mismatched_lists(gen):
    with pytest.raises(ValueError):
        perceptual_loss([torch.zeros(1, 1, 2, 2)], [])


# ----------------------------------------------------------------------------- feature matching (seed 004)
def test_feature_matching_zero_for_same_batch_statistics(gen):
    real = [torch.randn(8, 4, 5, 5, generator=gen), torch.randn(8, 16, generator=gen)]
    permuted = [f[torch.randperm(8, generator=gen)] for f in real]
    assert feature_matching_loss(real, permuted).item() < 1e-12


def test_feature_matching_value_and_gradients_reach_fake_only(gen):
    real = [torch.zeros(4, 3, requires_grad=True)]
    fake = [torch.ones(4, 3, requires_grad=True)]
    loss = feature_matching_loss(real, fake)
    assert loss.item() == pytest.approx(1.0)
    loss.backward()
    assert real[0].grad is None and fake[0].grad.abs().sum() > 0


# ----------------------------------------------------------------------------- contrastive (seed 004)
def test_info_nce_low_for_matched_high_for_mismatched(gen):
    anchors = torch.randn(16, 32, generator=gen)
    matched = info_nce_loss(anchors, anchors * 3.0, temperature=0.1)
    shuffled = info_nce_loss(anchors, anchors.roll(1, dims=0), temperature=0.1)
    assert matched.item() < 0.05 and shuffled.item() > 2.0


def test_info_nce_checks_arguments(gen):
    with pytest.raises(ValueError):
        info_nce_loss(torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError):
        info_nce_loss(torch.zeros(4, 3), torch.zeros(4, 3), temperature=0.0)
