"""Fréchet distance and streaming statistics against closed forms and numpy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from evogan.metrics.fid import FeatureStats, frechet_distance, sqrtm_psd


def random_psd(rng: np.random.Generator, dim: int, rank: int | None = None) -> np.ndarray:
    a = rng.standard_normal((dim, rank or dim))
    return a @ a.T / (rank or dim)


def test_streaming_stats_equal_numpy_mean_and_cov():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1000, 16)) * 3 + 5
    stats = FeatureStats(16)
    for chunk in np.array_split(x, 7):
        stats.update(torch.from_numpy(chunk).float() if len(chunk) % 2 else chunk)
    x32 = np.concatenate([c.astype(np.float32).astype(np.float64) if len(c) % 2 else c for c in np.array_split(x, 7)])
    np.testing.assert_allclose(stats.mean, x32.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov, np.cov(x32, rowvar=False), rtol=1e-9, atol=1e-12)
    assert stats.count == 1000


def test_merged_stats_equal_stats_of_all_samples():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((300, 8)), rng.standard_normal((200, 8)) + 1
    merged = FeatureStats.of(a).merge(FeatureStats.of(b))
    whole = FeatureStats.of(np.concatenate([a, b]))
    np.testing.assert_allclose(merged.cov, whole.cov, rtol=1e-12)
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-12)


def test_stats_reject_wrong_dimension_and_too_few_samples():
    with pytest.raises(ValueError):
        FeatureStats(4).update(np.zeros((3, 5)))
    with pytest.raises(ValueError):
        FeatureStats(4).update(np.zeros((1, 4))).cov


def test_diagonal_gaussians_match_closed_form():
    rng = np.random.default_rng(2)
    mu1, mu2 = rng.standard_normal(32), rng.standard_normal(32)
    s1, s2 = rng.uniform(0.1, 4, 32), rng.uniform(0.1, 4, 32)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected, rel=1e-10)


def test_full_covariances_match_scipy_sqrtm():
    rng = np.random.default_rng(3)
    mu1, mu2 = rng.standard_normal(20), rng.standard_normal(20)
    s1, s2 = random_psd(rng, 20), random_psd(rng, 20)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(mu1, s1, mu2, s2, sqrt_sigma1=sqrtm_psd(s1)) == pytest.approx(expected, rel=1e-8)


def test_fid_of_a_distribution_with_itself_is_zero():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((500, 64))
    stats = FeatureStats.of(x)
    assert frechet_distance(stats.mean, stats.cov, stats.mean, stats.cov) < 1e-9


@pytest.mark.parametrize("rank", [1, 5, 63])
def test_singular_covariances_give_finite_real_values(rank):
    rng = np.random.default_rng(5)
    s1, s2 = random_psd(rng, 128, rank), random_psd(rng, 128, rank)
    mu = np.zeros(128)
    value = frechet_distance(mu, s1, mu, s2)
    assert np.isfinite(value) and isinstance(value, float) and value >= 0
    assert frechet_distance(mu, s1, mu, s1) < 1e-6 * np.trace(s1)
    root = sqrtm_psd(s1)
    assert np.isrealobj(root) and np.all(np.isfinite(root))
    np.testing.assert_allclose(root @ root, s1, atol=1e-8)


def test_near_singular_and_fewer_samples_than_dimensions():
    rng = np.random.default_rng(6)
    s = np.diag(np.r_[np.ones(10), np.full(54, 1e-15)])
    s[0, 1] = s[1, 0] = -1e-17  # tiny asymmetric-looking round-off
    assert np.isfinite(frechet_distance(np.zeros(64), s, np.ones(64), s))
    few_a, few_b = rng.standard_normal((20, 256)), rng.standard_normal((20, 256)) + 0.5
    a, b = FeatureStats.of(few_a), FeatureStats.of(few_b)
    value = frechet_distance(a.mean, a.cov, b.mean, b.cov)
    assert np.isfinite(value) and value > frechet_distance(a.mean, a.cov, a.mean, a.cov)
