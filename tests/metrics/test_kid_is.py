"""KID (Binkowski et al. 2018) and IS (Salimans et al. 2016) against torch-fidelity's formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from evogan.metrics.inception_score import inception_score, posterior_score
from evogan.metrics.kid import kernel_inception_distance, mmd2_unbiased


def test_kid_equals_torch_fidelity_on_the_same_features():
    metric_kid = pytest.importorskip("torch_fidelity.metric_kid")
    rng = np.random.default_rng(0)
    a = torch.from_numpy(rng.standard_normal((300, 64)).astype(np.float32))
    b = torch.from_numpy((rng.standard_normal((250, 64)) * 1.2 + 0.1).astype(np.float32))
    theirs = metric_kid.kid_features_to_metric(a, b, kid_subsets=30, kid_subset_size=200, verbose=False,
                                               kid_kernel="poly", kid_kernel_poly_degree=3,
                                               kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1, rng_seed=2020)
    mean, std = kernel_inception_distance(a, b, subsets=30, subset_size=200)
    assert mean == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-5)
    assert std == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-4)


def test_kid_is_unbiased_around_zero_for_one_distribution():
    """Same distribution: the unbiased MMD^2 averages to ~0 (and can be negative); a shift is clearly > 0."""
    rng = np.random.default_rng(1)
    same = [mmd2_unbiased(rng.standard_normal((50, 16)), rng.standard_normal((50, 16))) for _ in range(200)]
    shifted = [mmd2_unbiased(rng.standard_normal((50, 16)), rng.standard_normal((50, 16)) + 0.5) for _ in range(20)]
    assert min(same) < 0 < max(same)
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(len(same))
    assert np.mean(shifted) > 20 * np.std(same) / np.sqrt(len(same))


def test_kid_caps_subset_size_at_the_sample_count():
    rng = np.random.default_rng(2)
    mean, _ = kernel_inception_distance(rng.standard_normal((30, 8)), rng.standard_normal((40, 8)) + 1, subsets=5)
    assert mean > 0
    with pytest.raises(ValueError):
        kernel_inception_distance(np.zeros((1, 8)), np.zeros((5, 8)))


def test_inception_score_equals_torch_fidelity():
    metric_isc = pytest.importorskip("torch_fidelity.metric_isc")
    logits = torch.randn(500, 1008, generator=torch.Generator().manual_seed(0)) * 3
    theirs = metric_isc.isc_features_to_metric(logits, splits=10, shuffle=True, rng_seed=2020)
    mean, std = inception_score(logits)
    assert mean == pytest.approx(theirs["inception_score_mean"], rel=1e-12)
    assert std == pytest.approx(theirs["inception_score_std"], rel=1e-9)


def test_inception_score_bounds():
    """Uniform posteriors give IS = 1; confident, evenly spread classes give IS = number of classes."""
    assert inception_score(torch.zeros(100, 10))[0] == pytest.approx(1.0)
    confident = torch.full((1000, 10), -50.0)
    confident[torch.arange(1000), torch.arange(1000) % 10] = 50.0
    assert inception_score(confident, shuffle=False)[0] == pytest.approx(10.0, rel=1e-6)


def test_posterior_score_on_constructed_posteriors():
    """exp(E KL(p(y|x) || p(y))): confident and balanced over k classes -> k; all alike -> 1."""
    k = 10
    confident = torch.eye(k).repeat(20, 1)                         # 200 one-hot rows, 20 per class
    assert posterior_score(confident, splits=1)[0] == pytest.approx(k)
    assert posterior_score(confident[:100], splits=1, shuffle=False)[0] == pytest.approx(k)
    assert posterior_score(torch.full((200, k), 1.0 / k), splits=1)[0] == pytest.approx(1.0)  # unsure
    # one class
    assert posterior_score(torch.eye(k)[torch.zeros(200, dtype=torch.long)], splits=1)[0] == pytest.approx(1.0)
    half = torch.eye(k)[torch.arange(200) % 5]                      # confident, 5 of 10 classes
    assert posterior_score(half, splits=1)[0] == pytest.approx(5.0)
    # the same number as the IS formula on logits whose softmax are these posteriors
    logits = torch.randn(300, k, generator=torch.Generator().manual_seed(0)) * 3
    assert posterior_score(logits.softmax(dim=1)) == pytest.approx(inception_score(logits), rel=1e-9)
    with pytest.raises(ValueError, match="probabilities"):
        posterior_score(torch.rand(20, k) + 1)
