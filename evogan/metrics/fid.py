"""Fréchet distance between Gaussians fitted to feature sets (FID, Heusel et al. 2017, TTUR).

FID = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2})   (Heusel et al. 2017, Eq. 6).

Statistics are accumulated in float64 with :class:`FeatureStats` (streaming: sums and sums of
outer products, never all features), so any number of images fits in memory.
"""

from __future__ import annotations

import numpy as np
import torch


class FeatureStats:
    """Streaming float64 mean / unbiased covariance of feature vectors; mergeable."""

    def __init__(self, dim: int):
        self.dim = int(dim)
        self.count = 0
        self._sum = np.zeros(dim, dtype=np.float64)
        self._outer = np.zeros((dim, dim), dtype=np.float64)

    def update(self, features: np.ndarray | torch.Tensor) -> "FeatureStats":
        """Add a batch (n, dim) of features."""
        x = as_float64(features)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected features of shape (n, {self.dim}), got {tuple(x.shape)}")
        self.count += x.shape[0]
        self._sum += x.sum(axis=0)
        self._outer += x.T @ x
        return self

    def merge(self, other: "FeatureStats") -> "FeatureStats":
        """Add another accumulator's samples into this one (e.g. from another actor)."""
        if other.dim != self.dim:
            raise ValueError(f"cannot merge stats of dim {other.dim} into dim {self.dim}")
        self.count += other.count
        self._sum += other._sum
        self._outer += other._outer
        return self

    @property
    def mean(self) -> np.ndarray:
        self._require(1)
        return self._sum / self.count

    @property
    def cov(self) -> np.ndarray:
        """Unbiased sample covariance (divides by n - 1, as ``np.cov``)."""
        self._require(2)
        mu = self.mean
        return (self._outer - self.count * np.outer(mu, mu)) / (self.count - 1)

    def _require(self, n: int) -> None:
        if self.count < n:
            raise ValueError(f"need at least {n} samples, have {self.count}")

    @classmethod
    def of(cls, features: np.ndarray | torch.Tensor) -> "FeatureStats":
        """Statistics of one feature matrix (n, dim)."""
        return cls(features.shape[1]).update(features)


def as_float64(features: np.ndarray | torch.Tensor) -> np.ndarray:
    """A float64 numpy copy/view of a tensor or array (the precision all statistics use)."""
    if isinstance(features, torch.Tensor):
        features = features.detach().to("cpu", torch.float64).numpy()
    return np.asarray(features, dtype=np.float64)


def sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix via ``eigh``.

    Eigenvalues below zero (round-off on singular covariances) are clipped to 0, so the result
    is real and finite however rank-deficient the input.
    """
    sym = (matrix + matrix.T) / 2
    values, vectors = np.linalg.eigh(sym)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     sqrt_sigma1: np.ndarray | None = None) -> float:
    """FID between N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017, Eq. 6), in float64.

    Tr((S1 S2)^{1/2}) = Tr((S1^{1/2} S2 S1^{1/2})^{1/2}): the inner product is symmetric PSD, so
    its eigenvalues are real and clipped at 0 before the square root (no imaginary parts, no
    blow-up on singular covariances). Pass ``sqrt_sigma1`` (from :func:`sqrtm_psd`) to reuse the
    root of fixed real statistics.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}")
    root1 = sqrtm_psd(sigma1) if sqrt_sigma1 is None else np.asarray(sqrt_sigma1, np.float64)
    inner = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((inner + inner.T) / 2)
    tr_covmean = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    diff = mu1 - mu2
    fid = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean
    return float(max(fid, 0.0))


def fid_from_stats(real: FeatureStats, fake: FeatureStats) -> float:
    """FID between two :class:`FeatureStats`."""
    return frechet_distance(real.mean, real.cov, fake.mean, fake.cov)
